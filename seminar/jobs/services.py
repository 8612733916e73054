"""Background jobs: rows in the `job` table, claimed and run by `flask worker`.

A worker claims the oldest queued job (PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED, so that several
workers never take the same row; SQLite: BEGIN IMMEDIATE), beats a heartbeat while it runs it, reports
progress, and stores the result in the row. A job whose heartbeat has gone stale (its worker died) is
claimed again, up to JOB_MAX_ATTEMPTS times. The attempt number fences a late, presumed-dead worker:
only the current attempt may record the result.

Job kinds map to handlers named by import path, imported when a job of that kind runs, so that this
package depends on no domain area.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from seminar.database import write_transaction
from seminar.extensions import db, utcnow
from seminar.jobs.models import Job, JobStatus

log = logging.getLogger(__name__)

# kind → "module:function" taking a JobContext and returning a JobResult.
JOB_HANDLERS = {
    "badge_export": "seminar.badges.services:run_badge_export",
    "registration_import": "seminar.admin.imports:run_import_job",
}
# What is cleared away now and then (`housekeeping`): name → "module:function" returning how many things it
# removed, each run in the app context in a transaction of its own.
HOUSEKEEPING_TASKS = {
    "expired job results": "seminar.jobs.services:expire_job_results",
    "unused badge parts": "seminar.badges.services:prune_badge_cache",
    "sent e-mails": "seminar.mail.outbox:prune_sent",
    "forgotten import files": "seminar.admin.imports:prune_import_uploads",
}


@dataclass(frozen=True)
class JobResult:
    data: bytes
    name: str
    mimetype: str
    summary: dict | None = None  # numbers a page shows beside the download (Job.summary)


class JobCancelled(Exception):
    """The job was taken over by another worker (this one was presumed dead): stop quietly."""


@dataclass
class JobContext:
    """What a handler gets: the job's parameters, and a way to report progress."""

    job_id: int
    attempt: int
    kind: str
    params: dict
    event_id: int | None
    user_id: int | None

    def progress(self, done: int, total: int) -> None:
        """Records progress (and the heartbeat) on a connection of its own, outside the handler's session."""
        with db.engine.begin() as connection:
            updated = connection.execute(
                update(Job)
                .where(Job.id == self.job_id, Job.attempts == self.attempt, Job.status == JobStatus.running)
                .values(progress=done, total=total, heartbeat_at=utcnow())
            ).rowcount
        if not updated:
            raise JobCancelled(f"job {self.job_id} attempt {self.attempt} was taken over")


def enqueue_job(kind: str, params: dict | None = None, *, event_id: int | None = None,
                user_id: int | None = None) -> int:
    """Queues a job of `kind` (a key of JOB_HANDLERS) and commits; returns its id."""
    if kind not in JOB_HANDLERS:
        raise ValueError(f"unknown job kind {kind!r}")
    with write_transaction():
        job = Job(kind=kind, params=dict(params or {}), event_id=event_id, created_by_id=user_id,
                  status=JobStatus.queued)
        db.session.add(job)
    return job.id


def get_job(job_id: int) -> Job | None:
    return db.session.get(Job, job_id)


def get_job_result(job_id: int) -> JobResult | None:
    """The stored result of a finished job, or None."""
    row = db.session.execute(
        select(Job.result, Job.result_name, Job.result_mimetype)
        .where(Job.id == job_id, Job.status == JobStatus.done)
    ).first()
    if row is None or row.result is None:
        return None
    return JobResult(bytes(row.result), row.result_name, row.result_mimetype)


def job_progress(job: Job) -> dict:
    """What a progress bar polls (static/js/job-progress.js): status, counts, percent, error."""
    percent = round(100 * job.progress / job.total) if job.total else (100 if job.status is JobStatus.done else 0)
    return {
        "id": job.id,
        "status": job.status.value,
        "progress": job.progress,
        "total": job.total,
        "percent": percent,
        "error": job.error if job.status is JobStatus.failed else "",
    }


