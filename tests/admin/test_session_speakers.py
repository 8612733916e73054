"""A session's speakers typed in the session's own form: existing speakers or new people, with their role and order,
saved with the session; the same speaker twice refused on its row; a new person named like a speaker of the event
reuses them; round tables found by an import through their English title."""

from html import unescape

from sqlalchemy import func, select

from seminar.audit.models import AuditEntry
from seminar.events import programme
from seminar.events.models import Session, SessionSpeaker, Speaker
from seminar.extensions import db
from seminar.mail.models import OutboxMessage
from seminar.registration.models import Registration, SessionSeat
from tests.admin.conftest import SLUG, register, round_tables
from tests.forms import browser_form

NEW = f"/admin/events/{SLUG}/sessions/new"


def _zoe(app, event_id: int) -> int:
    with app.app_context():
        return programme.save_speaker(event_id, programme.SpeakerDetails(
            name="Zoë L'Hôpital", title="oncologue", affiliation="CHU de Lyon")).id


def _page(client, path: str) -> str:
    response = client.get(f"{path}?lang=en")  # the messages checked here are in English
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _new_round_table(seeded, form: dict, **rows) -> dict:
    """The new-session form as a browser submits it, filled as an organiser would: a round table at 16:00, with
    `rows` as {"speakers-0-role": "moderator", …}."""
    day = seeded.local(seeded.starts_at).strftime("%Y-%m-%d")
    return {**form, "kind": ["round_table"], "title": ["Table ronde des soignants"], "capacity": ["30"],
            "starts_at": [f"{day}T16:00"], "ends_at": [f"{day}T16:45"], **{k: [v] for k, v in rows.items()}}


def _links(app, title: str) -> list[tuple[str, str, int]]:
    with app.app_context():
        session = db.session.scalar(select(Session).where(Session.title == title))
        return [(link.speaker.name, link.role.value, link.position) for link in session.speaker_links]


def _text(response) -> str:
    return unescape(response.get_data(as_text=True))


def test_round_table_created_with_two_speakers_inline_shows_them_on_the_programme(app, seeded, organiser, client):
    zoe = _zoe(app, seeded.id)
    form = browser_form(_page(organiser, NEW))
    assert sum(1 for name in form if name.endswith("-role")) == 4  # four empty rows, without JavaScript
    data = _new_round_table(seeded, form, **{
        "speakers-0-name": "Marc Petit", "speakers-0-title": "infirmier", "speakers-0-affiliation": "Institut Curie",
        "speakers-0-role": "panellist", "speakers-0-position": "2",
        "speakers-1-speaker_id": str(zoe), "speakers-1-role": "moderator", "speakers-1-position": "1"})
    response = organiser.post(NEW, data=data)
    assert response.status_code == 302, _text(response)
    assert _links(app, "Table ronde des soignants") == [("Zoë L'Hôpital", "moderator", 1),
                                                          ("Marc Petit", "panellist", 2)]
    programme_page = _text(client.get(f"/events/{SLUG}/programme"))
    table = programme_page[programme_page.index("Table ronde des soignants"):]
    moderator = table.index("Zoë L'Hôpital, oncologue (CHU de Lyon)")
    panellist = table.index("Marc Petit, infirmier (Institut Curie)")
    assert moderator < panellist
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions[-4:] == ["session.create", "speaker.create", "session.speaker", "session.speaker"]


def test_session_error_keeps_the_typed_speaker_rows(app, seeded, organiser):
    zoe = _zoe(app, seeded.id)
    data = _new_round_table(seeded, browser_form(_page(organiser, NEW)), **{
        "speakers-0-speaker_id": str(zoe), "speakers-0-role": "moderator",
        "speakers-2-name": "Marc Petit", "speakers-2-title": "infirmier", "speakers-2-role": "panellist"})
    data["ends_at"] = [data["starts_at"][0].replace("16:00", "15:00")]
    response = organiser.post(NEW, data=data)
    assert response.status_code == 200
    assert "The session must end after it starts." in _text(response)
    again = browser_form(response.get_data(as_text=True))
    assert again["speakers-0-speaker_id"] == [str(zoe)] and again["speakers-0-role"] == ["moderator"]
    assert again["speakers-2-name"] == ["Marc Petit"] and again["speakers-2-title"] == ["infirmier"]
    assert again["speakers-2-role"] == ["panellist"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Session).where(
            Session.title == "Table ronde des soignants")) == 0
        assert db.session.scalar(select(Speaker.id).where(Speaker.name == "Marc Petit")) is None


def test_same_speaker_twice_in_a_session_is_refused_on_its_row(app, seeded, organiser):
    zoe = _zoe(app, seeded.id)
    data = _new_round_table(seeded, browser_form(_page(organiser, NEW)), **{
        "speakers-0-speaker_id": str(zoe), "speakers-0-role": "moderator",
        "speakers-1-name": "zoe l'hopital", "speakers-1-role": "panellist"})
    response = organiser.post(NEW, data=data)
    assert response.status_code == 200
    page = _text(response)
    assert '<p class="error" id="speakers-1-name-error">This speaker is already on another row.</p>' in page
    assert ('<a href="#speakers-1-name">Or a new person: name, speaker 2</a> : '
            "This speaker is already on another row.") in page  # the error summary names the row
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Session).where(
            Session.title == "Table ronde des soignants")) == 0


