"""Large imports: the previewed file stays on the server (the confirmation carries its id, never its content); past
IMPORT_SYNC_MAX_ROWS rows the import runs as a background job with its progress, counts, report and audit entry."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta
from io import BytesIO

import pytest
from sqlalchemy import func, select, update

from seminar.admin.imports import keep_upload
from seminar.admin.models import ImportUpload
from seminar.audit.models import AuditEntry
from seminar.extensions import db, utcnow
from seminar.jobs.models import Job, JobStatus
from seminar.jobs.services import housekeeping, run_next_job
from seminar.registration.models import Registration
from tests.admin.conftest import SLUG, register

URL = f"/admin/events/{SLUG}/registrations/import"
ROWS = 120


@pytest.fixture
def app_config():
    return {"IMPORT_SYNC_MAX_ROWS": 50}


def _file(rows: int, *, broken: int = 0) -> bytes:
    lines = ["first_name,last_name,email,organisation"]
    lines += [f"Prénom{i},Nom{i},import{i}@example.org,Inserm" for i in range(rows)]
    lines += [f"Sans{i},Adresse{i},,Inserm" for i in range(broken)]
    return "\n".join(lines).encode("utf-8")


def _preview(client, data: bytes, *, send_email: bool = False):
    form = {"file": (BytesIO(data), "invites.csv")}
    if send_email:
        form["send_email"] = "y"
    return client.post(URL, data=form, content_type="multipart/form-data")


def _upload_id(page: str) -> str:
    return re.search(r'name="upload" value="(\d+)"', page).group(1)


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_preview_keeps_the_file_on_the_server_and_the_form_carries_only_its_id(app, seeded, organiser):
    page = _preview(organiser, _file(ROWS)).get_data(as_text=True)
    assert "import0@example.org" in page
    assert 'name="content"' not in page and "import119@example.org" not in page.split("<form")[-1]
    upload_id = _upload_id(page)
    with app.app_context():
        upload = db.session.get(ImportUpload, int(upload_id))
        assert upload.event_id == seeded.id and upload.content == _file(ROWS) and upload.filename == "invites.csv"
    assert _count(app, Registration) == 0


def test_large_confirmation_runs_as_a_job_with_progress_counts_report_and_audit(app, seeded, organiser):
    register(app, seeded.id, 1, prefix="import")  # import0@example.org is already registered: a duplicate
    page = _preview(organiser, _file(ROWS, broken=3)).get_data(as_text=True)
    assert "est importé en arrière-plan" in page  # told before confirming
    confirm = organiser.post(URL, data={"confirm": "1", "upload": _upload_id(page)})
    assert confirm.status_code == 303
    job_url = confirm.headers["Location"]
    waiting = organiser.get(job_url)
    assert waiting.status_code == 200 and "job-progress" in waiting.get_data(as_text=True)
    assert f'href="{URL}" aria-current="page"' in waiting.get_data(as_text=True)  # still under "Import"
    assert organiser.get(job_url, headers={"Accept": "application/json"}).get_json()["status"] == "queued"
    assert _count(app, Registration) == 1  # nothing imported by the request itself

    with app.app_context():
        assert run_next_job()
        job = db.session.scalar(select(Job).where(Job.kind == "registration_import"))
        assert job.status is JobStatus.done and job.progress == job.total == ROWS - 1
        assert job.summary == {"created": ROWS - 1, "duplicates": 1, "rejected": 3, "error": ""}
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "registrations.import"))
        assert entry.details["created"] == ROWS - 1 and entry.user_id is not None
    assert _count(app, Registration) == ROWS
    assert _count(app, ImportUpload) == 0  # the file goes once imported

    status = organiser.get(job_url, headers={"Accept": "application/json"}).get_json()
    assert status["status"] == "done" and status["percent"] == 100
    done = organiser.get(job_url).get_data(as_text=True)
    assert f"Créées : {ROWS - 1} · doublons ignorés : 1 · rejetées : 3" in done
    report = organiser.get(f"{job_url}/report.csv")
    assert report.status_code == 200 and report.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(report.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Ligne", "E-mail", "Résultat", "Motif"]
    assert rows[1] == ["2", "import0@example.org", "doublon", ""]
    assert rows[2] == ["3", "import1@example.org", "créée (confirmée)", ""]
    assert rows[-1][0] == str(ROWS + 4) and rows[-1][2] == "rejetée"
    assert rows[-1][3] == "E-mail : Ce champ est obligatoire."
    assert len(rows) == 1 + ROWS + 3  # the header, then every line of the file


def test_small_confirmation_imports_at_once_and_a_second_confirmation_is_refused_clearly(app, seeded, organiser):
    page = _preview(organiser, _file(10)).get_data(as_text=True)
    upload_id = _upload_id(page)
    done = organiser.post(URL, data={"confirm": "1", "upload": upload_id})
    assert done.status_code == 200 and "Créées : 10" in done.get_data(as_text=True)
    assert _count(app, ImportUpload) == 0 and _count(app, Job) == 0
    again = organiser.post(URL, data={"confirm": "1", "upload": upload_id}, follow_redirects=True)
    assert again.status_code == 200
    assert "Ce fichier n'est plus conservé sur le serveur" in html.unescape(again.get_data(as_text=True))
    assert _count(app, Registration) == 10


@pytest.mark.parametrize("upload", ["999999", "abc", "99999999999999999999", ""])
def test_confirmation_of_an_unknown_upload_loses_nothing_and_answers_no_error(app, seeded, organiser, upload):
    answer = organiser.post(URL, data={"confirm": "1", "upload": upload}, follow_redirects=True)
    assert answer.status_code == 200 and _count(app, Registration) == 0


def test_an_upload_of_another_event_cannot_be_confirmed_here(app, seeded, organiser):
    from seminar.events.models import Event

    with app.app_context():
        other = Event(slug="autre", title="Autre", starts_at=seeded.starts_at, ends_at=seeded.ends_at,
                      registration_closes_at=seeded.registration_closes_at, timezone=seeded.timezone)
        db.session.add(other)
        db.session.commit()
        upload_id = keep_upload(other.id, _file(3))
    organiser.post(URL, data={"confirm": "1", "upload": str(upload_id)}, follow_redirects=True)
    assert _count(app, Registration) == 0 and _count(app, ImportUpload) == 1


def test_housekeeping_deletes_forgotten_uploads_only(app, seeded):
    with app.app_context():
        old = keep_upload(seeded.id, _file(2))
        recent = keep_upload(seeded.id, _file(2))
        db.session.execute(update(ImportUpload).where(ImportUpload.id == old)
                           .values(created_at=utcnow() - timedelta(hours=25)))
        db.session.commit()
        assert housekeeping()["forgotten import files"] == 1
        assert list(db.session.scalars(select(ImportUpload.id))) == [recent]


def test_cli_import_is_synchronous_with_a_progress_bar_whatever_its_size(app, seeded, runner, tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(_file(ROWS))
    result = runner.invoke(args=["registrations", "import", SLUG, str(path), "--no-email"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"created: {ROWS}, duplicates: 0, rejected: 0"
    assert "Importing" in result.stderr
    assert _count(app, Registration) == ROWS and _count(app, Job) == 0
