"""Flask-Login wiring: loading the signed-in user from the session."""

from __future__ import annotations

import hmac

from seminar.accounts.access import turn_away_anonymous
from seminar.accounts.models import User
from seminar.extensions import db, login_manager

# `login_required` pages send anonymous visitors to the login page, as the staff blueprints do.
login_manager.unauthorized_handler(turn_away_anonymous)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    # The id carries a nonce that changes on sign-out and with the password, role or status: a session whose
    # cookie carries an older nonce (a copy taken before sign-out, another browser) is no longer signed in.
    raw_id, _, nonce = user_id.partition(":")
    if not raw_id.isdigit():
        return None
    user = db.session.get(User, int(raw_id))
    if user is None or not hmac.compare_digest(user.session_nonce, nonce):
        return None
    return user
