"""Public registration pages and the registrant's self-service pages (thin: read, call a service, render)."""

from __future__ import annotations

import hashlib
import json

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest

from seminar.badges.qr import checkin_qr_svg
from seminar.events.models import Event
from seminar.events.services import get_event
from seminar.extensions import limiter
from seminar.inputs import parse_id
from seminar.invitations import services as invitations
from seminar.mail.outbox import add_composer
from seminar.registration import invitation_requests, notifications, services
from seminar.registration.forms import DetailsForm, InvitationRequestForm, RegistrationForm, SessionsForm
from seminar.registration.models import Registration, RegistrationStatus
from seminar.registration.occupancy import event_occupancy
from seminar.registration.services import InvalidDetails, RegistrationError
from seminar.registration.validation import email_key

bp = Blueprint("registration", __name__)
# The outbox worker writes the registrant e-mails that the services record (`notifications.notify`).
bp.record_once(lambda state: add_composer(state.app, notifications.COMPOSE_KIND, notifications.write_mail))
# What the registration and self-service forms show: the categories and the round tables.
FORM_PARTS = ("categories", "sessions")


def _limit_per_ip() -> str:
    return current_app.config["RATELIMIT_REGISTRATION_PER_IP"]


def _limit_per_email() -> str:
    return current_app.config["RATELIMIT_REGISTRATION_PER_EMAIL"]


def _email_typed() -> str:
    """The per-address limit's key: the address typed, as the one-registration-per-address rule reads it;
    hashed, to keep addresses out of the limiter's storage and log."""
    return "email:" + hashlib.sha256(email_key(request.form.get("email", "")).encode()).hexdigest()


def _limit_self_service_per_ip() -> str:
    return current_app.config["RATELIMIT_SELF_SERVICE_PER_IP"]


def _limit_self_service_per_registration() -> str:
    return current_app.config["RATELIMIT_SELF_SERVICE_PER_REGISTRATION"]


def _self_service_link() -> str:
    """The per-registration limit's key: the self-service token of the URL, hashed (kept out of the limiter)."""
    return "registration:" + hashlib.sha256(request.view_args["token"].encode()).hexdigest()


def _registered(response: Response) -> bool:
    """The limits count the POSTs that registered someone (redirected to the thanks page), not a form sent back
    with errors: colleagues behind one address who mistype are not locked out."""
    return 300 <= response.status_code < 400


def _event_or_404(slug: str, *parts: str) -> Event:
    event = get_event(slug, *parts)
    if event is None:
        abort(404)
    return event


def _locale() -> str:
    return str(get_locale())


def _round_tables(event: Event):
    return [s for s in event.sessions if s.takes_registrations]


def _show_errors(form, invalid: InvalidDetails) -> None:
    for name, message in invalid.errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]


@bp.route("/events/<slug>/register", methods=["GET", "POST"])
@limiter.limit(_limit_per_ip, key_func=get_remote_address, methods=["POST"], deduct_when=_registered)
@limiter.limit(_limit_per_email, key_func=_email_typed, methods=["POST"], deduct_when=_registered)
def register(slug: str):
    problem = None
    invitation = _invitation(slug, request.values.get("invitation", ""))
    if request.method == "POST":
        # Nothing read before the service: it checks the event, that registration is open (and by invitation
        # only, if so), the category and the round tables itself, in one statement. The page is built only if it
        # has to be shown again.
        form = RegistrationForm()
        if invitation is not None:
            form.email.data = invitation.email  # the invitation's address, whatever was sent
        if form.validate():
            try:
                outcome = services.register(slug, form.details(consent_privacy=True), form.session_ids(),
                                            locale=_locale(), require_category=True, invited=invitation is not None)
            except InvalidDetails as invalid:
                _show_errors(form, invalid)
            except RegistrationError as refused:
                problem = refused.message
            else:
                _remember_registration(slug, outcome)
                return redirect(url_for("registration.thanks", slug=slug), code=303)
    else:
        form = RegistrationForm(formdata=request.args or None)
        if invitation is not None:
            form.email.data = invitation.email
    return _register_page(_event_or_404(slug, *FORM_PARTS), form, problem=problem, invitation=invitation)


def _invitation(slug: str, token: str):
    """The invitation a registration link carries, when it is one of this event's (else None)."""
    invitation = invitations.find_by_token(token) if token else None
    return invitation if invitation is not None and invitation.event.slug == slug else None


def _register_page(event: Event, form: RegistrationForm, *, problem=None, session_expired=False, status=200,
                   invitation=None, request_form=None):
    form.offer(event, _locale()).offer_sessions(_round_tables(event))
    return render_template(
        "registration/register.html", event=event, form=form, problem=problem, session_expired=session_expired,
        round_tables=_round_tables(event), occupancy=event_occupancy(event), invitation=invitation,
        invitation_token=request.values.get("invitation", "") if invitation else "",
        request_form=request_form or InvitationRequestForm(formdata=None),
    ), status