def _stale_before():
    return utcnow() - timedelta(seconds=current_app.config["JOB_STALE_AFTER"])


def claim_next_job() -> tuple[int, int] | None:
    """Marks the oldest runnable job as running for this worker and commits: (job id, attempt), or None.

    Runnable: queued, or running with a stale heartbeat (its worker died). A job that has used up its
    attempts is marked failed instead.
    """
    max_attempts = current_app.config["JOB_MAX_ATTEMPTS"]
    while True:
        with write_transaction():
            job = db.session.scalars(
                select(Job)
                .where(or_(
                    Job.status == JobStatus.queued,
                    and_(Job.status == JobStatus.running, Job.heartbeat_at < _stale_before()),
                ))
                .order_by(Job.created_at, Job.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if job is None:
                return None  # nothing written: the commit on the way out only ends the transaction
            now = utcnow()
            if job.attempts < max_attempts:
                if job.status is JobStatus.running:
                    log.warning("job %s: its worker stopped beating at %s; running it again", job.id,
                                job.heartbeat_at)
                job.status = JobStatus.running
                job.attempts += 1
                job.started_at = job.heartbeat_at = now
                job.progress = 0
                job.error = ""
                return job.id, job.attempts  # committed on the way out
            job.status = JobStatus.failed
            job.error = f"gave up after {job.attempts} attempts (the worker stopped each time)"
            job.finished_at = now
            gave_up = (job.id, job.error)
        log.warning("job %s failed: %s", *gave_up)


def _handler(kind: str) -> Callable[[JobContext], JobResult]:
    return _imported(JOB_HANDLERS[kind])


def _imported(path: str) -> Callable:
    module_name, _, function = path.partition(":")
    return getattr(importlib.import_module(module_name), function)


def expire_job_results() -> int:
    """Drop the results (badge PDFs) of jobs finished more than JOB_RESULT_RETENTION_DAYS ago; they become
    `expired` (the export can be run again). Returns how many."""
    cutoff = utcnow() - timedelta(days=current_app.config["JOB_RESULT_RETENTION_DAYS"])
    with write_transaction():
        expired = db.session.execute(
            update(Job).where(Job.status == JobStatus.done, Job.finished_at < cutoff)
            .values(status=JobStatus.expired, result=None)
        ).rowcount
    return expired


def housekeeping() -> dict[str, int]:
    """Run every task of HOUSEKEEPING_TASKS; what each removed (a task that fails is logged, the others run)."""
    removed = {}
    for name, path in HOUSEKEEPING_TASKS.items():
        try:
            removed[name] = _imported(path)()
        except Exception:  # noqa: BLE001  (logged; the worker goes on)
            db.session.rollback()
            log.exception("housekeeping task %r failed", name)
    return removed


def _finish(job_id: int, attempt: int, **values) -> bool:
    db.session.rollback()  # whatever the handler left in the session is not part of the job's outcome
    with write_transaction():
        updated = db.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.attempts == attempt, Job.status == JobStatus.running)
            .values(finished_at=utcnow(), **values)
        ).rowcount
    return bool(updated)


class _Heartbeat(threading.Thread):
    """Keeps the job's heartbeat fresh while a long step (rendering, joining pages) runs."""

    def __init__(self, app, job_id: int, attempt: int, interval: float):
        super().__init__(name=f"job-{job_id}-heartbeat", daemon=True)
        self.app, self.job_id, self.attempt, self.interval = app, job_id, attempt, interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                with self.app.app_context(), db.engine.begin() as connection:
                    connection.execute(
                        update(Job)
                        .where(Job.id == self.job_id, Job.attempts == self.attempt,
                               Job.status == JobStatus.running)
                        .values(heartbeat_at=utcnow())
                    )
            except Exception:  # a missed beat is not fatal; the next one may pass
                log.exception("heartbeat of job %s failed", self.job_id)


