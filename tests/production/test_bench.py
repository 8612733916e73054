"""The benchmark runner's plumbing (the figures themselves are `make bench`'s, never asserted here)."""

from __future__ import annotations

from urllib.parse import urlsplit

from bench.__main__ import benchmark_modules, format_table, normalise, run_module
from bench.counters import fill_to
from bench.pages import load
from seminar.events.models import Event
from seminar.extensions import db


def test_runner_finds_every_benchmark_module():
    found = benchmark_modules([])
    assert "pages" in found
    assert "__main__" not in found


def test_rows_in_the_common_shape_are_kept():
    row = {"benchmark": "pages: x", "metric": "requests/s", "value": 10.0, "baseline": 20.0, "ratio": 0.5}
    assert normalise("pages", row) == {**row, "note": ""}


def test_rows_in_another_shape_are_shown_with_their_first_number():
    row = normalise("ical", {"benchmark": "ical: feed", "median_ms": 12.5, "target_ms": 50.0, "ok": True})
    assert (row["benchmark"], row["metric"], row["value"]) == ("ical: feed", "median_ms", 12.5)
    assert "target_ms=50.0" in row["note"] and "ok=True" in row["note"]


def test_table_has_the_documented_columns():
    table = format_table([normalise("pages", {"benchmark": "b", "metric": "m", "value": 1234.5, "baseline": None,
                                              "ratio": None, "note": "n"})])
    header, rule, line = table.splitlines()
    assert [c.strip() for c in header.strip("|").split("|")] == ["benchmark", "metric", "value", "baseline",
                                                                  "ratio", "note"]
    assert "1,234" in line or "1,235" in line


def test_a_failing_benchmark_becomes_an_error_row():
    rows = run_module("no_such_benchmark")
    assert len(rows) == 1
    assert rows[0]["benchmark"] == "no_such_benchmark" and rows[0]["metric"] == "error"
    assert rows[0]["note"].startswith("ModuleNotFoundError")


def test_load_client_counts_requests_and_failures(live_server, seeded):
    port = urlsplit(live_server).port
    healthy = load(port, "/healthz", seconds=0.3, clients=2)
    assert healthy["requests"] > 0 and healthy["failed"] == 0
    missing = load(port, "/events/no-such-event/", seconds=0.3, clients=2)
    assert missing["requests"] > 0 and missing["failed"] == missing["requests"]


def test_counters_bulk_load_is_what_the_ledger_counts(app, seeded):
    with app.app_context():
        assert fill_to(seeded.id, 30) == 30
        assert fill_to(seeded.id, 45) == 15
        event = db.session.get(Event, seeded.id)
        round_tables = [s for s in event.sessions if s.takes_registrations]
        assert event.confirmed_count == 45
        assert sum(s.confirmed_count for s in round_tables) == 45
        assert all(s.confirmed_count for s in round_tables)
