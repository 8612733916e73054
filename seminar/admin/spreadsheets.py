"""Spreadsheet exports: formula-safe CSV (UTF-8 with BOM) and XLSX writers any area can reuse (check-in uses them
for attendance lists, the import for its report), and the registrants export.

Every text cell that a spreadsheet would read as a formula (starting with = + - @, tab or carriage
return) is prefixed with an apostrophe, in CSV and XLSX alike.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from seminar.admin.registrants import RegistrantFilters, matching
from seminar.audit.services import record_now
from seminar.events.models import Event, SessionKind
from seminar.extensions import db
from seminar.invitations.models import Invitation, invitation_state_label
from seminar.registration.models import Registration, RegistrationStatus, status_label
from seminar.text import header_line

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
    """A workbook with one sheet per (title, header, rows), ready to read: the header row bold, frozen and with
    filters, columns as wide as their content (within limits), times as Excel dates. Text cells are stored as
    text, never formulas, and without the control characters the format cannot hold (`_replacement`)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    def storable(value):
        return ILLEGAL_CHARACTERS_RE.sub(_replacement, value) if isinstance(value, str) else value

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    used: set[str] = set()
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(_sheet_title(title, used))
        header = [neutralise(storable(h)) for h in header]
        rows = [[neutralise(storable(v)) for v in row] for row in rows]
        # Widths, the frozen row and the filter are set before the first row: a write-only sheet streams its rows.
        for index, width in enumerate(_column_widths(header, rows), start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        if header:
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows) + 1}"
        cells = []
        for h in header:
            cell = WriteOnlyCell(sheet, value=h)
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)
        for row in rows:
            sheet.append([_xlsx_cell(sheet, v, WriteOnlyCell) for v in row])
    if not used:
        workbook.create_sheet("-")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


XLSX_DATE_FORMAT = "yyyy-mm-dd hh:mm"


def _column_widths(header: Sequence, rows: Sequence[Sequence], *, minimum: int = 6, maximum: int = 50) -> list[int]:
    """A width per column (in characters) that fits its header and the longest of its first thousand values."""
    widths = [len(str(h)) + 3 for h in header]  # room for the filter button
    for row in rows[:1000]:
        for index, value in enumerate(row[:len(widths)]):
            length = 16 if isinstance(value, datetime) else max(map(len, str(value).split("\n")), default=0)
            widths[index] = max(widths[index], length + 1)
    return [min(max(width, minimum), maximum) for width in widths]


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
    elif isinstance(value, datetime):
        cell.number_format = XLSX_DATE_FORMAT
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
    for r in registrations:
        seats = [f"{titles.get(s.session_id, s.session_id)} ({status_label(s.status)})" for s in r.active_seats()]
        yield [r.id, r.last_name, r.first_name, r.email, r.organisation, r.job_title,
               r.category.label_for(locale) if r.category else "", status_label(r.status), " | ".join(seats),
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


def export_guest_list(event: Event, fmt: str = "csv", *, locale: str = "fr", user=None) -> ExportFile:
    """The event's guest list with each guest's state, as CSV or XLSX (cells neutralised as every export's);
    recorded in the audit log."""
    guests = db.session.scalars(select(Invitation).where(Invitation.event_id == event.id)
                                .options(joinedload(Invitation.category))
                                .order_by(Invitation.last_name, Invitation.first_name))
    header = [_("Last name"), _("First name"), _("E-mail"), _("Organisation"), _("Category"), _("Language"),
              _("State"), _("Sent at"), _("Reminders"), _("Link opened at"), _("Answered at"), _("Message")]

    def local(moment):
        return event.local(moment) if moment else None

    rows = [[g.last_name, g.first_name, g.email, g.organisation, g.category.label_for(locale) if g.category else "",
             g.language, invitation_state_label(g.state), local(g.sent_at), g.reminders, local(g.opened_at),
             local(g.answered_at), g.decline_message] for g in guests]
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    if fmt == "xlsx":
        content, name = xlsx_bytes([(_("Guest list"), header, rows)]), f"{event.slug}-guests-{stamp}.xlsx"
    else:
        fmt, content, name = "csv", csv_bytes(header, rows), f"{event.slug}-guests-{stamp}.csv"
    record_now("invitations.export", event_id=event.id, target_type="event", target_id=event.id,
               details={"format": fmt, "rows": len(rows)}, user=user)
    return ExportFile(content, name, XLSX_MIMETYPE if fmt == "xlsx" else CSV_MIMETYPE, len(rows))
