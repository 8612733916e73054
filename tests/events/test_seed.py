from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from seminar.events.models import Event, Session, SessionKind, Speaker
from seminar.events.seed import SLUG, next_anniversary, seed_anniversary_seminar
from seminar.extensions import db, utcnow

PARIS = ZoneInfo("Europe/Paris")


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
    assert seeded.local(seeded.starts_at).date() == next_anniversary(utcnow())
    assert seeded.local(seeded.starts_at).time() == time(9, 0)
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


@pytest.mark.parametrize(("now", "day"), [
    (datetime(2026, 3, 5, 12, 0, tzinfo=PARIS), date(2026, 11, 28)),
    (datetime(2026, 11, 28, 8, 59, tzinfo=PARIS), date(2026, 11, 28)),  # the same morning, before it starts
    (datetime(2026, 11, 28, 9, 0, tzinfo=PARIS), date(2027, 11, 28)),  # it has started: next year's
    (datetime(2026, 12, 31, 23, 30, tzinfo=PARIS), date(2027, 11, 28)),
    (datetime(2026, 12, 31, 23, 30, tzinfo=ZoneInfo("UTC")), date(2027, 11, 28)),  # 1 January 2027 in Paris
])
def test_next_anniversary_is_the_next_28_november_not_yet_started(now, day):
    assert next_anniversary(now) == day


def test_seed_without_date_is_on_the_next_28_november_with_registration_open(ctx):
    now = datetime(2026, 11, 28, 8, 0, tzinfo=PARIS)
    event, changed = seed_anniversary_seminar(now=now)
    assert changed
    assert event.starts_at == datetime(2026, 11, 28, 9, 0, tzinfo=PARIS)
    assert event.registration_closes_at == event.starts_at
    assert event.registration_is_open(now)


def test_seed_command_without_date_seeds_a_seminar_still_ahead(runner, app):
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == SLUG))
        assert event.starts_at > utcnow()
        assert event.local(event.starts_at).date() == next_anniversary(utcnow())
        assert event.registration_is_open()


def test_seed_with_the_historical_date_reproduces_the_2023_seminar(runner, app):
    result = runner.invoke(args=["seed", "--date", "2023-11-28"])
    assert result.exit_code == 0, result.output
    assert "(2023-11-28)" in result.output
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == SLUG))
        assert event.starts_at == datetime(2023, 11, 28, 9, 0, tzinfo=PARIS)
        assert event.registration_closes_at == event.starts_at
        assert not event.registration_is_open()


def test_seed_date_moves_the_registration_window_with_the_programme(app, runner, seeded):
    result = runner.invoke(args=["seed", "--date", "2099-06-11"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == SLUG))
        assert event.registration_closes_at == datetime(2099, 6, 11, 9, 0, tzinfo=PARIS)
