"""Programme pages of the back office: venue and rooms, sessions and their speakers, speakers."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

from seminar.admin.blueprint import bp, event_or_404, notify_choice, show_problems
from seminar.admin.forms import RoomForm, SessionForm, SpeakerForm, SpeakerRoleForm, VenueForm
from seminar.events import programme
from seminar.events.models import Session, SessionKind, SpeakerRole
from seminar.events.services import speaker_photo as speaker_photo_of
from seminar.registration.occupancy import event_occupancy


def _flash_problems(error: programme.ProgrammeError) -> None:
    for message in error.problems.values():
        flash(message, "error")


# Venue and rooms --------------------------------------------------------------------------------------

@bp.route("/events/<slug>/venue", methods=["GET", "POST"])
def venue(slug: str):
    event = event_or_404(slug)
    form = VenueForm(obj=event.venue)
    choice = None
    if form.validate_on_submit():
        details = programme.VenueDetails(**{name: (form[name].data or "").strip() for name in (
            "name", "street_address", "postal_code", "city", "country", "access_notes", "accessibility_notes",
            "map_url", "access_notes_en", "accessibility_notes_en")})
        try:
            programme.save_venue(event.id, details, notify=notify_choice())
        except programme.NotificationChoice as asked:
            choice = asked.people
        except programme.ProgrammeError as error:
            show_problems(form, error.problems)
        else:
            flash(_("Venue saved."), "success")
            return redirect(url_for("admin.venue", slug=slug))
    return render_template("admin/venue.html", event=event, form=form, room_form=RoomForm(prefix="room"),
                           choice=choice)


@bp.post("/events/<slug>/rooms")
@bp.post("/events/<slug>/rooms/<int:room_id>")
def room_save(slug: str, room_id: int | None = None):
    event = event_or_404(slug)
    form = RoomForm(prefix="room")
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(url_for("admin.venue", slug=slug))
    try:
        programme.save_room(event.id, form.name.data, form.capacity.data, room_id)
    except programme.ProgrammeError as error:
        _flash_problems(error)
    else:
        flash(_("Room saved."), "success")
    return redirect(url_for("admin.venue", slug=slug))


def _confirm_delete(event, *, what: str, consequence: str, action: str, back: str):
    """The page that asks before a deletion: it names what goes and what follows; only its POST deletes."""
    return render_template("admin/confirm_delete.html", event=event, what=what, consequence=consequence,
                           action=action, back=back)


def _confirm_room_delete(event, room_id: int):
    slug = event.slug
    room = next((r for r in (event.venue.rooms if event.venue else []) if r.id == room_id), None) or abort(404)
    held = [s for s in event.sessions if s.room_id == room.id]
    return _confirm_delete(
        event, what=_("the room “%(name)s”", name=room.name),
        consequence=ngettext("%(num)d session is held there: it will have no room, and the registrants holding a "
                             "seat in it are sent an updated calendar invite.",
                             "%(num)d sessions are held there: they will have no room, and the registrants "
                             "holding a seat in them are sent an updated calendar invite.", len(held))
        if held else _("No session is held there."),
        action=url_for("admin.room_delete", slug=slug, room_id=room.id), back=url_for("admin.venue", slug=slug))


def _confirm_session_delete(event, session_id: int):
    slug = event.slug
    session = next((s for s in event.sessions if s.id == session_id), None) or abort(404)
    holders = session.confirmed_count + session.waitlisted_count
    return _confirm_delete(
        event, what=_("the session “%(title)s”", title=session.title),
        consequence=ngettext("%(num)d registrant holds a seat or waits for one: they are sent a cancellation.",
                             "%(num)d registrants hold a seat or wait for one: they are sent a cancellation.",
                             holders) if holders else _("Nobody holds a seat in it."),
        action=url_for("admin.session_delete", slug=slug, session_id=session.id),
        back=url_for("admin.session_edit", slug=slug, session_id=session.id))


def _confirm_speaker_delete(event, speaker_id: int):
    slug = event.slug
    speaker = next((s for s in event.speakers if s.id == speaker_id), None) or abort(404)
    sessions = {link.session_id for link in speaker.session_links}
    return _confirm_delete(
        event, what=_("the speaker “%(name)s”", name=speaker.name),
        consequence=ngettext("They are removed from %(num)d session of the programme.",
                             "They are removed from %(num)d sessions of the programme.", len(sessions))
        if sessions else _("They take part in no session."),
        action=url_for("admin.speaker_delete", slug=slug, speaker_id=speaker.id),
        back=url_for("admin.speaker_edit", slug=slug, speaker_id=speaker.id))


@bp.route("/events/<slug>/rooms/<int:room_id>/delete", methods=["GET", "POST"])
def room_delete(slug: str, room_id: int):
    """GET: the page that asks first (it names the room and what follows); POST: delete."""
    event = event_or_404(slug)
    if request.method == "GET":
        return _confirm_room_delete(event, room_id)
    try:
        programme.delete_room(event.id, room_id)
    except programme.ProgrammeError as error:
        _flash_problems(error)
    else:
        flash(_("Room deleted."), "success")
    return redirect(url_for("admin.venue", slug=slug))


# Sessions -------------------------------------------------------------------------------------------

@bp.get("/events/<slug>/sessions")
def sessions(slug: str):
    event = event_or_404(slug)
    return render_template("admin/sessions.html", event=event, occupancy=event_occupancy(event))


# Empty speaker rows under the speakers a session already has (more through "Add a speaker", with JavaScript).
NEW_SESSION_SPEAKER_ROWS = 4
SESSION_SPEAKER_ROWS = 2


def _session_form(event, session: Session | None = None) -> SessionForm:
    form = SessionForm(obj=session) if request.method == "GET" else SessionForm()
    rooms = event.venue.rooms if event.venue else []
    form.room_id.choices = [("", _("No room"))] + [(str(r.id), r.name) for r in rooms]
    if request.method == "GET" and session is not None:
        form.kind.data = session.kind.value
        form.room_id.data = str(session.room_id or "")
        form.starts_at.data = event.local(session.starts_at).replace(tzinfo=None)
        form.ends_at.data = event.local(session.ends_at).replace(tzinfo=None)
    if request.method == "GET":
        for link in session.speaker_links if session is not None else []:
            form.speakers.append_entry({"linked": "1", "speaker_id": str(link.speaker_id), "role": link.role.value,
                                        "position": link.position})
        for _row in range(SESSION_SPEAKER_ROWS if session is not None else NEW_SESSION_SPEAKER_ROWS):
            form.speakers.append_entry({"position": len(form.speakers.entries) + 1})
    locale = str(get_locale())
    choices = [("", _("— a new person —"))] + [(str(s.id), s.credit(locale)) for s in event.speakers]
    for row in form.speakers:
        row.form.speaker_id.choices = choices
    return form


def _session_details(event, form: SessionForm) -> programme.SessionDetails:
    return programme.SessionDetails(
        kind=SessionKind(form.kind.data), title=form.title.data.strip(), description=form.description.data or "",
        title_en=(form.title_en.data or "").strip(), description_en=form.description_en.data or "",
        starts_at=programme.localise(form.starts_at.data, event.timezone),
        ends_at=programme.localise(form.ends_at.data, event.timezone),
        room_id=int(form.room_id.data) if form.room_id.data else None,
        capacity=form.capacity.data, position=form.position.data or 0)


def _speaker_lines(form: SessionForm) -> list[programme.SpeakerLine]:
    """The speaker rows, in the form's order (the service's problems name a row by its place in this list)."""
    rows = [row.form for row in form.speakers]  # a row's `form`: its FormField's own `name` is "speakers-0"
    return [programme.SpeakerLine(
        speaker_id=int(row.speaker_id.data) if row.speaker_id.data else None, name=row.name.data or "",
        title=row.title.data or "", affiliation=row.affiliation.data or "", role=SpeakerRole(row.role.data),
        position=row.position.data or 0, remove=bool(row.linked.data) and row.remove.data) for row in rows]


def _show_session_problems(form: SessionForm, problems: dict[str, str]) -> None:
    """`show_problems`, with a speaker row's problem ("speakers-1-name": its place in `_speaker_lines`, from 0)
    on that row's field."""
    others = {}
    for key, message in problems.items():
        place, _dash, name = key.removeprefix("speakers-").partition("-")
        if key.startswith("speakers-") and place.isdigit() and int(place) < len(form.speakers.entries):
            show_problems(form.speakers.entries[int(place)].form, {name: message})
        else:
            others[key] = message
    show_problems(form, others)


