"""Registrants pages: table, detail, manual registration, actions, exports, import, e-mail to attendees."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from seminar.admin import imports, mailing, registrants, spreadsheets
from seminar.admin.blueprint import bp, event_or_404, show_problems
from seminar.admin.forms import ImportForm, MailingForm, ManualRegistrationForm
from seminar.admin.registrants import RegistrantFilters
from seminar.events.models import SessionKind
from seminar.events.programme import ProgrammeError
from seminar.formatting import locale_code
from seminar.inputs import parse_id
from seminar.jobs.models import Job, JobStatus
from seminar.jobs.services import get_job, get_job_result, job_progress
from seminar.registration import services as registration
from seminar.registration.models import BadgeRole, RegistrationStatus, badge_role_label, status_label
from seminar.registration.occupancy import event_occupancy


def _round_tables(event):
    return [s for s in event.sessions if s.kind is SessionKind.round_table]


def _user():
    return current_user._get_current_object()


@bp.get("/events/<slug>/registrations")
def registrations(slug: str):
    event = event_or_404(slug)
    filters = RegistrantFilters.from_args(request.args)
    page = registrants.registrant_page(event.id, filters, request.args.get("page", 1, type=int) or 1,
                                       request.args.get("per_page", 50, type=int) or 50)
    return render_template(
        "admin/registrations.html", event=event, filters=filters, page=page,
        categories=registrants.categories(event.id), round_tables=_round_tables(event),
        sessions_by_id={s.id: s for s in event.sessions}, statuses=list(RegistrationStatus),
        occupancy=event_occupancy(event), page_sizes=registrants.PAGE_SIZES,
        speaker_matches=registrants.speaker_matches(event.id), badge_role_label=badge_role_label)


@bp.get("/events/<slug>/registrations/export")
def registrations_export(slug: str):
    event = event_or_404(slug)
    filters = RegistrantFilters.from_args(request.args)
    export = spreadsheets.export_registrants(
        event, filters, request.args.get("format", "csv"), delimiter=request.args.get("delimiter", ","),
        by_round_table=request.args.get("by_round_table") == "1", locale=locale_code(), user=_user())
    return Response(export.content, mimetype=export.mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{export.filename}"'})


def _manual_form(event) -> ManualRegistrationForm:
    form = ManualRegistrationForm()
    form.category.choices = [("", _("No category"))] + [
        (str(c.id), c.label_for(locale_code())) for c in registrants.categories(event.id)]
    form.sessions.choices = [(s.id, s.title) for s in _round_tables(event)]
    return form


@bp.route("/events/<slug>/registrations/new", methods=["GET", "POST"])
def registration_new(slug: str):
    event = event_or_404(slug)
    form = _manual_form(event)
    if request.method == "GET":
        form.locale.data = locale_code()
    if form.validate_on_submit():
        details = registration.RegistrationDetails(
            first_name=form.first_name.data, last_name=form.last_name.data, email=form.email.data,
            organisation=form.organisation.data or "", job_title=form.job_title.data or "",
            category_id=int(form.category.data) if form.category.data else None, consent_privacy=False)
        try:
            outcome = registrants.register_manually(event.id, details, form.sessions.data or [],
                                                    locale=form.locale.data, overbook=form.overbook.data,
                                                    notify=form.notify.data, user=_user())
        except registration.InvalidDetails as invalid:
            show_problems(form, {k: str(v) for k, v in invalid.errors.items()})
        except registration.RegistrationError as error:
            flash(str(error.message), "error")
        else:
            if outcome.created:
                flash(_("Registered: %(status)s.", status=status_label(outcome.status)), "success")
            else:
                flash(_("This address is already registered: here is that registration."), "error")
            return redirect(url_for("admin.registration_detail", slug=slug, registration_id=outcome.registration_id))
    return render_template("admin/registration_new.html", event=event, form=form)


@bp.get("/events/<slug>/registrations/<int:registration_id>")
def registration_detail(slug: str, registration_id: int):
    event = event_or_404(slug)
    person = registrants.get_registrant(event.id, registration_id) or abort(404)
    from seminar.audit.services import recent_entries

    history = [e for e in recent_entries(event_id=event.id, action_prefix="registration.", limit=500)
               if e.target_id == person.id]
    return render_template("admin/registration_detail.html", event=event, person=person, history=history,
                           badge_roles=[(role.value, badge_role_label(role)) for role in BadgeRole])


@bp.post("/events/<slug>/registrations/<int:registration_id>/badge-role")
def registration_badge_role(slug: str, registration_id: int):
    """What the badge says the person is; from the registrant's page, or one click on a speaker's match."""
    event = event_or_404(slug)
    try:
        role = BadgeRole(request.form.get("badge_role", ""))
        registrants.set_badge_role(event.id, registration_id, role, user=_user())
    except ValueError:
        flash(_("Choose a badge role from the list."), "error")
    except LookupError:
        abort(404)
    else:
        flash(_("Badge role saved: %(role)s.", role=badge_role_label(role)), "success")
    if request.form.get("back") == "list":
        return redirect(url_for("admin.registrations", slug=slug, _anchor="speaker-matches"))
    return redirect(url_for("admin.registration_detail", slug=slug, registration_id=registration_id))


@bp.post("/events/<slug>/registrations/<int:registration_id>/<any(cancel, restore, send_link):action>")
def registration_action(slug: str, registration_id: int, action: str):
    event = event_or_404(slug)
    if registrants.get_registrant(event.id, registration_id) is None:
        abort(404)
    try:
        if action == "cancel":
            promoted = registrants.cancel(event.id, registration_id, user=_user())
            flash(_("Registration cancelled.") + " " + _("Promoted from the waiting list: %(num)d.",
                                                          num=len(promoted)), "success")
        elif action == "restore":
            status = registrants.restore(event.id, registration_id, user=_user())
            flash(_("Registration restored: %(status)s.", status=status_label(status)), "success")
        else:
            registrants.resend_link(event.id, registration_id, user=_user())
            flash(_("The self-service link has been sent again."), "success")
    except registration.RegistrationError as error:
        flash(str(error.message), "error")
    return redirect(url_for("admin.registration_detail", slug=slug, registration_id=registration_id))


@bp.route("/events/<slug>/registrations/<int:registration_id>/promote", methods=["GET", "POST"])
def registration_promote(slug: str, registration_id: int):
    """Promote this registrant (or their seat in `session`) beyond capacity: a page stating what will be
    exceeded, then the confirming POST."""
    event = event_or_404(slug)
    person = registrants.get_registrant(event.id, registration_id) or abort(404)
    session_id = request.values.get("session", type=int)
    session = next((s for s in event.sessions if s.id == session_id), None)
    if session_id is not None and session is None:
        abort(404)
    back = url_for("admin.registration_detail", slug=slug, registration_id=registration_id)
    if request.method == "POST":
        try:
            overbooked = registrants.promote_one(event.id, registration_id, session_id, user=_user())
        except registration.RegistrationError as error:
            flash(str(error.message), "error")
        else:
            flash(_("%(name)s is confirmed beyond capacity.", name=person.full_name) if overbooked
                  else _("%(name)s is confirmed.", name=person.full_name), "success")
        return redirect(back)
    occupancy = event_occupancy(event)
    return render_template("admin/registration_promote.html", event=event, person=person, session=session,
                           occupancy=occupancy.session(session) if session else occupancy.event, back=back)


@bp.post("/events/<slug>/registrations/promote")
def registrations_promote(slug: str):
    event = event_or_404(slug)
    session_id = request.form.get("session", type=int)
    try:
        promoted = registrants.promote(event.id, session_id, user=_user())
    except registration.RegistrationError as error:
        flash(str(error.message), "error")
    else:
        flash(_("Promoted from the waiting list: %(num)d.", num=len(promoted)), "success")
    return redirect(url_for("admin.registrations", slug=slug))


# Import ------------------------------------------------------------------------------------------------

@bp.route("/events/<slug>/registrations/import", methods=["GET", "POST"])
def import_registrations(slug: str):
    """Upload → preview (nothing imported; the file is kept on the server) → confirm: imported at once, or by a
    background job whose page shows the progress and then the report."""
    event = event_or_404(slug)
    form = ImportForm()
    preview = report = upload_id = None
    if form.validate_on_submit():
        if request.form.get("confirm") == "1":
            try:
                started = imports.confirm_import(event, parse_id(request.form.get("upload")) or 0,
                                                 send_email=form.send_email.data, locale=locale_code(), user=_user())
            except imports.UploadGone:
                flash(_("This file is no longer kept on the server (already imported, or too old): choose it "
                        "again."), "error")
                return redirect(url_for("admin.import_registrations", slug=slug))
            if started.job_id is not None:
                return redirect(url_for("admin.import_job", slug=slug, job_id=started.job_id), code=303)
            report = started.report
        else:
            upload = form.file.data
            data = upload.read() if upload and getattr(upload, "filename", "") else None
            if not data:
                form.file.errors = [_("Choose a CSV file.")]
            else:
                preview = imports.read_import(event, data)
                if preview.ready:
                    upload_id = imports.keep_upload(event.id, data, upload.filename, user_id=current_user.id)
    return render_template("admin/import.html", event=event, form=form, preview=preview, report=report,
                           upload_id=upload_id, sync_max=current_app.config["IMPORT_SYNC_MAX_ROWS"],
                           status_label=status_label)


def _import_job(event, job_id: int) -> Job:
    job = get_job(job_id)
    if job is None or job.event_id != event.id or job.kind != "registration_import":
        abort(404)
    return job


@bp.get("/events/<slug>/registrations/import/jobs/<int:job_id>")
def import_job(slug: str, job_id: int):
    """A background import: its progress (the page reloads itself when it ends), then its counts and report."""
    event = event_or_404(slug)
    job = _import_job(event, job_id)
    if request.accept_mimetypes.best == "application/json":
        return job_progress(job)
    return render_template("admin/import_job.html", event=event, job=job)


@bp.get("/events/<slug>/registrations/import/jobs/<int:job_id>/report.csv")
def import_job_report(slug: str, job_id: int):
    event = event_or_404(slug)
    job = _import_job(event, job_id)
    result = get_job_result(job.id)
    if result is None:
        abort(410 if job.status is JobStatus.expired else 404,
              description=_("This report is no longer kept.") if job.status is JobStatus.expired else None)
    return Response(result.data, mimetype=result.mimetype, headers={
        "Content-Disposition": f'attachment; filename="{result.name}"', "Cache-Control": "private, no-store"})


# E-mail to attendees -------------------------------------------------------------------------------------

@bp.route("/events/<slug>/mailing", methods=["GET", "POST"])
def mailing_page(slug: str):
    event = event_or_404(slug)
    filters = RegistrantFilters.from_args(request.values)
    form = MailingForm()
    people = mailing.recipients(event, filters)
    if form.validate_on_submit() and request.form.get("send") == "1":
        if request.form.get("expected", type=int) != len(people):
            flash(_("The recipients changed since the preview; check the count and send again."), "error")
        else:
            try:
                sent = mailing.send_mailing(event, filters, mailing.Mailing(form.subject.data, form.body.data),
                                            user=_user())
            except ProgrammeError as refused:
                show_problems(form, refused.problems)
            else:
                flash(_("%(num)d messages queued.", num=sent), "success")
                return redirect(url_for("admin.mailing_page", slug=slug, **filters.to_args()))
    sample = mailing.personalise(form.body.data, people[0]) if people and form.body.data else ""
    return render_template(
        "admin/mailing.html", event=event, form=form, filters=filters, people=people, sample=sample,
        previewing=form.is_submitted() and not form.errors, categories=registrants.categories(event.id),
        round_tables=_round_tables(event), statuses=list(RegistrationStatus))