@bp.post("/events/<slug>/request-invitation")
@limiter.limit(_limit_per_ip, key_func=get_remote_address)
def request_invitation(slug: str):
    """An invitation-only event's page: someone asks the organisers for an invitation (they get an e-mail)."""
    event = _event_or_404(slug, *FORM_PARTS)
    if not event.invitation_only:
        abort(404)
    form = InvitationRequestForm()
    if form.validate():
        try:
            invitation_requests.request_invitation(event, invitation_requests.InvitationRequest(
                form.first_name.data, form.last_name.data, form.email.data, form.organisation.data or "",
                form.message.data or ""))
        except InvalidDetails as invalid:
            _show_errors(form, invalid)
        else:
            flash(_("Your request has been sent to the organisers. They will answer you by e-mail."), "success")
            return redirect(url_for("registration.register", slug=slug), code=303)
    return _register_page(event, RegistrationForm(formdata=None), request_form=form, status=400)


@bp.errorhandler(CSRFError)
def _form_expired(error: CSRFError):
    """The registration form sent without a valid CSRF token, most often because the session expired while the
    visitor was typing: shown again as typed, with a fresh token and a word to check and send it again; nothing
    is saved (400: the request was not carried out). The blueprint's other forms keep the site's 400 page."""
    is_registration = request.endpoint == "registration.register"
    event = get_event(request.view_args["slug"], *FORM_PARTS) if is_registration else None
    if event is None:
        # A plain BadRequest finds no handler here, so the app's error page answers, as for any bad request.
        return current_app.handle_http_exception(BadRequest(error.description))
    return _register_page(event, RegistrationForm(), session_expired=True, status=400)


@bp.get("/events/<slug>/register/thanks")
def thanks(slug: str):
    """What the registration gave: the place, or the position on the waiting list, of the event and of each round
    table. Only for the browser that registered someone new (remembered in its session): an address registered
    before is told nothing here, its link goes to that address by e-mail."""
    event = _event_or_404(slug, "venue")
    registration = services.just_registered(session.get(_JUST_REGISTERED, {}).get(slug))
    if registration is None or registration.event_id != event.id:
        return render_template("registration/thanks.html", event=event, registration=None)
    standing, seats = notifications.standing(registration)
    return render_template("registration/thanks.html", event=event, registration=registration, standing=standing,
                           seats=seats)


# The session key under which a browser remembers, per event, the registration it has just created.
_JUST_REGISTERED = "registered"


def _remember_registration(slug: str, outcome: services.RegistrationOutcome) -> None:
    if outcome.created:
        session[_JUST_REGISTERED] = {**session.get(_JUST_REGISTERED, {}), slug: outcome.registration_id}


@bp.get("/events/<slug>/privacy")
def privacy(slug: str):
    return render_template("registration/privacy.html", event=_event_or_404(slug, "venue"))


# --- self-service ------------------------------------------------------------------------------------

def _registration_or_404(token: str) -> Registration:
    registration = services.find_by_token(token)
    if registration is None:
        abort(404)
    return registration


@bp.after_request
def _private(response: Response) -> Response:
    if request.view_args and ("token" in request.view_args or "code" in request.view_args):
        # The URL is a secret: keep it out of Referer headers, caches and search engines.
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Robots-Tag"] = "noindex"
    return response


def _manage_page(registration: Registration, token: str, details_form=None, sessions_form=None, status=200):
    event = _event_or_404(registration.event.slug, *FORM_PARTS)
    held = [str(seat.session_id) for seat in registration.active_seats()]
    if details_form is None:
        current = {name: getattr(registration, name) for name in (
            "first_name", "last_name", "email", "organisation", "job_title", "dietary", "accessibility",
            "consent_listing")}
        details_form = DetailsForm(formdata=None, data={**current, "category": str(registration.category_id or "")})
    details_form.offer(event, _locale())
    sessions_form = sessions_form or SessionsForm(formdata=None, sessions=held)
    sessions_form.offer_sessions(_round_tables(event))
    standing, seats = notifications.standing(registration)
    return render_template(
        "registration/manage.html", event=event, registration=registration, token=token, standing=standing,
        seats=seats, details_form=details_form, sessions_form=sessions_form, round_tables=_round_tables(event),
        occupancy=event_occupancy(event), statuses=RegistrationStatus,
        checkin_qr=checkin_qr_svg(registration) if registration.status is RegistrationStatus.confirmed else None,
    ), status


@bp.get("/registrations/<token>")
def manage(token: str):
    return _manage_page(_registration_or_404(token), token)


