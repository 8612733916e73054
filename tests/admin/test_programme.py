"""Programme editing: validation (times, days, room overlap, capacity), calendar sequence and invites,
speakers and their photos, audit entries."""

from datetime import timedelta
from io import BytesIO

import pytest
from PIL import Image
from sqlalchemy import func, select

from seminar.audit.models import AuditEntry
from seminar.events import programme
from seminar.events.models import Session, SessionKind, Speaker
from seminar.extensions import db
from seminar.mail.models import OutboxMessage
from seminar.registration.models import SessionSeat
from tests.admin.conftest import SLUG, register, round_tables


def _details(session: Session, **changes) -> programme.SessionDetails:
    values = {name: getattr(session, name) for name in (
        "kind", "title", "description", "starts_at", "ends_at", "room_id", "capacity", "position")}
    return programme.SessionDetails(**{**values, **changes})


def _form(session: Session, event, **changes) -> dict:
    data = {"kind": session.kind.value, "title": session.title, "description": session.description,
            "title_en": session.title_en, "description_en": session.description_en,
            "starts_at": event.local(session.starts_at).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": event.local(session.ends_at).strftime("%Y-%m-%dT%H:%M"),
            "room_id": str(session.room_id or ""), "capacity": "" if session.capacity is None else session.capacity,
            "position": session.position}
    return {**data, **changes}


def test_session_in_an_occupied_room_is_refused(app, seeded, organiser):
    first, second = [s for s in seeded.sessions if s.kind is SessionKind.round_table][:2]
    overlapping = seeded.local(first.ends_at - timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M")
    response = organiser.post(f"/admin/events/{SLUG}/sessions/{second.id}", data=_form(second, seeded,
                                                                                        starts_at=overlapping))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "La salle est déjà occupée par" in page and first.title.replace("'", "&#39;") in page
    with app.app_context():
        assert db.session.get(Session, second.id).starts_at == second.starts_at


def test_session_in_another_room_may_overlap(ctx, seeded):
    first, second = [s for s in seeded.sessions if s.kind is SessionKind.round_table][:2]
    lunch_room = seeded.venue.rooms[0].id if seeded.venue.rooms[0].id != first.room_id else seeded.venue.rooms[1].id
    session = db.session.get(Session, second.id)
    updated = programme.update_session(second.id, _details(session, starts_at=first.starts_at, ends_at=first.ends_at,
                                                           room_id=lunch_room))
    assert updated.room_id == lunch_room


def test_session_ending_before_it_starts_is_refused(ctx, seeded):
    session = db.session.get(Session, seeded.sessions[2].id)
    with pytest.raises(programme.ProgrammeError) as refused:
        programme.update_session(session.id, _details(session, ends_at=session.starts_at - timedelta(minutes=5)))
    assert "ends_at" in refused.value.problems


def test_session_outside_the_event_days_is_refused(ctx, seeded):
    session = db.session.get(Session, seeded.sessions[2].id)
    later = timedelta(days=1)
    with pytest.raises(programme.ProgrammeError) as refused:
        programme.update_session(session.id, _details(session, starts_at=session.starts_at + later,
                                                      ends_at=session.ends_at + later))
    assert "starts_at" in refused.value.problems


def test_capacity_below_confirmed_count_is_refused_with_the_count(app, seeded, organiser):
    table = round_tables(app)[0]
    register(app, seeded.id, 3, [table])
    with app.app_context():
        session = db.session.get(Session, table)
        data = _form(session, seeded, capacity=2)
    response = organiser.post(f"/admin/events/{SLUG}/sessions/{table}", data=data)
    assert "3 personnes sont déjà confirmées : la capacité ne peut pas être inférieure à 3" in response.get_data(
        as_text=True)
    with app.app_context():
        assert db.session.get(Session, table).capacity == 120


def test_raising_capacity_promotes_from_the_waiting_list(app, seeded):
    table = round_tables(app)[0]
    with app.app_context():
        db.session.get(Session, table).capacity = 1
        db.session.commit()
    register(app, seeded.id, 3, [table])
    with app.app_context():
        session = db.session.get(Session, table)
        programme.update_session(table, _details(session, capacity=2))
        statuses = db.session.scalars(select(SessionSeat.status).where(SessionSeat.session_id == table)).all()
    assert sorted(s.value for s in statuses) == ["confirmed", "confirmed", "waitlisted"]


def test_time_room_or_title_change_raises_sequence_and_queues_updates(app, seeded):
    table = round_tables(app)[0]
    register(app, seeded.id, 2, [table])
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        session = db.session.get(Session, table)
        programme.update_session(table, _details(session, title="Nouveau titre"))
        assert db.session.get(Session, table).sequence == 1
        invites = db.session.scalars(select(OutboxMessage).where(OutboxMessage.ics_method == "REQUEST")).all()
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) >= before + 2
        assert len({m.to_addr for m in invites}) == 2
        session = db.session.get(Session, table)
        programme.update_session(table, _details(session, description="Autre description"))
        assert db.session.get(Session, table).sequence == 1  # description only: no calendar change