def test_new_person_named_like_a_speaker_of_the_event_reuses_them(app, seeded, organiser):
    zoe = _zoe(app, seeded.id)
    data = _new_round_table(seeded, browser_form(_page(organiser, NEW)), **{
        "speakers-0-name": "zoe l'hopital", "speakers-0-role": "panellist", "speakers-0-position": "1"})
    assert organiser.post(NEW, data=data).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Speaker).where(Speaker.name.ilike("zo%"))) == 1
        session = db.session.scalar(select(Session).where(Session.title == "Table ronde des soignants"))
        assert [link.speaker_id for link in session.speaker_links] == [zoe]


def test_editing_changes_a_role_and_removes_a_speaker(app, seeded, organiser):
    zoe = _zoe(app, seeded.id)
    data = _new_round_table(seeded, browser_form(_page(organiser, NEW)), **{
        "speakers-0-speaker_id": str(zoe), "speakers-0-role": "moderator", "speakers-0-position": "1",
        "speakers-1-name": "Marc Petit", "speakers-1-role": "panellist", "speakers-1-position": "2"})
    edit = organiser.post(NEW, data=data).headers["Location"]
    form = browser_form(_page(organiser, edit))
    # One row per current speaker (shown by name, with a "remove" box), then two empty rows.
    assert form["speakers-0-speaker_id"] == [str(zoe)] and form["speakers-0-linked"] == ["1"]
    assert "speakers-3-role" in form and "speakers-4-role" not in form and "speakers-2-name" in form
    marc = 1 if form["speakers-1-linked"] == ["1"] else 0
    form["speakers-0-role"] = ["speaker"]
    form["speakers-1-remove"] = ["y"]
    response = organiser.post(edit, data=form)
    assert response.status_code == 302, _text(response)
    assert marc == 1 and _links(app, "Table ronde des soignants") == [("Zoë L'Hôpital", "speaker", 1)]
    with app.app_context():
        details = dict(db.session.execute(select(AuditEntry.action, AuditEntry.details).where(
            AuditEntry.action.in_(["session.speaker_removed", "session.update"]))).all())
        assert details == {"session.speaker_removed": {"speaker": "Marc Petit"}}  # the session itself unchanged
        assert db.session.scalar(select(Speaker.id).where(Speaker.name == "Marc Petit")) is not None


def _round_table_with_attendees(app, seeded, organiser, attendees: int) -> tuple[int, int, str, dict]:
    """The first round table with `attendees` confirmed, and its page's form with Zoë chosen in an empty row:
    (round table, Zoë, the page, the form)."""
    table = round_tables(app)[0]
    register(app, seeded.id, attendees, [table])
    zoe = _zoe(app, seeded.id)
    edit = f"/admin/events/{SLUG}/sessions/{table}"
    form = browser_form(_page(organiser, edit))
    empty = next(name for name in form if name.endswith("-speaker_id") and form[name] == [""])
    form[empty] = [str(zoe)]
    return table, zoe, edit, form


def test_speaker_change_alone_tells_no_attendee(app, seeded, organiser):
    """As with the separate "add a speaker" form: invites list the speakers, but only a change of time, room or
    title is sent; the organiser is not asked."""
    table, zoe, edit, form = _round_table_with_attendees(app, seeded, organiser, 2)
    with app.app_context():
        sent = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        sequence = db.session.get(Session, table).sequence
    response = organiser.post(edit, data=form)
    assert response.status_code == 302, _text(response)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == sent
        assert db.session.get(Session, table).sequence == sequence
        assert zoe in {link.speaker_id for link in db.session.get(Session, table).speaker_links}


def test_title_change_sends_invites_listing_the_new_speakers(app, seeded, organiser):
    _table, _zoe_id, edit, form = _round_table_with_attendees(app, seeded, organiser, 1)
    form["title"], form["notify"] = ["Nouveau titre"], ["1"]
    assert organiser.post(edit, data=form).status_code == 302
    with app.app_context():
        invite = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
        assert "L'Hôpital" in invite.ics.replace("\r\n ", "")


def test_speakers_list_shows_the_import_code_and_speakers(app, seeded, organiser):
    table = round_tables(app)[0]
    page = _text(organiser.get(f"/admin/events/{SLUG}/sessions"))
    assert f"<code>{table}</code>" in page
    with app.app_context():
        credit = db.session.scalar(select(Speaker).join(SessionSpeaker).where(
            SessionSpeaker.session_id == table)).credit("fr")
    assert f"<li>{credit}</li>" in page


def test_import_names_a_round_table_by_its_english_title(app, seeded, runner, tmp_path):
    table = round_tables(app)[0]
    with app.app_context():
        db.session.get(Session, table).title_en = "Nurses' Round Table"
        db.session.commit()
    path = tmp_path / "invites.csv"
    path.write_text("first_name,last_name,email,sessions\nMarie,Curie,marie@example.org,nurses' round table\n")
    result = runner.invoke(args=["registrations", "import", SLUG, str(path), "--no-email"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "created: 1, duplicates: 0, rejected: 0"
    with app.app_context():
        seats = db.session.scalars(select(SessionSeat.session_id).join(Registration).where(
            Registration.email == "marie@example.org"))
        assert list(seats) == [table]
