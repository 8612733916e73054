"""export-event / import-event: an event with everything it owns survives a move between databases."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import timedelta
from io import BytesIO

import pytest
from PIL import Image
from sqlalchemy import select

from seminar.accounts.models import Role, User
from seminar.events import transfer
from seminar.events.models import Event, Session, SessionKind, Speaker
from seminar.events.seed import SLUG, seed_anniversary_seminar
from seminar.extensions import db, utcnow
from seminar.registration.ledger import recount
from seminar.registration.models import (
    Registration,
    RegistrationSource,
    RegistrationStatus,
    SeatStatus,
    SessionAttendance,
    SessionSeat,
)
from tests.conftest import PG_URL, make_app


def _transparent_png() -> bytes:
    image = Image.new("RGBA", (16, 16), (200, 0, 0, 255))
    image.putpixel((0, 0), (0, 0, 0, 0))
    buffer = BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


# Binary, and already as an upload stores it (a PNG, as it has transparency): must come back byte for byte.
PHOTO = _transparent_png()
TOKENS = {"ada@example.org": "token-ada", "ben@example.org": "token-ben", "cyd@example.org": "token-cyd"}


@pytest.fixture
def new_app(tmp_path):
    """More apps, each on its own database (a folder under tmp_path), disposed of afterwards."""
    made = []

    def make(backend: str, name: str):
        (tmp_path / name).mkdir()
        made.append(make_app(backend, tmp_path / name))
        return made[-1]

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def populate(app) -> None:
    """The seeded seminar plus a photo, a staff account and registrations in every state."""
    with app.app_context():
        seed_anniversary_seminar()
        event = db.session.scalar(select(Event).where(Event.slug == SLUG))
        speaker = db.session.scalars(select(Speaker).where(Speaker.event_id == event.id)).first()
        speaker.photo, speaker.photo_mimetype = PHOTO, "image/png"
        staff = User(email="desk@example.org", password_hash="x", role=Role.checkin)
        db.session.add(staff)
        db.session.flush()
        tables = db.session.scalars(select(Session).where(Session.event_id == event.id,
                                                          Session.kind == SessionKind.round_table)).all()
        now = utcnow().replace(microsecond=123456)
        people = [("Ada", "ada@example.org", RegistrationStatus.confirmed),
                  ("Ben", "ben@example.org", RegistrationStatus.waitlisted),
                  ("Cyd", "cyd@example.org", RegistrationStatus.cancelled)]
        for number, (name, email, status) in enumerate(people):
            registration = Registration(
                event=event, first_name=name, last_name="Lovelace « é »", email=email, email_key=email,
                organisation="Inserm", category=event.categories[number], status=status,
                source=RegistrationSource.import_, token_hash=token_hash(TOKENS[email]),
                consent_privacy_at=now, dietary="sans gluten\nmerci", created_at=now - timedelta(days=number),
            )
            # A seat as the ledger keeps it: a wish while the registration waits for the event.
            seat_status = SeatStatus.wish if status is RegistrationStatus.waitlisted else SeatStatus[status.name]
            registration.seats.append(SessionSeat(session=tables[number], status=seat_status))
            db.session.add(registration)
            if status is RegistrationStatus.cancelled:
                registration.cancelled_at = now
            if status is RegistrationStatus.confirmed:
                registration.checked_in_at, registration.checked_in_by_id = now, staff.id
                db.session.add(SessionAttendance(session=tables[0], registration=registration,
                                                 checked_in_at=now, checked_in_by_id=None))
        db.session.commit()
        db.session.add(SessionAttendance(session=tables[1], registration=registration, checked_in_at=now,
                                         checked_in_by_id=staff.id, without_seat=True))
        recount(event.id)  # written row by row above, not through the ledger
        db.session.commit()


def add_staff(app, email="desk@example.org") -> None:
    with app.app_context():
        db.session.add(User(email=email, password_hash="x", role=Role.checkin))
        db.session.commit()


def export(app) -> dict:
    with app.app_context():
        return transfer.export_event(SLUG)


def import_(app, document, **options):
    with app.app_context():
        return transfer.import_event(copy.deepcopy(document), **options)


def _without_ids(document: dict) -> dict:
    """The tables with ids and references replaced by what they point to (for renumbered imports)."""
    tables = document["tables"]
    by_id = {name: {row["id"]: row for row in rows} for name, rows in tables.items()}
    natural = {"event": "slug", "venue": "name", "room": "name", "category": "code", "organisation": "name",
               "press_contact": "name", "speaker": "name", "session": "title", "registration": "email"}

    def plain(table: str, row: dict) -> tuple:
        out = []
        for key, value in sorted(row.items()):
            if key == "id":
                continue
            target = next((t for t in by_id if key == f"{t}_id"), None)
            if target and value is not None:
                value = by_id[target][value][natural[target]]
            out.append((key, value))
        return tuple(out)

    return {name: sorted((plain(name, row) for row in rows), key=repr) for name, rows in tables.items()}


def test_export_holds_every_part_of_the_event(app):
    populate(app)
    document = json.loads(json.dumps(export(app)))  # JSON-clean
    assert document["format"] == "seminar-event" and document["version"] == 1
    tables = document["tables"]
    assert len(tables["event"]) == 1 and tables["event"][0]["slug"] == SLUG
    assert len(tables["venue"]) == 1 and tables["room"]
    for name in ("category", "organisation", "press_contact", "speaker", "session", "session_speaker"):
        assert tables[name], name
    assert len(tables["registration"]) == 3 and len(tables["session_seat"]) == 3
    assert len(tables["session_attendance"]) == 2
    ada = next(r for r in tables["registration"] if r["email"] == "ada@example.org")
    assert ada["token_hash"] == token_hash("token-ada")
    assert ada["checked_in_by_email"] == "desk@example.org" and "checked_in_by_id" not in ada
    assert ada["status"] == "confirmed" and ada["source"] == "import_"
    assert ada["checked_in_at"].endswith("+00:00")
    assert any(s["kind"] == "break_" for s in tables["session"])


def test_round_trip_into_a_fresh_database_keeps_everything(backend, new_app):
    source = new_app("sqlite", "source")
    populate(source)
    document = export(source)
    target = new_app(backend, "target")
    add_staff(target)
    result = import_(target, document)
    assert result.ids_kept and result.slug == SLUG and not result.unknown_staff
    assert result.counts["registration"] == 3
    again = export(target)
    assert again["tables"] == document["tables"]
    with target.app_context():
        ada = db.session.scalar(select(Registration).where(Registration.token_hash == token_hash("token-ada")))
        assert ada.email == "ada@example.org"
        assert db.session.get(User, ada.checked_in_by_id).email == "desk@example.org"
        assert [seat.status for seat in ada.seats] == [SeatStatus.confirmed]
        photo = db.session.scalar(select(Speaker.photo).where(Speaker.photo.is_not(None)))
        assert photo == PHOTO
        # new rows after an import with kept ids get fresh ids (PostgreSQL sequences moved on)
        event = db.session.scalar(select(Event).where(Event.slug == SLUG))
        db.session.add(Speaker(event=event, name="Newcomer"))
        db.session.commit()


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: set SEMINAR_TEST_DATABASE_URL")
def test_move_from_sqlite_to_postgresql_and_back(new_app):
    sqlite_app = new_app("sqlite", "sqlite")
    populate(sqlite_app)
    from_sqlite = export(sqlite_app)
    assert from_sqlite["source_database"] == "sqlite"

    pg_app = new_app("postgresql", "pg")
    add_staff(pg_app)
    import_(pg_app, from_sqlite)
    from_pg = export(pg_app)
    assert from_pg["source_database"] == "postgresql"
    assert from_pg["tables"] == from_sqlite["tables"]

    back = new_app("sqlite", "back")
    add_staff(back)
    import_(back, from_pg)
    assert export(back)["tables"] == from_sqlite["tables"]


def test_import_renumbers_when_ids_are_taken(app, new_app):
    source = new_app("sqlite", "source")
    populate(source)
    document = export(source)
    with app.app_context():  # another event already holds the low ids
        seed_anniversary_seminar()
        db.session.scalar(select(Event)).slug = "other-event"
        db.session.commit()
    add_staff(app, "someone-else@example.org")
    result = import_(app, document)
    assert not result.ids_kept
    assert result.unknown_staff == {"desk@example.org"}
    moved = export(app)
    ada_moved = next(r for r in moved["tables"]["registration"] if r["email"] == "ada@example.org")
    assert ada_moved["checked_in_by_email"] is None
    for rows in (document["tables"]["registration"], moved["tables"]["registration"]):
        for row in rows:
            row["checked_in_by_email"] = None
    for rows in (document["tables"]["session_attendance"], moved["tables"]["session_attendance"]):
        for row in rows:
            row["checked_in_by_email"] = None
    assert _without_ids(moved) == _without_ids(document)
    assert moved["tables"]["event"][0]["id"] != document["tables"]["event"][0]["id"]


def test_import_refuses_an_existing_slug_unless_replace(app, tmp_path):
    populate(app)
    document = export(app)
    with pytest.raises(transfer.TransferError, match="already exists.*--replace"):
        import_(app, document)
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == SLUG))
        event.title = "Changed since the export"
        db.session.execute(db.delete(Registration).where(Registration.email == "ben@example.org"))
        db.session.commit()
    result = import_(app, document, replace=True)
    assert result.ids_kept
    assert export(app)["tables"] == document["tables"]


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.update(version=2), "unsupported format version 2"),
    (lambda d: d.update(format="something"), "not a Seminar event export"),
    (lambda d: d["tables"].update(mystery=[]), "unknown tables: mystery"),
    (lambda d: d["tables"]["speaker"][0].update(shoe_size=42), "speaker #1: unknown fields shoe_size"),
    (lambda d: d["tables"]["session"][0].update(kind="keynote"), "session #1, kind: invalid value 'keynote'"),
    (lambda d: d["tables"]["session"][0].update(starts_at="2023-11-28T09:00:00"), "without UTC offset"),
    (lambda d: d["tables"]["event"][0].update(capacity="many"), "event #1, capacity: expected int"),
    (lambda d: d["tables"]["session_seat"][0].update(session_id=99999), "refers to no session"),
    (lambda d: d["tables"]["speaker"][0].update(name="Zoë\u202eevil"),
     "speaker #1, name: remove the invisible character U[+]202E"),
    (lambda d: d["tables"]["event"][0].update(title="x" * 201), "event #1, title: at most 200 characters"),
])
def test_import_rejects_invalid_documents_with_a_clear_message(app, new_app, change, message):
    source = new_app("sqlite", "source")
    populate(source)
    document = export(source)
    change(document)
    with pytest.raises(transfer.TransferError, match=message):
        import_(app, document)
    with app.app_context():  # nothing half-written
        assert db.session.scalar(select(db.func.count()).select_from(Event)) == 0
        assert db.session.scalar(select(db.func.count()).select_from(Speaker)) == 0


def test_cli_round_trip_and_errors(app, runner, tmp_path):
    populate(app)
    path = tmp_path / "event.json"
    result = runner.invoke(args=["export-event", SLUG, "-o", str(path)])
    assert result.exit_code == 0, result.output
    assert "3 registrations" in result.output
    assert json.loads(path.read_text(encoding="utf-8"))["tables"]["event"][0]["slug"] == SLUG

    refused = runner.invoke(args=["import-event", str(path)])
    assert refused.exit_code == 1 and "--replace" in refused.output
    replaced = runner.invoke(args=["import-event", str(path), "--replace"])
    assert replaced.exit_code == 0, replaced.output
    assert f"{SLUG}: imported" in replaced.output

    missing = runner.invoke(args=["export-event", "no-such-event", "-o", str(tmp_path / "x.json")])
    assert missing.exit_code == 1 and "no event with the slug 'no-such-event'" in missing.output
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    bad = runner.invoke(args=["import-event", str(garbage)])
    assert bad.exit_code == 1 and "is not a JSON file" in bad.output


def test_import_recounts_the_places_rather_than_trust_the_document(backend, new_app):
    source = new_app("sqlite", "source")
    populate(source)
    document = export(source)
    document["tables"]["event"][0].update(confirmed_count=99, waitlisted_count=0)
    for session in document["tables"]["session"]:
        session.update(confirmed_count=42, waitlisted_count=7)
    target = new_app(backend, "target")
    add_staff(target)
    import_(target, document)
    with target.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == SLUG))
        assert (event.confirmed_count, event.waitlisted_count) == (1, 1)
        seats = sorted((s.confirmed_count, s.waitlisted_count) for s in event.sessions if s.takes_registrations)
    assert seats == [(0, 0), (0, 0), (1, 0)]  # Ben waits for the event: his round table is a wish


def test_import_cleans_text_as_the_forms_do(app, new_app):
    """A document is typed text too: a line separator pasted in a title (U+000B, Word's Shift+Enter) would break
    every e-mail's Subject; one-line fields get it as a space, multi-line ones as a line break."""
    source = new_app("sqlite", "source")
    populate(source)
    document = export(source)
    document["tables"]["event"][0]["title"] = "20 ans\u000bdes cancéropôles\u00ad"
    document["tables"]["event"][0]["description"] = "Matin\r\nAprès-midi\u2028Soir"
    import_(app, document)
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == SLUG))
        assert event.title == "20 ans des cancéropôles"
        assert event.description == "Matin\nAprès-midi\nSoir"