def test_deleting_a_session_queues_cancellations(app, seeded, organiser):
    table = round_tables(app)[0]
    register(app, seeded.id, 2, [table])
    response = organiser.post(f"/admin/events/{SLUG}/sessions/{table}/delete")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Session, table) is None
        cancels = db.session.scalars(select(OutboxMessage).where(OutboxMessage.ics_method == "CANCEL")).all()
        assert len(cancels) == 2
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "session.delete")).target_id == table


def test_programme_edits_are_audited_with_the_changes(app, seeded, organiser):
    session = seeded.sessions[2]
    new_end = seeded.local(session.ends_at - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    response = organiser.post(f"/admin/events/{SLUG}/sessions/{session.id}", data=_form(session, seeded,
                                                                                         ends_at=new_end))
    assert response.status_code == 302
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "session.update"))
        assert entry.actor == "organiser@example.org" and entry.target_id == session.id
        assert list(entry.details) == ["ends_at"]


def test_create_session_through_the_form(app, seeded, organiser):
    day = seeded.local(seeded.starts_at).strftime("%Y-%m-%d")
    response = organiser.post(f"/admin/events/{SLUG}/sessions/new", data={
        "kind": "round_table", "title": "Table ronde 4", "starts_at": f"{day}T16:00", "ends_at": f"{day}T16:45",
        "room_id": "", "capacity": "30", "position": "3"})
    assert response.status_code == 302
    with app.app_context():
        created = db.session.scalar(select(Session).where(Session.title == "Table ronde 4"))
        assert created.capacity == 30 and seeded.local(created.starts_at).strftime("%H:%M") == "16:00"


def test_speaker_role_added_to_a_session(app, seeded, organiser):
    session = seeded.sessions[1]
    speaker = seeded.speakers[0]
    organiser.post(f"/admin/events/{SLUG}/sessions/{session.id}/speakers",
                   data={"role-speaker_id": speaker.id, "role-role": "chair", "role-position": "0"})
    with app.app_context():
        roles = {link.speaker_id: link.role.value for link in db.session.get(Session, session.id).speaker_links}
    assert roles[speaker.id] == "chair"


def _png(size=(20, 20)) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", size, "red").save(buffer, "PNG")
    return buffer.getvalue()


def test_speaker_photo_upload_is_checked_and_served(app, seeded, organiser):
    data = {"name": "Dr Test", "title": "", "affiliation": "Inserm", "bio": "",
            "photo": (BytesIO(_png()), "me.png")}
    response = organiser.post(f"/admin/events/{SLUG}/speakers/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        speaker_id = db.session.scalar(select(Speaker.id).where(Speaker.name == "Dr Test"))
    photo = organiser.get(f"/admin/events/{SLUG}/speakers/{speaker_id}/photo")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg" and photo.data.startswith(b"\xff\xd8\xff")


@pytest.mark.parametrize("content", [b"<svg onload=alert(1)>", b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10,
                                     b"GIF89a" + b"x" * (programme.PHOTO_MAX_BYTES + 1)])
def test_speaker_photo_that_is_not_a_real_image_is_refused(app, seeded, organiser, content):
    data = {"name": "Dr Fake", "photo": (BytesIO(content), "me.png")}
    response = organiser.post(f"/admin/events/{SLUG}/speakers/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "photo" in response.get_data(as_text=True).lower()
    with app.app_context():
        assert db.session.scalar(select(Speaker).where(Speaker.name == "Dr Fake")) is None


def test_event_create_edit_and_delete(app, organiser):
    form = {"title": "Journée test", "slug": "journee-test", "timezone": "Europe/Paris",
            "starts_at": "2030-03-01T09:00", "ends_at": "2030-03-01T17:00", "capacity": "50"}
    assert organiser.post("/admin/events/new", data=form).status_code == 302
    assert organiser.get("/admin/events/journee-test/").status_code == 200
    taken = organiser.post("/admin/events/new", data=form)
    assert "Un autre événement utilise déjà cette adresse" in taken.get_data(as_text=True)
    assert organiser.post("/admin/events/journee-test/delete", data={"confirm_slug": "wrong"}).status_code == 302
    assert organiser.get("/admin/events/journee-test/").status_code == 200
    organiser.post("/admin/events/journee-test/delete", data={"confirm_slug": "journee-test"})
    assert organiser.get("/admin/events/journee-test/").status_code == 404


def test_event_capacity_below_confirmed_is_refused(app, seeded):
    register(app, seeded.id, 2)
    with app.app_context():
        from seminar.events.models import Event

        event = db.session.get(Event, seeded.id)
        details = programme.EventDetails(slug=event.slug, title=event.title, starts_at=event.starts_at,
                                         ends_at=event.ends_at, capacity=1)
        with pytest.raises(programme.ProgrammeError) as refused:
            programme.update_event(event.id, details)
    assert "capacity" in refused.value.problems


def test_programme_pages_render(app, seeded, organiser):
    for path in ("", "edit", "venue", "sessions", f"sessions/{seeded.sessions[2].id}", "speakers",
                 f"speakers/{seeded.speakers[0].id}", "sessions/new", "speakers/new"):
        assert organiser.get(f"/admin/events/{SLUG}/{path}").status_code == 200, path
