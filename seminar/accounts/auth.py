"""Flask-Login wiring: loading the signed-in user from the session."""

from __future__ import annotations

import hmac

from seminar.accounts.models import User
from seminar.extensions import db, login_manager


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    # The id carries a nonce that changes with the password, so a password change ends other sessions.
    raw_id, _, nonce = user_id.partition(":")
    if not raw_id.isdigit():
        return None
    user = db.session.get(User, int(raw_id))
    if user is None or not hmac.compare_digest(user.session_nonce, nonce):
        return None
    return user
