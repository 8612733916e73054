"""No deletion without a confirmation: the Delete links of rooms, sessions and speakers open a page that names
what goes and what follows; only that page's button (a POST) deletes (issue 20, point 5)."""

from __future__ import annotations

import html

from sqlalchemy import func, select

from seminar.events.models import Room, Session, Speaker
from seminar.extensions import db
from tests.admin.conftest import SLUG, register, round_tables

ADMIN = f"/admin/events/{SLUG}"


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_deleting_a_room_asks_first_naming_the_room_and_its_sessions(app, seeded, organiser):
    with app.app_context():
        room = db.session.scalar(select(Room).where(Room.id.in_(select(Session.room_id))))
        room_id, name = room.id, room.name
        held = db.session.scalar(select(func.count()).where(Session.room_id == room_id))
    venue = _text(organiser.get(f"{ADMIN}/venue"))
    # Each row's buttons say which room they act on.
    assert f'Supprimer<span class="visually-hidden"> la salle « {name} »</span>' in venue
    assert f'Enregistrer<span class="visually-hidden"> la salle « {name} »</span>' in venue
    assert f'href="{ADMIN}/rooms/{room_id}/delete"' in venue
    page = organiser.get(f"{ADMIN}/rooms/{room_id}/delete")
    text = _text(page)
    assert page.status_code == 200 and f"Supprimer la salle « {name} » ?" in text
    assert f"{held} session" in text and "invitation d'agenda mise à jour" in text
    assert f'action="{ADMIN}/rooms/{room_id}/delete"' in text and f'href="{ADMIN}/venue"' in text  # or cancel
    assert _count(app, Room) == len(seeded.venue.rooms)  # asking deleted nothing
    organiser.post(f"{ADMIN}/rooms/{room_id}/delete")
    assert _count(app, Room) == len(seeded.venue.rooms) - 1


def test_deleting_a_session_says_how_many_registrants_are_told(app, seeded, organiser):
    table = round_tables(app)[0]
    register(app, seeded.id, 3, [table])
    edit = _text(organiser.get(f"{ADMIN}/sessions/{table}"))
    assert f'href="{ADMIN}/sessions/{table}/delete"' in edit
    text = _text(organiser.get(f"{ADMIN}/sessions/{table}/delete"))
    assert "3 personnes inscrites occupent une place ou en attendent une" in text
    assert _count(app, Session) == len(seeded.sessions)
    organiser.post(f"{ADMIN}/sessions/{table}/delete")
    assert _count(app, Session) == len(seeded.sessions) - 1


def test_deleting_a_speaker_says_from_how_many_sessions(app, seeded, organiser):
    with app.app_context():
        speaker = db.session.scalar(select(Speaker).where(Speaker.session_links.any()).order_by(Speaker.id))
        speaker_id, name, sessions = speaker.id, speaker.name, len({link.session_id for link in speaker.session_links})
    text = _text(organiser.get(f"{ADMIN}/speakers/{speaker_id}/delete"))
    assert f"Supprimer l'intervenant·e « {name} » ?" in text
    assert f"retirée de {sessions} session" in text
    assert _count(app, Speaker) == len(seeded.speakers)


def test_confirmation_pages_of_unknown_objects_answer_404(app, seeded, organiser):
    for path in ("rooms/999999/delete", "sessions/999999/delete", "speakers/999999/delete"):
        assert organiser.get(f"{ADMIN}/{path}").status_code == 404
