"""Spreadsheet exports and imports: formula-safe CSV (UTF-8 with BOM) and XLSX writers any area can reuse
(check-in uses them for attendance lists), the registrants export, and the CSV import of registrants.

Every text cell that a spreadsheet would read as a formula (starting with = + - @, tab or carriage
return) is prefixed with an apostrophe, in CSV and XLSX alike.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from seminar.admin.registrants import RegistrantFilters, matching
from seminar.audit.services import record_now
from seminar.events.models import Category, Event, SessionKind
from seminar.extensions import db
from seminar.registration import services as registration
from seminar.registration.models import Registration, RegistrationSource, RegistrationStatus
from seminar.registration.validation import InvalidDetails, email_key
from seminar.text import header_line

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMPORT_COLUMNS = ("first_name", "last_name", "email", "organisation", "job_title", "category")
IMPORT_MAX_ROWS = 20_000


def neutralise(value) -> object:
    """A cell value that no spreadsheet evaluates: text starting like a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence], *, delimiter: str = ",") -> bytes:
    """UTF-8 with a byte-order mark (so that Excel reads accents right), every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([_csv_cell(neutralise(v)) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_cell(value) -> str:
    return value.isoformat(timespec="minutes") if isinstance(value, datetime) else value


def xlsx_bytes(sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence]]]) -> bytes:
    """A workbook with one sheet per (title, header, rows); text cells are stored as text, never formulas, and
    without the control characters the format cannot hold (`_replacement`)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    def storable(value):
        return ILLEGAL_CHARACTERS_RE.sub(_replacement, value) if isinstance(value, str) else value

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    used: set[str] = set()
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(_sheet_title(title, used))
        cells = []
        for h in header:
            cell = WriteOnlyCell(sheet, value=neutralise(storable(h)))
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)
        for row in rows:
            sheet.append([_xlsx_cell(sheet, neutralise(storable(v)), WriteOnlyCell) for v in row])
    if not used:
        workbook.create_sheet("-")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _replacement(match) -> str:
    """What replaces a character that XLSX forbids: a line break for the separators office software pastes
    (U+000B, U+000C), nothing for the others; stored text may predate the cleaning of typed text."""
    return "\n" if match.group() in "\v\f" else ""


def _xlsx_cell(sheet, value, cell_class):
    if isinstance(value, datetime):
        value = value.replace(tzinfo=None)  # Excel keeps no time zone; callers pass local times
    cell = cell_class(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def _sheet_title(title: str, used: set[str]) -> str:
    cleaned = "".join("_" if ch in '[]:*?/\\' else ch for ch in header_line(title)).strip("'") or "-"
    base, n = cleaned[:31], 2
    candidate = base
    while candidate.casefold() in used:
        suffix = f" ({n})"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(candidate.casefold())
    return candidate


# --- registrants export ----------------------------------------------------------------------------------

def registrant_header() -> list[str]:
    return [_("Id"), _("Last name"), _("First name"), _("E-mail"), _("Organisation"), _("Job title"),
            _("Category"), _("Status"), _("Round tables"), _("Checked in at"), _("Registered at"), _("Source"),
            _("Overbooked"), _("Dietary requirements"), _("Accessibility needs")]


def registrant_rows(event: Event, registrations: Iterable[Registration], locale: str = "fr") -> Iterable[list]:
    titles = {s.id: s.title for s in event.sessions}
    statuses = {"confirmed": _("confirmed"), "waitlisted": _("waitlisted"), "wish": _("wish"),
                "cancelled": _("cancelled")}
    for r in registrations:
        seats = [f"{titles.get(s.session_id, s.session_id)} ({statuses[s.status.name]})" for s in r.active_seats()]
        yield [r.id, r.last_name, r.first_name, r.email, r.organisation, r.job_title,
               r.category.label_for(locale) if r.category else "", statuses[r.status.name], " | ".join(seats),
               event.local(r.checked_in_at) if r.checked_in_at else None, event.local(r.created_at),
               r.source.value, r.overbooked, r.dietary, r.accessibility]


@dataclass
class ExportFile:
    content: bytes
    filename: str
    mimetype: str
    rows: int


def export_registrants(event: Event, filters: RegistrantFilters, fmt: str = "csv", *, delimiter: str = ",",
                       by_round_table: bool = False, locale: str = "fr", user=None) -> ExportFile:
    """The registrants matching `filters` as CSV or XLSX. `by_round_table` (XLSX): one sheet per round table
    with its confirmed attendees. The export is recorded in the audit log (and committed)."""
    header = registrant_header()
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    if by_round_table:
        fmt = "xlsx"
        sheets, count = [], 0
        for session in (s for s in event.sessions if s.kind is SessionKind.round_table):
            people = matching(event.id, RegistrantFilters(status=RegistrationStatus.confirmed, session_id=session.id,
                                                          sort="name", descending=False))
            count += len(people)
            sheets.append((session.title, header, list(registrant_rows(event, people, locale))))
        content, name = xlsx_bytes(sheets), f"{event.slug}-round-tables-{stamp}.xlsx"
    else:
        people = matching(event.id, filters)
        count = len(people)
        rows = registrant_rows(event, people, locale)
        if fmt == "xlsx":
            content, name = xlsx_bytes([(_("Registrants"), header, rows)]), f"{event.slug}-registrants-{stamp}.xlsx"
        else:
            fmt = "csv"
            content = csv_bytes(header, rows, delimiter=";" if delimiter == ";" else ",")
            name = f"{event.slug}-registrants-{stamp}.csv"
    # In a write transaction of its own, not the read one above (see record_now).
    record_now("registrations.export", event_id=event.id, target_type="event", target_id=event.id,
               details={"format": fmt, "rows": count, "by_round_table": by_round_table, **filters.to_args()},
               user=user)
    return ExportFile(content, name, XLSX_MIMETYPE if fmt == "xlsx" else CSV_MIMETYPE, count)


# --- registrants import ----------------------------------------------------------------------------------

@dataclass
class ImportRow:
    line: int
    details: registration.RegistrationDetails
    session_ids: list[int]


@dataclass
class ImportReport:
    """Outcome of an import (or of its preview): line numbers refer to the file, header = line 1."""

    ready: list[ImportRow] = field(default_factory=list)
    created: list[tuple[int, str, str]] = field(default_factory=list)  # line, e-mail, status
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


def _category_lookup(event_id: int) -> dict[str, int]:
    lookup = {}
    for c in db.session.scalars(select(Category).where(Category.event_id == event_id)):
        for name in (c.code, c.label, c.label_en):
            if name:
                lookup[name.strip().casefold()] = c.id
    return lookup


def read_import(event: Event, data: bytes) -> ImportReport:
    """Parse and check a CSV file without writing anything: rows ready to import, duplicates (in the file
    or already registered, by e-mail) and rejected rows with their reason."""
    report = ImportReport()
    text = decode_csv(data)
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error):
        report.error = _("The file is empty.")
        return report
    missing = [c for c in ("first_name", "last_name", "email") if c not in header]
    if missing:
        report.error = _("Missing columns: %(columns)s.", columns=", ".join(missing))
        return report
    categories = _category_lookup(event.id)
    round_tables = {s.id for s in event.sessions if s.kind is SessionKind.round_table}
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


