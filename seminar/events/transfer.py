"""Moving an event between databases: a versioned JSON document with everything the event owns.

The document (format "seminar-event", version 1) holds one list of rows per table, in insertion order:
the event, its venue and rooms, categories, organisations, press contacts, speakers (photos in base64),
sessions and their speakers, registrations with their round-table seats and per-session attendance.
Every column is written, so a column added to one of these models travels without touching this
module. Rows keep their original ids, and references between them use those ids; on import they are
kept when all are free in the target database (a move into a fresh database: session URLs and calendar
UIDs stay the same), else new ones are given and references follow. Check-ins by staff refer to the
staff account's e-mail (`checked_in_by_email`), matched against the target's accounts. Token hashes
travel, so registrants' self-service links keep working (with the same SECRET_KEY for new links).

Not part of an event's document: staff accounts, the outbox, the audit log and background jobs.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import force_locale
from sqlalchemy import Boolean, Enum, Integer, LargeBinary, String, Table, Text, delete, func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError

from seminar.accounts.models import User
from seminar.database import write_transaction
from seminar.events import signals
from seminar.events.models import (
    Category,
    Event,
    Organisation,
    PressContact,
    Room,
    Session,
    SessionSpeaker,
    Speaker,
    Venue,
    registration_outlasts_event,
)
from seminar.events.programme import ProgrammeError, prepare_photo
from seminar.extensions import UTCDateTime, db, utcnow
from seminar.registration.models import Registration, SessionAttendance, SessionSeat
from seminar.text import RefusedText, clean_text

FORMAT = "seminar-event"
VERSION = 1

# Insertion order: every table after the tables it refers to.
TABLES: tuple[Table, ...] = tuple(
    model.__table__
    for model in (Event, Venue, Room, Category, Organisation, PressContact, Speaker, Session, SessionSpeaker,
                  Registration, SessionSeat, SessionAttendance)
)
USER_TABLE = User.__table__.name
_CHUNK = 500
_JSON_TYPES = {Boolean: bool, Integer: int, String: str, Text: str}


class TransferError(ValueError):
    """The document cannot be imported (or the event exported); the message says why."""


@dataclass
class ImportResult:
    slug: str
    counts: dict[str, int]
    ids_kept: bool
    unknown_staff: set[str] = field(default_factory=set)


# --- export -----------------------------------------------------------------------------------------


def export_event(slug: str) -> dict:
    """The event with this slug as a JSON-ready document; TransferError if there is no such event."""
    event_id = db.session.scalar(select(Event.id).where(Event.slug == slug))
    if event_id is None:
        raise TransferError(f"no event with the slug {slug!r}")
    rows = _event_rows(event_id)
    emails = _user_emails({r[c.name] for t in TABLES for r in rows[t.name] for c in _user_columns(t)} - {None})
    tables = {t.name: [_row_to_json(t, r, emails) for r in rows[t.name]] for t in TABLES}
    db.session.rollback()  # end the read transaction
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": utcnow().isoformat(),
        "source_database": db.engine.dialect.name,
        "tables": tables,
    }


def _event_rows(event_id: int) -> dict[str, list[dict]]:
    """Every row the event owns, by table, in id order."""
    owner = {  # how each table's rows are found from rows already read
        "event": ("id", "event", "id"),
        "venue": ("event_id", "event", "id"),
        "room": ("venue_id", "venue", "id"),
        "session_speaker": ("session_id", "session", "id"),
        "session_seat": ("registration_id", "registration", "id"),
        "session_attendance": ("registration_id", "registration", "id"),
    }
    rows: dict[str, list[dict]] = {}
    for table in TABLES:
        column, parent, parent_column = owner.get(table.name, ("event_id", "event", "id"))
        parent_ids = [event_id] if table.name == "event" else [r[parent_column] for r in rows[parent]]
        found: list[dict] = []
        for chunk in _chunks(parent_ids):
            query = select(table).where(table.c[column].in_(chunk)).order_by(table.c.id)
            found.extend(dict(r._mapping) for r in db.session.execute(query))
        rows[table.name] = sorted(found, key=lambda r: r["id"])
    return rows


def _row_to_json(table: Table, row: dict, emails: dict[int, str]) -> dict:
    out = {}
    for column in table.columns:
        value = row[column.name]
        if _refers_to_user(column):
            out[_email_key(column)] = emails.get(value)
        elif value is None:
            out[column.name] = None
        elif isinstance(column.type, UTCDateTime):
            out[column.name] = value.isoformat()
        elif isinstance(column.type, Enum):
            out[column.name] = value.name
        elif isinstance(column.type, LargeBinary):
            out[column.name] = base64.b64encode(value).decode("ascii")
        else:
            out[column.name] = value
    return out


# --- import -----------------------------------------------------------------------------------------


def import_event(document: dict, *, replace: bool = False) -> ImportResult:
    """Create the event described by an `export_event` document, in one transaction.

    An event with the same slug is refused unless `replace` is true, in which case it is deleted
    first (with everything it owns, including its audit entries and jobs). Raises TransferError
    with a clear message when the document is not valid or does not fit the database.
    """
    tables = _check_document(document)
    slug = tables["event"][0]["slug"]
    try:
        with write_transaction():
            existing = db.session.scalar(select(Event.id).where(Event.slug == slug))
            if existing is not None:
                if not replace:
                    raise TransferError(
                        f"an event with the slug {slug!r} already exists (use --replace to overwrite it)")
                db.session.execute(delete(Event.__table__).where(Event.__table__.c.id == existing))
            result = _insert_all(tables, slug)
            event_id = db.session.scalar(select(Event.id).where(Event.slug == slug))
            signals.event_loaded.send(event_id=event_id)
    except SQLAlchemyError as error:  # rolled back by write_transaction
        detail = str(getattr(error, "orig", error)).splitlines()[0]
        raise TransferError(f"the database refused the event: {detail}") from error
    return result


def _check_document(document) -> dict[str, list[dict]]:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise TransferError(f"not a Seminar event export (expected \"format\": \"{FORMAT}\")")
    version = document.get("version")
    if version != VERSION:
        raise TransferError(f"unsupported format version {version!r}: this version of Seminar reads version {VERSION}")
    tables = document.get("tables")
    if not isinstance(tables, dict):
        raise TransferError("\"tables\" is missing")
    known = {t.name for t in TABLES}
    if unknown := set(tables) - known:
        raise TransferError(f"unknown tables: {', '.join(sorted(unknown))}")
    for table in TABLES:
        rows = tables.setdefault(table.name, [])
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise TransferError(f"\"{table.name}\" must be a list of objects")
        allowed = {_email_key(c) if _refers_to_user(c) else c.name for c in table.columns}
        for number, row in enumerate(rows, 1):
            if unknown := set(row) - allowed:
                raise TransferError(f"{table.name} #{number}: unknown fields {', '.join(sorted(unknown))}")
            if not isinstance(row.get("id"), int):
                raise TransferError(f"{table.name} #{number}: \"id\" must be an integer")
    if len(tables["event"]) != 1 or not isinstance(tables["event"][0].get("slug"), str):
        raise TransferError("the document must hold exactly one event, with a slug")
    return tables


def _insert_all(tables: dict[str, list[dict]], slug: str) -> ImportResult:
    ids_kept = _ids_are_free(tables)
    staff = _staff_ids(tables)
    new_ids: dict[str, dict[int, int]] = {}
    for table in TABLES:
        mapping = new_ids[table.name] = {}
        for number, row in enumerate(tables[table.name], 1):
            where = f"{table.name} #{number}"
            values = _row_from_json(table, row, where, new_ids, staff)
            if table is Event.__table__:
                _check_registration_window(values, where)
                if values.get("organiser_logo"):
                    values["organiser_logo"], values["organiser_logo_mimetype"] = _prepared_photo(
                        values["organiser_logo"], where)
            if table is Speaker.__table__ and values.get("photo"):
                values["photo"], values["photo_mimetype"] = _prepared_photo(values["photo"], where)
            if ids_kept:
                db.session.execute(insert(table).values(values))
                mapping[row["id"]] = row["id"]
            else:
                values.pop("id")
                mapping[row["id"]] = db.session.execute(insert(table).values(values).returning(table.c.id)).scalar_one()
    if ids_kept:
        _advance_sequences()
    unknown = {email for email, user_id in staff.items() if user_id is None}
    return ImportResult(slug, {t.name: len(tables[t.name]) for t in TABLES}, ids_kept, unknown)


def _row_from_json(table: Table, row: dict, where: str, new_ids: dict, staff: dict[str, int | None]) -> dict:
    values = {}
    for column in table.columns:
        if _refers_to_user(column):
            email = row.get(_email_key(column))
            values[column.name] = staff.get(email) if email else None
            continue
        if column.name not in row or (row[column.name] is None and not column.nullable and column.default):
            continue  # the column's default (a null there: a document written before the column was required)
        value = _value_from_json(column, row[column.name], f"{where}, {column.name}")
        target = _referenced_table(column)
        if target is not None and value is not None:
            if value not in new_ids.get(target, {}):
                raise TransferError(f"{where}: {column.name} {value} refers to no {target} of this event")
            value = new_ids[target][value]
        values[column.name] = value
    return values


def _check_registration_window(event: dict, where: str) -> None:
    """Registration never stays open after the event ends (without a closing time, it closes at the start)."""
    closes, ends = event.get("registration_closes_at"), event.get("ends_at")
    if closes is not None and ends is not None and registration_outlasts_event(closes, ends):
        raise TransferError(f"{where}: registration_closes_at {closes.isoformat()} is after the event's end "
                            f"({ends.isoformat()}): registration cannot close after the event ends")


def _prepared_photo(photo: bytes, where: str) -> tuple[bytes, str]:
    """A speaker's photo (or the organiser's logo) as an upload would store it (checked, re-encoded, without
    metadata): a document may hold anything, or photos stored before uploads were re-encoded."""
    try:
        with force_locale("en"):  # this module's messages are in English
            return prepare_photo(photo)
    except ProgrammeError as error:
        raise TransferError(f"{where}, photo: {error.problems['photo']}") from None


def _value_from_json(column, value, where: str):
    if value is None:
        return None
    kind = column.type
    try:
        if isinstance(kind, UTCDateTime):
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                raise TransferError(f"{where}: a time without UTC offset")
            return moment
        if isinstance(kind, Enum):
            return kind.enum_class[value]
        if isinstance(kind, LargeBinary):
            return base64.b64decode(value, validate=True)
    except (TypeError, ValueError, KeyError, binascii.Error) as error:
        if isinstance(error, TransferError):
            raise
        raise TransferError(f"{where}: invalid value {value!r}") from error
    python_type = next((p for sql_type, p in _JSON_TYPES.items() if isinstance(kind, sql_type)), None)
    if python_type and (not isinstance(value, python_type) or (python_type is int and isinstance(value, bool))):
        raise TransferError(f"{where}: expected {python_type.__name__}, got {value!r}")
    if isinstance(kind, String):  # text as a person would have typed it: the same cleaning as the forms'
        try:
            return clean_text(value, multiline=kind.length is None, max_length=kind.length)
        except RefusedText as refused:
            with force_locale("en"):  # this module's messages are in English
                raise TransferError(refused.message(where)) from None
    return value


def _ids_are_free(tables: dict[str, list[dict]]) -> bool:
    for table in TABLES:
        ids = [row["id"] for row in tables[table.name]]
        for chunk in _chunks(ids):
            if db.session.scalar(select(func.count()).select_from(table).where(table.c.id.in_(chunk))):
                return False
    return True


def _advance_sequences() -> None:
    """PostgreSQL: rows inserted with explicit ids leave the id sequences behind; move them on."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        following = (db.session.scalar(select(func.max(table.c.id))) or 0) + 1
        db.session.execute(
            text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :following, false)"),
            {"table": f'"{table.name}"', "following": following},
        )


def _staff_ids(tables: dict[str, list[dict]]) -> dict[str, int | None]:
    """Staff e-mails named by check-ins → the target database's account ids (None: no such account)."""
    emails = {row.get(_email_key(c)) for t in TABLES for c in _user_columns(t) for row in tables[t.name]} - {None}
    found = dict(db.session.execute(select(User.email, User.id).where(User.email.in_(emails))).all()) if emails else {}
    return {email: found.get(email) for email in emails}


# --- helpers ----------------------------------------------------------------------------------------


def _referenced_table(column) -> str | None:
    for foreign_key in column.foreign_keys:
        return foreign_key.column.table.name
    return None


def _refers_to_user(column) -> bool:
    return _referenced_table(column) == USER_TABLE


def _user_columns(table: Table) -> list:
    return [c for c in table.columns if _refers_to_user(c)]


def _email_key(column) -> str:
    return column.name.removesuffix("_id") + "_email"


def _user_emails(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.email).where(User.id.in_(ids))).all())


def _chunks(values: list, size: int = _CHUNK):
    for start in range(0, len(values), size):
        yield values[start:start + size]
