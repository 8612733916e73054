"""Back-office pages: events, dashboard, and (in the modules imported below) programme and registrants."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from seminar.admin import statistics
from seminar.admin.blueprint import bp, event_or_404, notify_choice, show_problems
from seminar.admin.forms import EventForm, LogoForm
from seminar.audit.services import recent_entries
from seminar.events import programme
from seminar.events.services import list_events
from seminar.registration.occupancy import event_occupancy


@bp.get("/")
def index():
    events = list_events()
    return render_template("admin/index.html", events=events)


def _event_details(form: EventForm) -> programme.EventDetails:
    tz = form.timezone.data.strip()
    try:
        local = programme.localise
        when = {name: (local(getattr(form, name).data, tz) if getattr(form, name).data else None)
                for name in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at")}
    except (KeyError, ValueError):
        raise programme.ProgrammeError({"timezone": _("Unknown time zone.")}) from None
    return programme.EventDetails(
        slug=form.slug.data.strip(), title=form.title.data.strip(), timezone=tz,
        capacity=form.capacity.data, invitation_only=form.invitation_only.data, **when,
        **{name: form[name].data or "" for name in (
            "subtitle", "description", "organiser", "contact_email", "title_en", "subtitle_en", "description_en",
            "organiser_en")})


def _naive_local(event, moment):
    return event.local(moment).replace(tzinfo=None) if moment else None


@bp.route("/events/new", methods=["GET", "POST"])
def event_new():
    form = EventForm()
    if form.validate_on_submit():
        try:
            event = programme.create_event(_event_details(form))
        except programme.ProgrammeError as error:
            show_problems(form, error.problems)
        else:
            flash(_("Event created."), "success")
            return redirect(url_for("admin.dashboard", slug=event.slug))
    return render_template("admin/event_form.html", form=form, event=None)


@bp.route("/events/<slug>/edit", methods=["GET", "POST"])
def event_edit(slug: str):
    event = event_or_404(slug)
    form = EventForm(obj=event) if request.method == "GET" else EventForm()
    if request.method == "GET":
        for name in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
            getattr(form, name).data = _naive_local(event, getattr(event, name))
        if event.registration_closes_at == event.starts_at:
            form.registration_closes_at.data = None  # the default: it follows the start when the start moves
    choice = None
    if form.validate_on_submit():
        try:
            event = programme.update_event(event.id, _event_details(form), notify=notify_choice())
        except programme.NotificationChoice as asked:
            choice = asked.people
        except programme.ProgrammeError as error:
            show_problems(form, error.problems)
        else:
            flash(_("Event saved."), "success")
            return redirect(url_for("admin.event_edit", slug=event.slug))
    return render_template("admin/event_form.html", form=form, event=event, choice=choice, logo_form=LogoForm())


@bp.post("/events/<slug>/logo")
def event_logo(slug: str):
    """The organiser's logo, in a form of its own: a file cannot be carried over when a save of the details stops
    to ask whether to tell the registrants. With `remove`, the logo goes."""
    event = event_or_404(slug)
    removing = "remove" in request.form
    upload = request.files.get("logo")
    image = upload.read(programme.PHOTO_MAX_BYTES + 1) if upload and upload.filename else None
    if image is None and not removing:
        flash(_("Choose an image file first."), "error")
        return redirect(url_for("admin.event_edit", slug=slug, _anchor="logo"))
    try:
        programme.set_organiser_logo(event.id, None if removing else image)
    except programme.ProgrammeError as error:
        flash(error.problems["logo"], "error")
    else:
        flash(_("Logo removed.") if "remove" in request.form else _("Logo saved."), "success")
    return redirect(url_for("admin.event_edit", slug=slug, _anchor="logo"))


@bp.post("/events/<slug>/delete")
def event_delete(slug: str):
    event = event_or_404(slug)
    if request.form.get("confirm_slug", "").strip() != event.slug:
        flash(_("Type the event's address (%(slug)s) to confirm its deletion.", slug=event.slug), "error")
        return redirect(url_for("admin.event_edit", slug=event.slug))
    programme.delete_event(event.id)
    flash(_("Event deleted."), "success")
    return redirect(url_for("admin.index"))


@bp.get("/events/<slug>/")
def dashboard(slug: str):
    event = event_or_404(slug)
    stats = statistics.event_statistics(event, locale=str(get_locale()))
    undelivered, undelivered_count = statistics.undelivered_mail(event.id)
    return render_template(
        "admin/dashboard.html", event=event, stats=stats, occupancy=event_occupancy(event),
        undelivered=undelivered, undelivered_count=undelivered_count,
        timeline_svg=statistics.timeline_svg(stats.per_day, label=_("Registrations per day")),
        category_svg=statistics.bars_svg(stats.per_category, label=_("Registrations by category")),
        activity=recent_entries(event_id=event.id, limit=15))


from seminar.admin import (  # noqa: E402,F401  (they add routes to `bp`)
    invitation_views,
    list_views,
    programme_views,
    registrant_views,
)
