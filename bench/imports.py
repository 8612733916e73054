"""Benchmark: a registrant import of LARGE rows goes through completely, at the same cost per row as a small one.

    python -m bench imports        (or: python -m bench.imports)

In-process, as the back-office does it: the file is previewed and kept (`keep_upload`), confirmed (past
IMPORT_SYNC_MAX_ROWS it becomes a background job) and the job run as `flask worker` runs it, with the
confirmation e-mails recorded in the outbox (not sent). On a temporary SQLite database, and on PostgreSQL too when
BENCH_POSTGRESQL_URL is set (created if missing, its schema dropped and created again).

First SMALL rows (imported at once, as the page does for a small file), then LARGE rows (a job), into the same
event. value: milliseconds per row at LARGE; baseline: milliseconds per row at SMALL, same process, same database;
ratio = value / baseline (1 means an import scales with its rows; the event's earlier rows must not slow the next).
The note says how many rows were created: all of them, or the benchmark fails.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from bench.counters import open_seminar_app

SMALL = 500
LARGE = int(os.environ.get("BENCH_IMPORT_ROWS", 20_000))
PG_URL = os.environ.get("BENCH_POSTGRESQL_URL")


def _file(start: int, rows: int) -> bytes:
    lines = ["first_name,last_name,email,organisation,job_title"]
    lines += [f"Prénom{n},Nom{n},import{n}@example.org,Cancéropôle Est,Chercheuse" for n in range(start, start + rows)]
    return "\n".join(lines).encode("utf-8")


def _import(app, slug: str, data: bytes) -> tuple[float, dict]:
    """Milliseconds per row, and the counts, of importing `data` as an organiser confirming its preview does."""
    from seminar.admin import imports
    from seminar.events.services import get_event
    from seminar.extensions import db
    from seminar.jobs.models import Job
    from seminar.jobs.services import run_next_job

    with app.app_context():
        event = get_event(slug)
        rows = len(imports.read_import(event, data).ready)
        upload_id = imports.keep_upload(event.id, data, "bench.csv")
        started = time.perf_counter()
        outcome = imports.confirm_import(event, upload_id, send_email=True, locale="fr")
        if outcome.job_id is not None:
            run_next_job()
            summary = db.session.get(Job, outcome.job_id).summary
        else:
            summary = outcome.report.summary()
        elapsed = time.perf_counter() - started
        db.session.remove()
    if summary["created"] != rows:
        raise RuntimeError(f"{summary['created']} of {rows} rows imported: {summary}")
    return elapsed * 1000 / rows, summary


def run_backend(name: str, uri: str, directory: Path) -> list[dict]:
    app, slug = open_seminar_app(uri, directory)
    small, _ = _import(app, slug, _file(0, SMALL))
    large, summary = _import(app, slug, _file(SMALL, LARGE))
    return [{"benchmark": f"imports: {LARGE} rows ({name})", "metric": "ms per row", "value": round(large, 2),
             "baseline": round(small, 2), "ratio": round(large / small, 2),
             "note": f"baseline: {SMALL} rows imported at once; created {summary['created']} of {LARGE}, by a job"}]


def run() -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        rows += run_backend("SQLite", f"sqlite:///{directory}/bench.sqlite", Path(directory))
        if PG_URL:
            rows += run_backend("PostgreSQL", PG_URL, Path(directory))
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