@bp.post("/registrations/<token>/details")
@limiter.limit(_limit_self_service_per_ip, key_func=get_remote_address)
@limiter.limit(_limit_self_service_per_registration, key_func=_self_service_link)
def edit_details(token: str):
    """The details are saved; a new address is e-mailed a link to confirm it. The answer is the same whether
    another registration of the event uses that address or not."""
    registration = _registration_or_404(token)
    form = DetailsForm().offer(registration.event, _locale())
    if form.validate():
        try:
            new_address = services.update_details(registration.id, form.details(consent_privacy=True))
        except InvalidDetails as invalid:
            _show_errors(form, invalid)
        else:
            flash(_("Your details have been saved. We sent a confirmation link to the new address: your address "
                    "changes when you follow it.") if new_address else _("Your details have been saved."), "success")
            return redirect(url_for("registration.manage", token=token), code=303)
    return _manage_page(_registration_or_404(token), token, details_form=form)


@bp.get("/registrations/confirm-email/<code>")
def email_change(code: str):
    """The page of the link e-mailed to a new address: what it changes, and the button that does it (a POST;
    mail scanners follow links)."""
    try:
        change = services.find_email_change(code)
    except services.EmailChangeRefused as refused:
        return render_template("registration/email_change.html", problem=refused.message), 400
    return render_template("registration/email_change.html", event=change.registration.event,
                           new_email=change.new_email, code=code)


@bp.post("/registrations/confirm-email/<code>")
@limiter.limit(_limit_self_service_per_ip, key_func=get_remote_address)
def confirm_email(code: str):
    try:
        token = services.confirm_email_change(code)
    except services.EmailChangeRefused as refused:
        return render_template("registration/email_change.html", problem=refused.message), 400
    flash(_("Your e-mail address has been changed."), "success")
    return redirect(url_for("registration.manage", token=token), code=303)


@bp.post("/registrations/<token>/sessions")
def edit_sessions(token: str):
    registration = _registration_or_404(token)
    form = SessionsForm().offer_sessions(_round_tables(registration.event))
    if form.validate():
        try:
            services.change_sessions(registration.id, form.session_ids())
        except InvalidDetails as invalid:
            _show_errors(form, invalid)
        except RegistrationError as refused:
            flash(str(refused.message), "error")
            return redirect(url_for("registration.manage", token=token), code=303)
        else:
            flash(_("Your round tables have been updated."), "success")
            return redirect(url_for("registration.manage", token=token), code=303)
    return _manage_page(_registration_or_404(token), token, sessions_form=form)


@bp.get("/registrations/<token>/cancel")
def confirm_cancel(token: str):
    """What cancelling would give up, and the button that does it (a POST)."""
    registration = _registration_or_404(token)
    if registration.status is RegistrationStatus.cancelled:
        return redirect(url_for("registration.manage", token=token), code=303)
    standing, seats = notifications.standing(registration)
    return render_template("registration/cancel.html", event=registration.event, registration=registration,
                           token=token, standing=standing, seats=seats)


@bp.post("/registrations/<token>/cancel")
def cancel(token: str):
    registration = _registration_or_404(token)
    services.cancel(registration.id)
    flash(_("Your registration is cancelled. We have sent you a confirmation by e-mail."), "success")
    return redirect(url_for("registration.manage", token=token), code=303)


@bp.post("/registrations/<token>/register-again")
def register_again(token: str):
    registration = _registration_or_404(token)
    try:
        status = services.restore(registration.id, while_open=True)
    except RegistrationError as refused:
        flash(str(refused.message), "error")
    else:
        flash(_("You are registered again: your place is confirmed.") if status is RegistrationStatus.confirmed
              else _("You are registered again, on the waiting list."), "success")
    return redirect(url_for("registration.manage", token=token), code=303)


@bp.post("/registrations/<token>/leave-waitlist")
def leave_waitlist(token: str):
    registration = _registration_or_404(token)
    raw = request.form.get("session_id", "")
    session_id = parse_id(raw)
    try:
        services.leave_waitlist(registration.id, session_id)
    except RegistrationError as refused:
        flash(str(refused.message), "error")
    else:
        flash(_("You have left the waiting list."), "success")
    return redirect(url_for("registration.manage", token=token), code=303)


@bp.get("/registrations/<token>/data.json")
def download_data(token: str):
    registration = _registration_or_404(token)
    body = json.dumps(services.export_data(registration.id), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="registration-{registration.event.slug}.json"',
    })


@bp.post("/registrations/<token>/erase")
def erase(token: str):
    registration = _registration_or_404(token)
    if request.form.get("confirm") != "yes":
        flash(_("Tick the box to confirm that your data should be deleted."), "error")
        return redirect(url_for("registration.manage", token=token) + "#erase", code=303)
    slug = registration.event.slug
    services.erase(registration.id)
    flash(_("Your registration and your personal data have been deleted."), "success")
    return redirect(url_for("events.event_page", slug=slug), code=303)