def _check_row(report, line, row, categories, round_tables, existing, seen) -> None:
    category_name = row.get("category", "")
    category_id = categories.get(category_name.casefold()) if category_name else None
    if category_name and category_id is None:
        report.rejected.append((line, _("Unknown category “%(name)s”.", name=category_name)))
        return
    try:
        session_ids = [int(v) for v in row.get("sessions", "").replace(",", ";").split(";") if v.strip()]
    except ValueError:
        report.rejected.append((line, _("Sessions must be session ids separated by ;.")))
        return
    unknown = [s for s in session_ids if s not in round_tables]
    if unknown:
        report.rejected.append((line, _("Unknown round table: %(ids)s.", ids=", ".join(map(str, unknown)))))
        return
    details = registration.RegistrationDetails(
        first_name=row.get("first_name", ""), last_name=row.get("last_name", ""), email=row.get("email", ""),
        organisation=row.get("organisation", ""), job_title=row.get("job_title", ""), category_id=category_id,
        consent_privacy=False)
    try:
        details = registration.clean_details(details)
    except InvalidDetails as invalid:
        report.rejected.append((line, "; ".join(f"{k}: {v}" for k, v in invalid.errors.items())))
        return
    key = email_key(details.email)
    if key in existing or key in seen:
        report.duplicates.append((line, details.email))
        return
    seen.add(key)
    report.ready.append(ImportRow(line, details, session_ids))


def import_registrations(event: Event, data: bytes, *, send_email: bool = True, locale: str = "fr",
                         user=None) -> ImportReport:
    """Import a CSV of registrants: each good row is registered as by the registration service (capacity
    applies: confirmed or waitlisted), duplicates are skipped, bad rows rejected. Recorded in the audit log."""
    report = read_import(event, data)
    if report.error:
        return report
    for row in report.ready:
        try:
            outcome = registration.register(event.id, row.details, row.session_ids, locale=locale,
                                            source=RegistrationSource.import_, notify=send_email)
        except registration.RegistrationError as error:
            report.rejected.append((row.line, str(error.message)))
            continue
        except InvalidDetails as invalid:
            report.rejected.append((row.line, "; ".join(invalid.errors.values())))
            continue
        if outcome.created:
            report.created.append((row.line, row.details.email, outcome.status.value))
        else:
            report.duplicates.append((row.line, row.details.email))
    report.ready = []
    report.rejected.sort()
    report.duplicates.sort()
    # Each row was registered in a transaction of its own; the summary is recorded in one more.
    record_now("registrations.import", event_id=event.id, target_type="event", target_id=event.id,
               details={**report.summary(), "send_email": send_email}, user=user)
    return report
