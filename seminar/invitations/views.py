"""The invitee's page: `/invitations/<token>` greets them, offers Accept (the registration form, pre-filled) and
Decline (one POST). Thin: read, call a service, render. Unknown and tampered links get the same 404."""

from __future__ import annotations

import hashlib

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address

from seminar.extensions import limiter
from seminar.invitations import services
from seminar.invitations.models import Invitation
from seminar.mail.outbox import add_composer
from seminar.registration.validation import InvalidDetails

bp = Blueprint("invitations", __name__)
# The outbox worker writes the invitations and reminders that the services record.
bp.record_once(lambda state: add_composer(state.app, services.COMPOSE_KIND, services.write_mail))


def _limit_per_ip() -> str:
    return current_app.config["RATELIMIT_SELF_SERVICE_PER_IP"]


def _limit_per_invitation() -> str:
    return current_app.config["RATELIMIT_SELF_SERVICE_PER_REGISTRATION"]


def _invitation_link() -> str:
    """The per-invitation limit's key: the token of the URL, hashed (kept out of the limiter's storage)."""
    return "invitation:" + hashlib.sha256(request.view_args["token"].encode()).hexdigest()


def accept_url(invitation: Invitation, token: str) -> str:
    """The registration form, pre-filled from the guest list (CONTRACTS: "Pre-filled from the query string")."""
    values = {"invitation": token, "first_name": invitation.first_name, "last_name": invitation.last_name,
              "email": invitation.email, "organisation": invitation.organisation}
    if invitation.category_id is not None:
        values["category"] = invitation.category_id
    return url_for("registration.register", slug=invitation.event.slug, **values)


def _page(invitation: Invitation, token: str, *, problem=None, message: str = "", status: int = 200):
    ended = services.has_ended(invitation.event)
    return render_template("invitations/invitation.html", invitation=invitation, event=invitation.event,
                           token=token, ended=ended, accept_url=None if ended else accept_url(invitation, token),
                           problem=problem, message=message), 410 if ended else status


@bp.get("/invitations/<token>")
def invitation(token: str):
    found = services.open_invitation(token)
    if found is None:
        abort(404)
    return _page(found, token)


@bp.post("/invitations/<token>/decline")
@limiter.limit(_limit_per_ip, key_func=get_remote_address)
@limiter.limit(_limit_per_invitation, key_func=_invitation_link)
def decline(token: str):
    message = request.form.get("message", "")
    try:
        services.decline(token, message)
    except services.InvitationNotFound:
        abort(404)
    except InvalidDetails as invalid:
        return _page(_found(token), token, problem=invalid.errors["message"], message=message, status=400)
    except services.InvitationError as refused:
        return _page(_found(token), token, problem=refused.message, status=409)
    flash(_("Your answer has been sent to the organisers. Thank you."), "success")
    return redirect(url_for("invitations.invitation", token=token), code=303)


def _found(token: str) -> Invitation:
    found = services.find_by_token(token)
    if found is None:
        abort(404)
    return found
