"""Badge pages: a registrant's own badge, and the back-office export (background job, progress, download)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from seminar.accounts.access import STAFF, require_roles
from seminar.badges.layouts import LAYOUTS
from seminar.badges.services import BadgeRequestError, own_badge_pdf, start_badge_export
from seminar.events.models import Event
from seminar.events.services import get_event
from seminar.extensions import db
from seminar.jobs.models import Job, JobStatus
from seminar.jobs.services import get_job_result, job_progress

bp = Blueprint("badges", __name__)
admin_bp = require_roles(Blueprint("badges_admin", __name__, url_prefix="/admin/events/<slug>/badges"), *STAFF)


def _pdf_response(pdf: bytes, name: str, *, attachment: bool):
    disposition = "attachment" if attachment else "inline"
    return pdf, 200, {
        "Content-Type": "application/pdf",
        "Content-Disposition": f'{disposition}; filename="{name}"',
        "Cache-Control": "private, no-store",
        "X-Robots-Tag": "noindex",
    }


@bp.get("/registrations/<token>/badge.pdf")
def own_badge(token: str):
    from seminar.registration.services import find_by_token

    registration = find_by_token(token)
    if registration is None:
        abort(404)
    pdf = own_badge_pdf(registration)
    if pdf is None:
        abort(404, description=_("A badge is available once your registration is confirmed."))
    return _pdf_response(pdf, f"badge-{registration.event.slug}.pdf", attachment=False)


# --- back-office ------------------------------------------------------------------------------------


def _event(slug: str) -> Event:
    event = get_event(slug)
    if event is None:
        abort(404)
    return event


def _job(event: Event, job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None or job.event_id != event.id or job.kind != "badge_export":
        abort(404)
    return job


def job_status(job: Job, slug: str) -> dict:
    """The JSON the progress bar polls."""
    return {**job_progress(job), "download_url": url_for("badges_admin.download", slug=slug, job_id=job.id)
            if job.status is JobStatus.done else None}


@admin_bp.get("/")
def index(slug: str):
    event = _event(slug)
    jobs = db.session.scalars(
        db.select(Job).where(Job.event_id == event.id, Job.kind == "badge_export")
        .order_by(Job.created_at.desc()).limit(10)
    ).all()
    current = next((job for job in jobs if job.id == request.args.get("job", type=int)), None)
    return render_template("badges/admin.html", event=event, jobs=jobs, layouts=LAYOUTS, current_job=current)


@admin_bp.post("/")
def start(slug: str):
    event = _event(slug)
    session_id = request.form.get("session", type=int) or None
    status = request.form.get("status", "confirmed") or "confirmed"
    ids = request.form.getlist("registration_ids", type=int) or None
    try:
        job_id = start_badge_export(
            event.id, registration_ids=ids, status=status, session_id=session_id,
            layout=request.form.get("layout", "a4-4"), user_id=current_user.id,
        )
    except BadgeRequestError:
        flash(_("These badge settings are not valid: choose a layout, a status and a session from the lists."),
              "error")
        return redirect(url_for("badges_admin.index", slug=slug))
    if request.accept_mimetypes.best == "application/json":
        return {"job_id": job_id, "status_url": url_for("badges_admin.status", slug=slug, job_id=job_id)}, 202
    flash(_("The badges are being prepared."), "success")
    return redirect(url_for("badges_admin.index", slug=slug, job=job_id))


@admin_bp.get("/jobs/<int:job_id>")
def status(slug: str, job_id: int):
    event = _event(slug)
    return job_status(_job(event, job_id), event.slug)


@admin_bp.get("/jobs/<int:job_id>/download")
def download(slug: str, job_id: int):
    event = _event(slug)
    job = _job(event, job_id)
    if job.status is JobStatus.expired:
        abort(410, description=_("This export is no longer kept: prepare the badges again."))
    result = get_job_result(job.id)
    if result is None:
        abort(404, description=_("These badges are not ready."))
    return _pdf_response(result.data, result.name, attachment=True)
