"""Housekeeping: old badge exports and unused badge parts are cleared away, by the worker or the CLI."""

from __future__ import annotations

import os
import time
from datetime import timedelta

from sqlalchemy import update

from seminar.accounts.models import Role
from seminar.badges.cache import BadgeCache
from seminar.events.seed import SLUG
from seminar.extensions import db, utcnow
from seminar.jobs.models import Job, JobStatus
from seminar.jobs.services import enqueue_job, get_job_result, housekeeping, work
from tests.accounts.factories import signed_in_client

ADMIN_BASE = f"/admin/events/{SLUG}/badges"
DAY = 86400


def _finished_job(app, days_ago: float, status: JobStatus = JobStatus.done) -> int:
    with app.app_context():
        job_id = enqueue_job("badge_export", {"layout": "a4-4"})
        db.session.execute(update(Job).where(Job.id == job_id).values(
            status=status, finished_at=utcnow() - timedelta(days=days_ago), result=b"%PDF-1.7 badges",
            result_name="badges.pdf", result_mimetype="application/pdf"))
        db.session.commit()
    return job_id


def _status(app, job_id: int) -> JobStatus:
    with app.app_context():
        return db.session.get(Job, job_id).status


def _aged(cache: BadgeCache, key: str, days: float) -> None:
    cache.put(key, key.encode())
    then = time.time() - days * DAY
    os.utime(cache.path(key), (then, then))


def test_job_results_are_dropped_after_the_retention_period(app, seeded):
    old, recent = _finished_job(app, days_ago=8), _finished_job(app, days_ago=1)
    old_failure = _finished_job(app, days_ago=30, status=JobStatus.failed)
    with app.app_context():
        assert housekeeping()["expired job results"] == 1
        assert get_job_result(old) is None and get_job_result(recent).data == b"%PDF-1.7 badges"
    assert [_status(app, j) for j in (old, recent, old_failure)] == [JobStatus.expired, JobStatus.done,
                                                                      JobStatus.failed]
    with app.app_context():
        assert housekeeping()["expired job results"] == 0  # nothing more to do


def test_an_expired_export_says_so_instead_of_a_download(app, seeded):
    job_id = _finished_job(app, days_ago=10)
    with app.app_context():
        db.session.execute(update(Job).where(Job.id == job_id).values(event_id=seeded.id))
        db.session.commit()
        housekeeping()
    client = signed_in_client(app, Role.organiser)
    download = client.get(f"{ADMIN_BASE}/jobs/{job_id}/download")
    assert download.status_code == 410
    assert "plus conservé : préparez à nouveau les badges" in download.text
    page = client.get(f"{ADMIN_BASE}/").text
    assert "Plus conservé" in page and f"/jobs/{job_id}/download" not in page
    assert client.get(f"{ADMIN_BASE}/jobs/{job_id}").get_json()["download_url"] is None


def test_badge_parts_unused_for_the_retention_period_are_deleted(app):
    with app.app_context():
        from seminar.badges.services import badge_cache_dir

        cache = BadgeCache(badge_cache_dir())
        _aged(cache, "aa-old", days=40)
        _aged(cache, "bb-recent", days=2)
        _aged(cache, "cc-old-but-used", days=40)
        assert "cc-old-but-used" in cache  # an export looking for it marks it used
        assert housekeeping()["unused badge parts"] == 1
        assert "aa-old" not in cache and "bb-recent" in cache and "cc-old-but-used" in cache


def test_emails_sent_long_ago_are_deleted_and_the_others_kept(app):
    from seminar.mail.models import OutboxMessage, OutboxStatus

    now = utcnow()
    ages = {"sent-old": (OutboxStatus.sent, 40), "sent-recent": (OutboxStatus.sent, 5),
            "failed-old": (OutboxStatus.failed, 40), "pending-old": (OutboxStatus.pending, 40)}
    with app.app_context():
        for subject, (status, days) in ages.items():
            db.session.add(OutboxMessage(to_addr="ana@example.org", subject=subject, text_body="Bonjour", status=status,
                                         created_at=now - timedelta(days=days), next_attempt_at=now + timedelta(days=1),
                                         sent_at=now - timedelta(days=days) if status is OutboxStatus.sent else None))
        db.session.commit()
        assert housekeeping()["sent e-mails"] == 1
        left = set(db.session.scalars(db.select(OutboxMessage.subject)))
    assert left == {"sent-recent", "failed-old", "pending-old"}


def test_the_worker_keeps_house_when_it_starts(app, seeded):
    job_id = _finished_job(app, days_ago=8)
    work(app, once=True)
    assert _status(app, job_id) is JobStatus.expired


def test_housekeeping_command_reports_what_it_removed(app, seeded, runner):
    _finished_job(app, days_ago=8)
    result = runner.invoke(args=["housekeeping"])
    assert result.exit_code == 0, result.output
    assert "expired job results: 1 removed" in result.output
    assert "unused badge parts: 0 removed" in result.output and "sent e-mails: 0 removed" in result.output
