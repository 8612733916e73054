"""The audit log as people read it: actions in words (French and English), the object named and linked,
changes shown before → after, deleted objects named as such, typed names escaped, families to filter by."""

from __future__ import annotations

from dataclasses import fields

import pytest
from markupsafe import escape
from sqlalchemy import select

from seminar.accounts.models import Role
from seminar.admin import imports
from seminar.admin.registrants import RegistrantFilters
from seminar.admin.spreadsheets import export_registrants
from seminar.checkin.services import check_in
from seminar.events import programme
from seminar.events.models import Event, Session, SessionKind
from seminar.events.services import get_event
from seminar.extensions import db
from tests.accounts.factories import signed_in_client
from tests.admin.conftest import SLUG, register

RAW = ("registrations.import", "registrations.export", "event.update", "session.update", "checkin.check_in",
       "by_round_table", "send_email", "duplicates", "capacity", "session_id")


def _details(kind, obj, **changes):
    """`obj`'s details as its form would send them back, with `changes`."""
    return kind(**{**{f.name: getattr(obj, f.name) for f in fields(kind)}, **changes})


def _session_details(session: Session, **changes) -> programme.SessionDetails:
    return _details(programme.SessionDetails, session, **changes)


def _event_details(event: Event, **changes) -> programme.EventDetails:
    return _details(programme.EventDetails, event, **changes)


def _round_table(event_id: int) -> Session:
    return db.session.scalars(select(Session).where(Session.event_id == event_id,
                                                    Session.kind == SessionKind.round_table)
                              .order_by(Session.starts_at)).first()


@pytest.fixture
def activity(app, seeded):
    """The seeded event after an import, an export, an event update, a session change and a check-in; returns
    the changed session's id and the checked-in registration's id."""
    admin = signed_in_client(app, Role.admin)
    [registration_id] = register(app, seeded.id, 1)
    with app.app_context():
        event = get_event(SLUG)
        csv = b"first_name,last_name,email\nMarie,Curie,marie@example.org\nSans,Adresse,\n"
        imports.import_registrations(event, csv, send_email=False)
        export_registrants(get_event(SLUG), RegistrantFilters(), "csv", by_round_table=True)
        event = db.session.get(Event, seeded.id)
        programme.update_event(event.id, _event_details(event, capacity=(event.capacity or 0) + 500), notify=False)
        session = _round_table(seeded.id)
        session_id = session.id
        programme.update_session(session_id, _session_details(session, capacity=(session.capacity or 0) + 10),
                                 notify=False)
        check_in(seeded.id, registration_id, user_id=None)
        db.session.remove()
    return admin, session_id, registration_id


def test_log_shows_actions_objects_and_changes_in_french(app, activity):
    admin, session_id, registration_id = activity
    page = admin.get("/admin/audit/").get_data(as_text=True)
    for words in ("Import d'inscriptions", "Export des inscriptions", "Événement modifié", "Session modifiée",
                  "Entrée validée (pointage)", "Doublons", "Par table ronde", "Capacité"):
        assert str(escape(words)) in page, words
    assert "→" in page
    for raw in RAW:
        assert raw not in page, raw
    assert f'href="/admin/events/{SLUG}/sessions/{session_id}"' in page
    assert f'href="/admin/events/{SLUG}/registrations/{registration_id}"' in page


def test_log_shows_actions_and_changes_in_english(app, activity):
    admin, session_id, _registration_id = activity
    page = admin.get("/admin/audit/?lang=en").get_data(as_text=True)
    for words in ("Import of registrations", "Export of registrations", "Event changed", "Session changed",
                  "Arrival checked in", "Duplicates", "By round table", "Capacity", "Rejected"):
        assert words in page, words
    for raw in RAW:
        assert raw not in page, raw
    assert f'href="/admin/events/{SLUG}/sessions/{session_id}"' in page


def test_change_shows_before_and_after(app, seeded):
    admin = signed_in_client(app, Role.admin)
    with app.app_context():
        session = _round_table(seeded.id)
        old, session_id = session.capacity, session.id
        programme.update_session(session_id, _session_details(session, capacity=(old or 0) + 7), notify=False)
    page = admin.get("/admin/audit/?lang=en").get_data(as_text=True)
    before = "—" if old is None else str(old)
    assert f"<b>Capacity</b> {before} → {(old or 0) + 7}" in page


def test_deleted_session_is_named_as_deleted(app, seeded):
    admin = signed_in_client(app, Role.admin)
    with app.app_context():
        session_id = _round_table(seeded.id).id
        programme.delete_session(seeded.id, session_id)
    english = admin.get("/admin/audit/?lang=en").get_data(as_text=True)
    assert "Session deleted" in english and f"Session #{session_id} (deleted)" in english
    assert f"/sessions/{session_id}" not in english
    french = admin.get("/admin/audit/?lang=fr").get_data(as_text=True)
    assert "Session supprimée" in french and f"Session n° {session_id} (supprimée)" in french


def test_typed_session_title_is_escaped(app, seeded):
    admin = signed_in_client(app, Role.admin)
    with app.app_context():
        session = _round_table(seeded.id)
        session_id = session.id
        programme.update_session(session_id, _session_details(session, title="<script>alert(1)</script>"),
                                 notify=False)
    page = admin.get("/admin/audit/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert f'<a href="/admin/events/{SLUG}/sessions/{session_id}">&lt;script&gt;alert(1)&lt;/script&gt;</a>' in page


def test_dashboard_activity_is_described(app, activity):
    admin, session_id, _registration_id = activity
    page = admin.get(f"/admin/events/{SLUG}/?lang=en").get_data(as_text=True)
    assert "Session changed" in page and f'href="/admin/events/{SLUG}/sessions/{session_id}"' in page
    assert "registrations.import" not in page


def test_filter_offers_translated_families_and_keeps_any_prefix(app, activity):
    admin, _session_id, _registration_id = activity
    page = admin.get("/admin/audit/?lang=en&action=registration").get_data(as_text=True)
    assert '<option value="registration" selected>Registrations</option>' in page
    assert "Import of registrations" in page and "Session changed" not in page
    page = admin.get("/admin/audit/?lang=en&action=session.upd").get_data(as_text=True)
    assert '<option value="session.upd" selected>session.upd</option>' in page
    assert "Session changed" in page and "Import of registrations" not in page


def test_unknown_action_is_shown_as_recorded(app):
    from seminar.audit.services import record

    admin = signed_in_client(app, Role.admin)
    with app.app_context():
        record("test.something", details={"answer": 42})
        db.session.commit()
    page = admin.get("/admin/audit/").get_data(as_text=True)
    assert "test.something" in page and "<b>answer</b> 42" in page
