"""The CSV import of registrants: read and check a file (the preview writes nothing), keep it on the server between
the preview and the confirmation, then register its rows as the registration service does (capacity applies).

A file of up to IMPORT_SYNC_MAX_ROWS rows is imported while the organiser waits; a larger one by a background job
(`run_import_job`, run by `flask worker`) that reports its progress and leaves a report to download. The command
line (`flask registrations import`) always imports at once, with a progress bar. Every import is recorded in the
audit log with its counts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, select

from seminar.admin.models import ImportUpload
from seminar.admin.spreadsheets import CSV_MIMETYPE, csv_bytes
from seminar.audit.services import record_now
from seminar.database import write_transaction
from seminar.events.models import Category, Event, SessionKind
from seminar.extensions import db, utcnow
from seminar.registration import services as registration
from seminar.registration.models import (
    BadgeRole,
    Registration,
    RegistrationSource,
    RegistrationStatus,
    badge_role_label,
    status_label,
)
from seminar.registration.validation import InvalidDetails, email_key
from seminar.text import fold

IMPORT_MAX_ROWS = 20_000
# How often a long import reports its progress (rows).
PROGRESS_EVERY = 50

Progress = Callable[[int, int], None]


@dataclass
class ImportRow:
    line: int
    details: registration.RegistrationDetails
    session_ids: list[int]


@dataclass
class ImportReport:
    """Outcome of an import (or of its preview): line numbers refer to the file, header = line 1."""

    ready: list[ImportRow] = field(default_factory=list)
    created: list[tuple[int, str, RegistrationStatus]] = field(default_factory=list)  # line, e-mail, status
    duplicates: list[tuple[int, str]] = field(default_factory=list)  # line, e-mail
    rejected: list[tuple[int, str]] = field(default_factory=list)  # line, reason
    error: str = ""

    def summary(self) -> dict:
        return {"created": len(self.created), "duplicates": len(self.duplicates), "rejected": len(self.rejected)}


def decode_csv(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def category_lookup(event_id: int) -> dict[str, int]:
    lookup = {}
    for c in db.session.scalars(select(Category).where(Category.event_id == event_id)):
        for name in (c.code, c.label, c.label_en):
            if name:
                lookup[name.strip().casefold()] = c.id
    return lookup


def _round_table_lookup(event: Event) -> dict[str, int]:
    """A round table by its id, its title or its English title (accents and case ignored)."""
    lookup = {}
    for session in event.sessions:
        if session.kind is SessionKind.round_table:
            lookup[str(session.id)] = lookup[fold(session.title)] = session.id
            if session.title_en:
                lookup.setdefault(fold(session.title_en), session.id)
    return lookup


def _round_tables_named(cell: str, round_tables: dict[str, int]) -> tuple[list[int], list[str]]:
    """The round tables a `sessions` cell names, by title or id, separated by ";" (ids also by ","): their ids,
    and the names it holds that match none."""
    found, unknown = [], []
    for part in (p.strip() for p in cell.split(";")):
        names = [part] if fold(part) in round_tables else [p.strip() for p in part.split(",")]
        for name in filter(None, names):
            if (session_id := round_tables.get(fold(name))) is None:
                unknown.append(name)
            elif session_id not in found:
                found.append(session_id)
    return found, unknown


def field_errors(invalid: InvalidDetails) -> str:
    labels = {"first_name": _("First name"), "last_name": _("Last name"), "email": _("E-mail"),
              "organisation": _("Organisation"), "job_title": _("Job title"), "category_id": _("Category")}
    return "; ".join(_("%(field)s: %(message)s", field=labels.get(name, name), message=message)
                     for name, message in invalid.errors.items())


def csv_reader(data: bytes):
    """A CSV reader of the file, its separator (comma, semicolon or tab) guessed from the header line."""
    text = decode_csv(data)
    try:
        delimiter = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def rows_in(data: bytes) -> int:
    """How many rows the file holds under its header (blank lines aside), without checking them."""
    try:
        return max(sum(1 for values in csv_reader(data) if any(v.strip() for v in values)) - 1, 0)
    except csv.Error:
        return 0


def read_import(event: Event, data: bytes) -> ImportReport:
    """Parse and check a CSV file without writing anything: rows ready to import, duplicates (in the file
    or already registered, by e-mail) and rejected rows with their reason."""
    report = ImportReport()
    reader = csv_reader(data)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error):
        report.error = _("The file is empty.")
        return report
    missing = [c for c in ("first_name", "last_name", "email") if c not in header]
    if missing:
        report.error = _("Missing columns: %(columns)s.", columns=", ".join(missing))
        return report
    categories = category_lookup(event.id)
    round_tables = _round_table_lookup(event)
    # Any registration counts, cancelled ones too: an import never takes up a cancelled registration.
    existing = set(db.session.scalars(select(Registration.email_key).where(Registration.event_id == event.id)))
    seen: set[str] = set()
    try:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(report.ready) + len(report.rejected) + len(report.duplicates) >= IMPORT_MAX_ROWS:
                report.rejected.append((line, _("Too many rows: at most %(num)d per file.", num=IMPORT_MAX_ROWS)))
                break
            row = dict(zip(header, (v.strip() for v in values), strict=False))
            _check_row(report, line, row, categories, round_tables, existing, seen)
    except csv.Error as error:
        report.rejected.append((reader.line_num, _("Unreadable CSV: %(error)s", error=str(error))))
    return report


# How people write the roles in a spreadsheet, besides the codes and the labels of the interface.
_ROLE_WORDS = {
    BadgeRole.attendee: ("participant", "participante"),
    BadgeRole.speaker: ("intervenant", "intervenante", "orateur", "oratrice", "panelist", "panellist"),
    BadgeRole.moderator: ("moderateur", "moderatrice", "chair"),
    BadgeRole.organiser: ("organisateur", "organisatrice", "organizer"),
    BadgeRole.press: ("journaliste", "journalist"),
    BadgeRole.staff: ("equipe", "benevole", "volunteer"),
}


@cache
def badge_role_lookup() -> dict[str, BadgeRole]:
    """A badge role by its code, its name in French or in English, or a usual word for it (accents and case
    ignored): the `role` column of an import."""
    lookup = {word: role for role, words in _ROLE_WORDS.items() for word in words}
    for role in BadgeRole:
        lookup[fold(role.name)] = role
        for locale in ("fr", "en"):
            with force_locale(locale):
                lookup[fold(badge_role_label(role))] = role
    return lookup


def _check_row(report, line, row, categories, round_tables, existing, seen) -> None:
    role_name = row.get("role", "")
    badge_role = badge_role_lookup().get(fold(role_name)) if role_name else None
    if role_name and badge_role is None:
        report.rejected.append((line, _("Unknown badge role “%(name)s”.", name=role_name)))
        return
    category_name = row.get("category", "")
    category_id = categories.get(category_name.casefold()) if category_name else None
    if category_name and category_id is None:
        report.rejected.append((line, _("Unknown category “%(name)s”.", name=category_name)))
        return
    session_ids, unknown = _round_tables_named(row.get("sessions", ""), round_tables)
    if unknown:
        report.rejected.append((line, _("Unknown round table: %(ids)s.", ids=", ".join(unknown))))
        return
    details = registration.RegistrationDetails(
        first_name=row.get("first_name", ""), last_name=row.get("last_name", ""), email=row.get("email", ""),
        organisation=row.get("organisation", ""), job_title=row.get("job_title", ""), category_id=category_id,
        consent_privacy=False, badge_role=badge_role)
    try:
        details = registration.clean_details(details)
    except InvalidDetails as invalid:
        report.rejected.append((line, field_errors(invalid)))
        return
    key = email_key(details.email)
    if key in existing or key in seen:
        report.duplicates.append((line, details.email))
        return
    seen.add(key)
    report.ready.append(ImportRow(line, details, session_ids))


def import_registrations(event: Event, data: bytes, *, send_email: bool = True, locale: str = "fr",
                         user=None, progress: Progress | None = None) -> ImportReport:
    """Import a CSV of registrants at once: each good row is registered as by the registration service (capacity
    applies: confirmed or waitlisted), duplicates are skipped, bad rows rejected. `progress(done, total)` is told
    as rows are registered. Recorded in the audit log."""
    report = read_import(event, data)
    if not report.error:
        register_rows(event, report, send_email=send_email, locale=locale, user=user, progress=progress)
    return report


def register_rows(event: Event, report: ImportReport, *, send_email: bool, locale: str, user=None,
                  progress: Progress | None = None) -> None:
    """Register the rows a `read_import` found ready, each in a transaction of its own (a row refused by the
    ledger or a concurrent registration does not undo the others), then record the import in the audit log."""
    total, event_id = len(report.ready), event.id  # each commit expires `event`: read its id once
    for done, row in enumerate(report.ready, start=1):
        try:
            outcome = registration.register(event_id, row.details, row.session_ids, locale=locale,
                                            source=RegistrationSource.import_, notify=send_email)
        except registration.RegistrationError as error:
            report.rejected.append((row.line, str(error.message)))
        except InvalidDetails as invalid:
            report.rejected.append((row.line, field_errors(invalid)))
        else:
            if outcome.created:
                report.created.append((row.line, row.details.email, outcome.status))
            else:  # registered meanwhile by someone else
                report.duplicates.append((row.line, row.details.email))
        if progress and (done % PROGRESS_EVERY == 0 or done == total):
            progress(done, total)
    report.ready = []
    report.rejected.sort()
    report.duplicates.sort()
    record_now("registrations.import", event_id=event_id, target_type="event", target_id=event_id,
               details={**report.summary(), "send_email": send_email}, user=user)


def report_csv(report: ImportReport) -> bytes:
    """The report of an import as a spreadsheet: one line per row of the file, in its order."""
    lines = [(line, email, _("created (%(status)s)", status=status_label(status)), "")
             for line, email, status in report.created]
    lines += [(line, email, _("duplicate"), "") for line, email in report.duplicates]
    lines += [(line, "", _("rejected"), reason) for line, reason in report.rejected]
    return csv_bytes([_("Line"), _("E-mail"), _("Outcome"), _("Reason")], sorted(lines))


# --- the file between the preview and the confirmation ----------------------------------------------------

class UploadGone(Exception):
    """The file of a preview is no longer kept (imported already, or cleared away): upload it again."""


def keep_upload(event_id: int, data: bytes, filename: str = "", *, user_id: int | None = None) -> int:
    """Store an uploaded file for its confirmation (or its background import); returns its id."""
    with write_transaction():
        upload = ImportUpload(event_id=event_id, content=data, filename=filename[:200], created_by_id=user_id)
        db.session.add(upload)
    return upload.id


def _upload_content(event_id: int, upload_id: int) -> bytes:
    content = db.session.scalar(
        select(ImportUpload.content).where(ImportUpload.id == upload_id, ImportUpload.event_id == event_id))
    if content is None:
        raise UploadGone()
    return bytes(content)


def _discard_upload(upload_id: int) -> None:
    with write_transaction():
        db.session.execute(delete(ImportUpload).where(ImportUpload.id == upload_id))


def prune_import_uploads() -> int:
    """Housekeeping: delete the files kept longer than IMPORT_UPLOAD_RETENTION_HOURS (a preview never confirmed,
    an import whose job failed): they hold names and addresses. Returns how many went."""
    cutoff = utcnow() - timedelta(hours=current_app.config["IMPORT_UPLOAD_RETENTION_HOURS"])
    with write_transaction():
        return db.session.execute(delete(ImportUpload).where(ImportUpload.created_at < cutoff)).rowcount


@dataclass
class ImportStarted:
    """What confirming did: imported at once (`report`) or queued as a background job (`job_id`)."""

    report: ImportReport | None = None
    job_id: int | None = None


def confirm_import(event: Event, upload_id: int, *, send_email: bool, locale: str, user=None) -> ImportStarted:
    """Import the file kept by `keep_upload`: at once a file of up to IMPORT_SYNC_MAX_ROWS rows, else as a
    background job (which checks its rows: they are not read twice). Raises UploadGone when the file is no longer
    kept."""
    from seminar.jobs.services import enqueue_job

    data = _upload_content(event.id, upload_id)
    if rows_in(data) <= current_app.config["IMPORT_SYNC_MAX_ROWS"]:
        report = import_registrations(event, data, send_email=send_email, locale=locale, user=user)
        _discard_upload(upload_id)
        return ImportStarted(report=report)
    db.session.rollback()  # end the read before writing the job (SQLite)
    params = {"upload_id": upload_id, "send_email": send_email, "locale": locale}
    job_id = enqueue_job("registration_import", params, event_id=event.id, user_id=getattr(user, "id", None))
    return ImportStarted(job_id=job_id)


def run_import_job(context):
    """Job handler (seminar.jobs): import a kept file, reporting progress; the result is the report (CSV) and its
    summary. Run again after a worker died, the rows already imported count as duplicates."""
    from seminar.accounts.models import User
    from seminar.jobs.services import JobResult

    params = context.params
    event = db.session.get(Event, context.event_id)
    data = _upload_content(context.event_id, params["upload_id"])
    user = db.session.get(User, context.user_id) if context.user_id else None
    with force_locale(params.get("locale", "fr")):
        report = import_registrations(event, data, send_email=params.get("send_email", True),
                                      locale=params.get("locale", "fr"), user=user, progress=context.progress)
        content = report_csv(report)
    _discard_upload(params["upload_id"])
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    return JobResult(content, f"{event.slug}-import-report-{stamp}.csv", CSV_MIMETYPE,
                     summary={**report.summary(), "error": report.error})