@bp.route("/events/<slug>/sessions/new", methods=["GET", "POST"])
def session_new(slug: str):
    event = event_or_404(slug)
    form = _session_form(event)
    if form.validate_on_submit():
        try:
            session = programme.create_session(event.id, _session_details(event, form),
                                               speakers=_speaker_lines(form))
        except programme.ProgrammeError as error:
            _show_session_problems(form, error.problems)
        else:
            flash(_("Session created."), "success")
            return redirect(url_for("admin.session_edit", slug=slug, session_id=session.id))
    return render_template("admin/session_form.html", event=event, form=form, session=None)


def _event_session(event, session_id: int) -> Session:
    session = next((s for s in event.sessions if s.id == session_id), None)
    if session is None:
        abort(404)
    return session


@bp.route("/events/<slug>/sessions/<int:session_id>", methods=["GET", "POST"])
def session_edit(slug: str, session_id: int):
    event = event_or_404(slug)
    session = _event_session(event, session_id)
    form = _session_form(event, session)
    choice = None
    if form.validate_on_submit():
        try:
            programme.update_session(session.id, _session_details(event, form), notify=notify_choice(),
                                     speakers=_speaker_lines(form))
        except programme.NotificationChoice as asked:
            choice = asked.people
        except programme.ProgrammeError as error:
            _show_session_problems(form, error.problems)
        else:
            flash(_("Session saved."), "success")
            return redirect(url_for("admin.session_edit", slug=slug, session_id=session_id))
    return render_template("admin/session_form.html", event=event, form=form, session=session, choice=choice,
                           occupancy=event_occupancy(event).session(session))


