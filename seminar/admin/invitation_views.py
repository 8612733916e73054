"""The event's guest list in the back-office: who is invited and what they answered, an import, one more by
hand, and the buttons that send the invitations and the reminders (seminar.invitations.services)."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from seminar.admin import spreadsheets
from seminar.admin.blueprint import bp, event_or_404
from seminar.admin.forms import GuestForm
from seminar.extensions import db
from seminar.formatting import locale_code
from seminar.invitations import services as invitations
from seminar.invitations.models import Invitation, invitation_state_label
from seminar.registration.validation import InvalidDetails


def _page(event, *, form=None, report=None, status=200):
    guests = list(db.session.scalars(select(Invitation).where(Invitation.event_id == event.id)
                                     .order_by(Invitation.last_name, Invitation.first_name)))
    form = form or GuestForm()
    form.category_id.choices = [("", "—")] + [(str(c.id), c.label_for(locale_code()))
                                              for c in event.categories]
    return render_template("admin/invitations.html", event=event, guests=guests, form=form, report=report,
                           counts=invitations.guest_list_status(event.id),
                           not_sent=sum(1 for g in guests if g.sent_at is None),
                           state_label=invitation_state_label), status


@bp.get("/events/<slug>/invitations")
def invitations_page(slug: str):
    return _page(event_or_404(slug))


@bp.post("/events/<slug>/invitations/import")
def invitations_import(slug: str):
    event = event_or_404(slug)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a CSV or XLSX file first."), "error")
        return redirect(url_for("admin.invitations_page", slug=slug))
    report = invitations.import_guest_list(event.id, upload.read(), user=current_user._get_current_object())
    if report.error:
        flash(report.error, "error")
    else:
        flash(ngettext("%(num)d guest added.", "%(num)d guests added.", len(report.added)), "success")
    return _page(event, report=report)


@bp.post("/events/<slug>/invitations/add")
def invitations_add(slug: str):
    event = event_or_404(slug)
    form = GuestForm()
    if form.validate_on_submit():
        try:
            invitations.add_invitee(
                event.id, first_name=form.first_name.data, last_name=form.last_name.data, email=form.email.data,
                organisation=form.organisation.data or "", language=form.language.data,
                category_id=int(form.category_id.data) if form.category_id.data else None,
                user=current_user._get_current_object())
        except InvalidDetails as invalid:
            for name, message in invalid.errors.items():
                if name in form:
                    form[name].errors = [*form[name].errors, message]
        else:
            flash(_("Guest added to the list; the invitation is sent with the next sending."), "success")
            return redirect(url_for("admin.invitations_page", slug=slug))
    return _page(event, form=form, status=400)


@bp.post("/events/<slug>/invitations/<any(send, remind):what>")
def invitations_send(slug: str, what: str):
    event = event_or_404(slug)
    send = invitations.send_invitations if what == "send" else invitations.send_reminders
    try:
        sent = send(event.id, user=current_user._get_current_object())
    except invitations.InvitationError as refused:
        flash(str(refused.message), "error")
    else:
        flash(ngettext("%(num)d e-mail queued.", "%(num)d e-mails queued.", sent) if sent
              else _("Nobody to write to."), "success")
    return redirect(url_for("admin.invitations_page", slug=slug))


@bp.get("/events/<slug>/invitations/export")
def invitations_export(slug: str):
    event = event_or_404(slug)
    export = spreadsheets.export_guest_list(event, request.args.get("format", "csv"), locale=locale_code(),
                                            user=current_user._get_current_object())
    return Response(export.content, mimetype=export.mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{export.filename}"'})
