"""Background jobs: queue, claim, progress, heartbeat, stale jobs run again, results, the worker."""

from __future__ import annotations

import os
import signal
from datetime import timedelta
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from seminar.events.seed import SLUG
from seminar.extensions import db, utcnow
from seminar.jobs.models import Job, JobStatus
from seminar.jobs.services import (
    JobCancelled,
    JobContext,
    claim_next_job,
    enqueue_job,
    get_job_result,
    work,
)
from tests.jobs.conftest import add_many_registrants, start_worker, worker_output
from tests.waiting import wait_for


def _event_id(app) -> int:
    from seminar.events.services import get_event

    with app.app_context():
        return get_event(SLUG).id


def _job(app, job_id: int) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


def _make_stale(app, job_id: int) -> None:
    with app.app_context():
        db.session.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=utcnow() - timedelta(hours=1)))
        db.session.commit()


def test_enqueue_job_unknown_kind_is_refused(ctx):
    with pytest.raises(ValueError):
        enqueue_job("mine_bitcoin", {})


def test_claim_takes_the_oldest_queued_job_once(app, seeded):
    event_id = _event_id(app)
    with app.app_context():
        first = enqueue_job("badge_export", {"layout": "a6"}, event_id=event_id)
        second = enqueue_job("badge_export", {"layout": "a6"}, event_id=event_id)
        assert claim_next_job() == (first, 1)
        assert claim_next_job() == (second, 1)
        assert claim_next_job() is None
    job = _job(app, first)
    assert job.status is JobStatus.running and job.heartbeat_at is not None


def test_claim_runs_a_job_with_a_stale_heartbeat_again(app, seeded):
    event_id = _event_id(app)
    with app.app_context():
        job_id = enqueue_job("badge_export", {"layout": "a6"}, event_id=event_id)
        assert claim_next_job() == (job_id, 1)
        assert claim_next_job() is None  # fresh heartbeat: its worker is alive
    _make_stale(app, job_id)
    with app.app_context():
        assert claim_next_job() == (job_id, 2)
        # The first worker, presumed dead, can no longer report: the second attempt owns the job.
        late = JobContext(job_id, 1, "badge_export", {}, event_id, None)
        with pytest.raises(JobCancelled):
            late.progress(1, 2)
        JobContext(job_id, 2, "badge_export", {}, event_id, None).progress(1, 2)
    assert _job(app, job_id).progress == 1


def test_claim_gives_up_after_the_last_attempt(app, seeded):
    event_id = _event_id(app)
    with app.app_context():
        job_id = enqueue_job("badge_export", {}, event_id=event_id)
        for attempt in range(1, app.config["JOB_MAX_ATTEMPTS"] + 1):
            assert claim_next_job() == (job_id, attempt)
            _make_stale(app, job_id)
        assert claim_next_job() is None
    job = _job(app, job_id)
    assert job.status is JobStatus.failed and "attempts" in job.error


def test_job_whose_handler_fails_records_the_error(app, seeded):
    event_id = _event_id(app)
    with app.app_context():
        job_id = enqueue_job("badge_export", {"layout": "poster"}, event_id=event_id)
    work(app, once=True)
    job = _job(app, job_id)
    assert job.status is JobStatus.failed and "poster" in job.error
    with app.app_context():
        assert get_job_result(job_id) is None


def test_worker_runs_a_badge_job_and_stores_the_result(app, seeded):
    add_many_registrants(app, 6)
    event_id = _event_id(app)
    with app.app_context():
        job_id = enqueue_job("badge_export", {"layout": "a4-4", "status": "confirmed"}, event_id=event_id)
    work(app, once=True)
    job = _job(app, job_id)
    assert job.status is JobStatus.done and job.progress == job.total == 6 and job.finished_at
    with app.app_context():
        result = get_job_result(job_id)
    assert result.mimetype == "application/pdf" and result.name == f"badges-{SLUG}-a4-4.pdf"
    assert len(PdfReader(BytesIO(result.data)).pages) == 2


def test_worker_delivers_the_outbox(app, seeded):
    from seminar.mail.models import OutboxMessage, OutboxStatus

    with app.app_context():
        db.session.add(OutboxMessage(to_addr="someone@example.org", subject="Hello", text_body="Hi"))
        db.session.commit()
    work(app, once=True)
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage.status)) is OutboxStatus.sent


@pytest.mark.serial  # a process killed mid-job (tests/conftest.py)
def test_worker_killed_mid_job_is_picked_up_again_and_completes(app, seeded):
    """A real `flask worker` process killed with SIGKILL while rendering; another worker finishes the job."""
    add_many_registrants(app, 240)
    event_id = _event_id(app)
    with app.app_context():
        job_id = enqueue_job("badge_export", {"layout": "a4-4", "status": "confirmed"}, event_id=event_id)
    first = start_worker(app)
    try:
        wait_for(lambda: _job(app, job_id).progress > 0 and _job(app, job_id).status is JobStatus.running,
                  "the first worker to make progress")
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    interrupted = _job(app, job_id)
    assert interrupted.status is JobStatus.running and interrupted.attempts == 1
    assert 0 < interrupted.progress < 240

    second = start_worker(app)
    try:
        wait_for(lambda: _job(app, job_id).status in (JobStatus.done, JobStatus.failed), "the second worker")
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=60)
        output = worker_output(second)
    job = _job(app, job_id)
    assert job.status is JobStatus.done, output
    assert job.attempts == 2 and job.progress == 240
    assert "running it again" in output
    with app.app_context():
        assert len(PdfReader(BytesIO(get_job_result(job_id).data)).pages) == 60


def test_embedded_worker_thread_runs_jobs_when_asked(backend, tmp_path, seeded, monkeypatch, app):
    from seminar.jobs import services
    from tests.conftest import make_app

    add_many_registrants(app, 2)
    monkeypatch.setenv("SEMINAR_RUN_WORKER", "1")
    embedded_app = make_app(backend, tmp_path) if backend == "sqlite" else app
    if backend == "postgresql":
        from seminar.wiring import _start_embedded_worker

        _start_embedded_worker(embedded_app)
    thread, stop = services._embedded[embedded_app.config["SQLALCHEMY_DATABASE_URI"]]
    try:
        assert thread.is_alive()
        with embedded_app.app_context():
            job_id = enqueue_job("badge_export", {"layout": "a6"}, event_id=_event_id(embedded_app))
        wait_for(lambda: _job(embedded_app, job_id).status is JobStatus.done, "the embedded worker")
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()


def test_embedded_worker_stays_out_of_the_reloader_watcher(app, monkeypatch):
    from seminar.jobs.services import start_embedded_worker

    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    app.debug = True
    assert start_embedded_worker(app) is None  # the watcher process serves nothing: no worker there