@bp.route("/events/<slug>/sessions/<int:session_id>/delete", methods=["GET", "POST"])
def session_delete(slug: str, session_id: int):
    """GET: the page that asks first (it says who is told); POST: delete."""
    event = event_or_404(slug)
    if request.method == "GET":
        return _confirm_session_delete(event, session_id)
    try:
        programme.delete_session(event.id, session_id)
    except programme.ProgrammeError as error:
        _flash_problems(error)
    else:
        flash(_("Session deleted; registrants holding a seat are sent a cancellation."), "success")
    return redirect(url_for("admin.sessions", slug=slug))


@bp.post("/events/<slug>/sessions/<int:session_id>/speakers")
def session_speaker_add(slug: str, session_id: int):
    event = event_or_404(slug)
    form = SpeakerRoleForm(prefix="role")
    form.speaker_id.choices = [(s.id, s.name) for s in event.speakers]
    if form.validate_on_submit():
        try:
            programme.set_speaker_role(event.id, session_id, form.speaker_id.data, SpeakerRole(form.role.data),
                                       form.position.data or 0)
        except programme.ProgrammeError as error:
            _flash_problems(error)
        else:
            flash(_("Speaker added to the session."), "success")
    else:
        flash(_("Choose a speaker and a role."), "error")
    return redirect(url_for("admin.session_edit", slug=slug, session_id=session_id))


@bp.post("/events/<slug>/sessions/<int:session_id>/speakers/<int:link_id>/delete")
def session_speaker_remove(slug: str, session_id: int, link_id: int):
    event = event_or_404(slug)
    try:
        programme.remove_speaker_role(event.id, link_id)
    except programme.ProgrammeError as error:
        _flash_problems(error)
    else:
        flash(_("Speaker removed from the session."), "success")
    return redirect(url_for("admin.session_edit", slug=slug, session_id=session_id))


# Speakers -------------------------------------------------------------------------------------------

@bp.get("/events/<slug>/speakers")
def speakers(slug: str):
    event = event_or_404(slug)
    return render_template("admin/speakers.html", event=event)


@bp.route("/events/<slug>/speakers/new", methods=["GET", "POST"])
@bp.route("/events/<slug>/speakers/<int:speaker_id>", methods=["GET", "POST"])
def speaker_edit(slug: str, speaker_id: int | None = None):
    event = event_or_404(slug)
    speaker = None
    if speaker_id is not None:
        speaker = next((s for s in event.speakers if s.id == speaker_id), None) or abort(404)
    form = SpeakerForm(obj=speaker) if request.method == "GET" else SpeakerForm()
    if form.validate_on_submit():
        upload = form.photo.data
        photo = upload.read(programme.PHOTO_MAX_BYTES + 1) if upload and getattr(upload, "filename", "") else None
        details = programme.SpeakerDetails(
            name=form.name.data.strip(), title=(form.title.data or "").strip(),
            affiliation=(form.affiliation.data or "").strip(), bio=form.bio.data or "",
            is_organisation=form.is_organisation.data, title_en=(form.title_en.data or "").strip(),
            bio_en=form.bio_en.data or "")
        try:
            saved = programme.save_speaker(event.id, details, speaker_id=speaker_id, photo=photo,
                                           remove_photo=form.remove_photo.data)
        except programme.ProgrammeError as error:
            show_problems(form, error.problems)
        else:
            flash(_("Speaker saved."), "success")
            return redirect(url_for("admin.speaker_edit", slug=slug, speaker_id=saved.id))
    return render_template("admin/speaker_form.html", event=event, form=form, speaker=speaker)


@bp.route("/events/<slug>/speakers/<int:speaker_id>/delete", methods=["GET", "POST"])
def speaker_delete(slug: str, speaker_id: int):
    """GET: the page that asks first (it says from which sessions they go); POST: delete."""
    event = event_or_404(slug)
    if request.method == "GET":
        return _confirm_speaker_delete(event, speaker_id)
    try:
        programme.delete_speaker(event.id, speaker_id)
    except programme.ProgrammeError as error:
        _flash_problems(error)
    else:
        flash(_("Speaker deleted."), "success")
    return redirect(url_for("admin.speakers", slug=slug))


@bp.get("/events/<slug>/speakers/<int:speaker_id>/photo")
def speaker_photo(slug: str, speaker_id: int):
    photo = speaker_photo_of(slug, speaker_id)
    if photo is None:
        abort(404)
    image, mimetype = photo
    response = Response(image, mimetype=mimetype)
    response.headers["Content-Disposition"] = "inline"
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