def run_job(job_id: int, attempt: int) -> JobStatus:
    """Runs a claimed job to the end and records its result or its error."""
    job = db.session.get(Job, job_id)
    context = JobContext(job.id, attempt, job.kind, dict(job.params or {}), job.event_id, job.created_by_id)
    db.session.rollback()  # end the read transaction (it wrote nothing): the handler may run for minutes
    heartbeat = _Heartbeat(current_app._get_current_object(), job_id, attempt,
                           current_app.config["JOB_HEARTBEAT_INTERVAL"])
    heartbeat.start()
    try:
        result = _handler(context.kind)(context)
    except JobCancelled:
        log.warning("job %s attempt %s: taken over by another worker", job_id, attempt)
        return JobStatus.running
    except Exception as error:
        log.exception("job %s (%s) failed", job_id, context.kind)
        _finish(job_id, attempt, status=JobStatus.failed, error=f"{type(error).__name__}: {error}"[:2000])
        return JobStatus.failed
    finally:
        heartbeat.stopped.set()
        heartbeat.join()
    total = db.session.scalar(select(Job.total).where(Job.id == job_id)) or 0
    _finish(job_id, attempt, status=JobStatus.done, result=result.data, result_name=result.name,
            result_mimetype=result.mimetype, summary=result.summary, progress=total)
    return JobStatus.done


def run_next_job() -> bool:
    """Claims and runs one job; False when there was none."""
    claimed = claim_next_job()
    if claimed is None:
        return False
    run_job(*claimed)
    return True


def deliver_outbox(stop: threading.Event | None = None) -> int:
    """Sends pending e-mail if the mail area provides an outbox (imported late: it may not exist yet). Once
    `stop` is set it finishes the message being sent and puts the other claimed ones back."""
    try:
        from seminar.mail.outbox import deliver_pending
    except ImportError:
        return 0
    outcome = deliver_pending(limit=100, stop=stop)
    return int(outcome.get("claimed", 0) if isinstance(outcome, dict) else outcome or 0)


def work(app, *, stop: threading.Event | None = None, once: bool = False, poll_interval: float = 1.0) -> None:
    """The worker loop: jobs first, then the outbox; sleeps when idle. `once`: stop when idle. Every
    HOUSEKEEPING_INTERVAL seconds (first when it starts) it also runs `housekeeping`. A failing iteration (the
    database unreachable, a dropped connection) is logged and rolled back, and the loop goes on after a pause."""
    stop = stop or threading.Event()
    next_housekeeping = 0.0
    while not stop.is_set():
        busy = False
        try:
            with app.app_context():
                try:
                    if time.monotonic() >= next_housekeeping:
                        next_housekeeping = time.monotonic() + app.config["HOUSEKEEPING_INTERVAL"]
                        removed = housekeeping()
                        if any(removed.values()):
                            log.info("housekeeping: %s", ", ".join(f"{n} {name}" for name, n in removed.items()))
                    busy = run_next_job()
                    busy = bool(deliver_outbox(stop)) or busy
                except Exception:
                    db.session.rollback()
                    raise
        except Exception:  # keep the worker alive through a database outage; retried after a pause
            busy = False
            log.exception("worker iteration failed")
        if not busy:
            if once:
                return
            stop.wait(poll_interval)


_embedded: dict[str, tuple[threading.Thread, threading.Event]] = {}


def start_embedded_worker(app) -> tuple[threading.Thread, threading.Event] | None:
    """One worker thread inside this process (the development server, `make run`), started once.

    Under the reloader only the child process that serves requests runs it, not the watcher.
    """
    import os

    if app.debug and os.environ.get("WERKZEUG_RUN_MAIN") != "true" and os.environ.get("FLASK_RUN_FROM_CLI"):
        return None
    key = app.config["SQLALCHEMY_DATABASE_URI"]
    if key in _embedded and _embedded[key][0].is_alive():
        return _embedded[key]
    stop = threading.Event()
    thread = threading.Thread(target=work, args=(app,), kwargs={"stop": stop}, name="seminar-worker", daemon=True)
    thread.start()
    _embedded[key] = (thread, stop)
    log.info("background worker started in this process (SEMINAR_RUN_WORKER=1)")
    return thread, stop
