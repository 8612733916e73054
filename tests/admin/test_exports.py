"""Exports: formula neutralisation, CSV with BOM and semicolons, XLSX, per round table, CLI, audit."""

import csv
import io
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from seminar.admin.spreadsheets import csv_bytes, neutralise, xlsx_bytes
from seminar.audit.models import AuditEntry
from seminar.extensions import db
from tests.admin.conftest import SLUG, register, round_tables

DANGEROUS = ["=HYPERLINK(\"http://evil\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


@pytest.mark.parametrize("value", DANGEROUS)
def test_neutralise_prefixes_formula_starters(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["Marie", "a=b", "", "Ligue contre le cancer", 42])
def test_neutralise_keeps_ordinary_values(value):
    assert neutralise(value) == value


def test_csv_has_bom_and_neutralised_cells():
    data = csv_bytes(["name"], [[v] for v in DANGEROUS], delimiter=";")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert [r[0] for r in rows[1:]] == ["'" + v for v in DANGEROUS]


def test_xlsx_cells_are_text_not_formulas():
    workbook = load_workbook(io.BytesIO(xlsx_bytes([("Sheet", ["name"], [[v] for v in DANGEROUS])])))
    cells = [row[0] for row in workbook["Sheet"].iter_rows(min_row=2)]
    # XML stores a carriage return as a line feed; what matters is the apostrophe in front.
    assert [c.value for c in cells] == ["'" + v.replace("\r", "\n") for v in DANGEROUS]
    assert all(c.data_type == "s" for c in cells)


def test_xlsx_is_ready_to_read_frozen_header_filters_widths_and_dates():
    when = datetime(2026, 11, 28, 9, 30)
    rows = [["Zoë", "Institut national du cancer, Boulogne-Billancourt", when], ["Al", "", None]]
    sheet = load_workbook(io.BytesIO(xlsx_bytes([("Liste", ["Prénom", "Organisme", "Arrivée"], rows)])))["Liste"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:C3"
    widths = [sheet.column_dimensions[letter].width for letter in "ABC"]
    assert widths[0] < 12 and widths[1] > len("Institut national du cancer, Boulogne-Billancourt") - 1
    assert widths[2] >= 16
    assert sheet["C2"].is_date and sheet["C2"].value == when and sheet["C2"].number_format == "yyyy-mm-dd hh:mm"
    assert sheet["A1"].font.bold


def test_export_through_the_web_applies_filters_and_is_audited(app, seeded, organiser):
    first, second, _ = round_tables(app)
    register(app, seeded.id, 2, [first], prefix="a", last_name="=cmd|' /C calc'!A0")
    register(app, seeded.id, 1, [second], prefix="b")
    response = organiser.get(f"/admin/events/{SLUG}/registrations/export?format=csv&delimiter=;&session={first}")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert len(rows) == 3 and rows[0][1] == "Nom"
    assert {r[1] for r in rows[1:]} == {"'=cmd|' /C calc'!A0"}
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "registrations.export"))
        assert entry.details["rows"] == 2 and entry.details["session"] == first


def test_export_per_round_table_has_one_sheet_per_table(app, seeded, organiser):
    first, second, third = round_tables(app)
    register(app, seeded.id, 2, [first, second], prefix="a")
    response = organiser.get(f"/admin/events/{SLUG}/registrations/export?by_round_table=1")
    workbook = load_workbook(io.BytesIO(response.data))
    assert len(workbook.sheetnames) == 3
    assert [workbook.worksheets[i].max_row for i in range(3)] == [3, 3, 1]


def test_export_cli_writes_csv_and_xlsx(app, seeded, runner, tmp_path):
    register(app, seeded.id, 3)
    out = tmp_path / "list.csv"
    result = runner.invoke(args=["registrations", "export", SLUG, "-o", str(out), "--semicolon"])
    assert result.exit_code == 0, result.output
    assert "3 registrants" in result.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf") and out.read_text("utf-8-sig").count("\n") == 4
    xlsx = tmp_path / "list.xlsx"
    assert runner.invoke(args=["registrations", "export", SLUG, "-o", str(xlsx)]).exit_code == 0
    assert load_workbook(xlsx).worksheets[0].max_row == 4
    assert runner.invoke(args=["registrations", "export", "nope", "-o", str(out)]).exit_code == 1


def test_an_export_is_audited_even_when_someone_writes_meanwhile(app, seeded):
    """SQLite cannot turn a read transaction into a write once another connection has written since it began
    ("database is locked" at once): the export's audit entry has a write transaction of its own."""
    from sqlalchemy import func, text

    from seminar.admin.registrants import RegistrantFilters
    from seminar.admin.spreadsheets import export_registrants
    from seminar.events.models import Event

    register(app, seeded.id, 1)
    with app.app_context():
        event = db.session.get(Event, seeded.id)  # the read transaction begins here
        with db.engine.connect() as other:  # a registration, say, lands meanwhile
            other.execute(text("UPDATE event SET organiser = organiser || '.'"))
            other.commit()
        export = export_registrants(event, RegistrantFilters(), "csv")
        assert export.rows == 1
        audited = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "registrations.export")
        assert db.session.scalar(audited) == 1
