from datetime import date, time

from sqlalchemy import func, select

from seminar.events.models import Event, Session, SessionKind, Speaker
from seminar.events.seed import SLUG
from seminar.extensions import db


def _snapshot():
    events = db.session.scalars(select(Event)).all()
    sessions = db.session.execute(select(Session.id, Session.title, Session.starts_at, Session.sequence)).all()
    speakers = db.session.scalar(select(func.count()).select_from(Speaker))
    return [(e.slug, e.starts_at, e.updated_at) for e in events], sorted(sessions), speakers


def test_seed_twice_changes_nothing(runner, app):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    with app.app_context():
        before = _snapshot()
    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0
    assert "unchanged" in second.output
    with app.app_context():
        assert _snapshot() == before


def test_seed_uses_the_press_release_facts(seeded):
    assert seeded.slug == SLUG
    assert seeded.organiser == "Institut national du cancer"
    assert seeded.venue.name == "Salons de l'Aveyron"
    assert seeded.venue.postal_code == "75012"
    assert "Cour Saint-Émilion" in seeded.venue.access_notes
    assert seeded.local(seeded.starts_at).date() == date(2023, 11, 28)
    themes = [s.description for s in seeded.sessions if s.kind is SessionKind.round_table]
    assert themes[0].startswith("Les stratégies à développer pour optimiser l'impact des actions")
    assert "implications des patients" in themes[1]
    assert "création de valeur dans leurs territoires" in themes[2]
    assert all(s.capacity for s in seeded.sessions if s.kind is SessionKind.round_table)
    assert seeded.capacity == 300
    assert len([o for o in seeded.organisations if o.kind.value == "canceropole"]) == 7
    assert {c.name for c in seeded.press_contacts} == {"Lydia Dauzet", "Juliette Urvoy"}
    named_people = {s.name for s in seeded.speakers if not s.is_organisation}
    assert named_people == {"Norbert Ifrah", "Thierry Breton"}
    assert seeded.registration_is_open()


def test_seed_date_moves_the_whole_programme_keeping_local_times(app, runner, seeded):
    opening_before = {s.title: seeded.local(s.starts_at).time() for s in seeded.sessions}
    result = runner.invoke(args=["seed", "--date", "2024-06-11"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        _assert_moved(opening_before)


def _assert_moved(opening_before):
    event = db.session.scalar(select(Event).where(Event.slug == SLUG))
    assert event.local(event.starts_at).date() == date(2024, 6, 11)
    assert event.local(event.starts_at).time() == time(9, 0)
    for session in event.sessions:
        assert event.local(session.starts_at).date() == date(2024, 6, 11)
        assert event.local(session.starts_at).time() == opening_before[session.title]


def test_seed_rejects_a_malformed_date(runner, app):
    result = runner.invoke(args=["seed", "--date", "28/11/2023"])
    assert result.exit_code != 0
    assert "YYYY-MM-DD" in result.output or "Invalid value" in result.output
