"""CSV import: good, duplicate and broken rows counted exactly; preview writes nothing; capacity applies."""

from io import BytesIO

from sqlalchemy import func, select

from seminar.audit.models import AuditEntry
from seminar.events.models import Session
from seminar.extensions import db
from seminar.mail.models import OutboxMessage
from seminar.registration.models import Registration, SessionSeat
from tests.admin.conftest import SLUG, register, round_tables


def _file(table: int) -> bytes:
    lines = [
        "first_name,last_name,email,organisation,job_title,category,sessions",
        f"Marie,Curie,marie@example.org,Institut du Radium,Chercheuse,research,{table}",  # 2 good
        "Louis,Pasteur,louis@example.org,Institut Pasteur,,\"Organisme de recherche (Inserm, CNRS, universités…)\",",
        "Marie,Curie,MARIE@example.org,Doublon,,,",  # 4 duplicate in file
        "Déjà,Inscrit,p0@example.org,,,,",  # 5 duplicate: already registered
        "Sans,Adresse,,,,,",  # 6 rejected: no e-mail
        "Mauvaise,Adresse,not-an-email,,,,",  # 7 rejected
        "Catégorie,Inconnue,cat@example.org,,,martians,",  # 8 rejected
        "Session,Inconnue,sess@example.org,,,,99999",  # 9 rejected
        "",  # blank line ignored
        f"Irène,Joliot,irene@example.org,,,,{table}",  # 11 good (waitlisted: capacity 1 reached)
    ]
    return "\n".join(lines).encode("utf-8")


def _setup(app, seeded):
    table = round_tables(app)[0]
    register(app, seeded.id, 1)
    with app.app_context():
        db.session.get(Session, table).capacity = 1
        db.session.commit()
    return table


def test_import_cli_counts_created_duplicates_and_rejected_rows(app, seeded, runner, tmp_path):
    table = _setup(app, seeded)
    path = tmp_path / "invites.csv"
    path.write_bytes(_file(table))
    result = runner.invoke(args=["registrations", "import", SLUG, str(path), "--no-email"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "created: 3, duplicates: 2, rejected: 4"  # the bar is on stderr
    for line in ("line 4: duplicate MARIE@example.org", "line 5: duplicate p0@example.org", "line 6: rejected",
                 "line 7: rejected", "line 8: rejected", "line 9: rejected"):
        assert line in result.output
    with app.app_context():
        seats = dict(db.session.execute(select(Registration.email, SessionSeat.status).join(SessionSeat)).all())
        assert seats["marie@example.org"].value == "confirmed"
        assert seats["irene@example.org"].value == "waitlisted"
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0  # --no-email
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "registrations.import"))
        assert entry.details["created"] == 3 and entry.details["rejected"] == 4


def test_import_preview_writes_nothing_then_confirm_imports(app, seeded, organiser):
    table = _setup(app, seeded)
    url = f"/admin/events/{SLUG}/registrations/import"
    preview = organiser.post(url, data={"file": (BytesIO(_file(table)), "invites.csv"), "send_email": "y"},
                             content_type="multipart/form-data")
    page = preview.get_data(as_text=True)
    assert "Prêtes : 3 · doublons : 2 · rejetées : 4" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Registration)) == 1
    upload = page.split('name="upload" value="')[1].split('"')[0]
    done = organiser.post(url, data={"confirm": "1", "upload": upload, "send_email": "y"})
    assert "Créées : 3 · doublons ignorés : 2 · rejetées : 4" in done.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Registration)) == 4
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) >= 3  # confirmations sent


def test_import_with_missing_columns_is_refused_clearly(app, seeded, runner, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("name;mail\nA;b@example.org\n")
    result = runner.invoke(args=["registrations", "import", SLUG, str(path)])
    assert result.exit_code == 1 and "first_name" in result.output


def test_import_accepts_semicolons_and_a_bom(app, seeded, runner, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufefffirst_name;last_name;email\nÉlodie;Noël;elodie@example.org\n".encode())
    result = runner.invoke(args=["registrations", "import", SLUG, str(path), "--no-email"])
    assert result.stdout.startswith("created: 1, duplicates: 0, rejected: 0")
    with app.app_context():
        assert db.session.scalar(select(Registration.first_name).where(Registration.email_key == "elodie@example.org")
                                 ) == "Élodie"


def test_import_names_round_tables_by_title_or_number_and_reports_in_the_interface_language(app, seeded, runner,
                                                                                           tmp_path):
    first, second, _third = round_tables(app)
    with app.app_context():
        titles = dict(db.session.execute(
            select(Session.id, Session.title).where(Session.id.in_([first, second]))).all())
    shouted = titles[second].upper().replace("É", "E")  # accents and case ignored
    lines = ["first_name,last_name,email,sessions",
             f'Ana,Titre,ana@example.org,"{titles[first]}"',
             f'Ben,Mixte,ben@example.org,"{first}; {shouted}"',
             "Cy,Inconnu,cy@example.org,La table qui n'existe pas",
             "Dee,Vide,,"]
    path = tmp_path / "tables.csv"
    path.write_bytes("\n".join(lines).encode("utf-8"))
    result = runner.invoke(args=["registrations", "import", SLUG, str(path), "--no-email"])
    assert result.stdout.splitlines()[0] == "created: 2, duplicates: 0, rejected: 2", result.output
    assert "line 4: rejected: Table ronde inconnue : La table qui n'existe pas." in result.stdout
    assert "line 5: rejected: E-mail : Ce champ est obligatoire." in result.stdout
    with app.app_context():
        seats = db.session.execute(select(Registration.email, SessionSeat.session_id).join(SessionSeat)).all()
        assert sorted(seats) == sorted([("ana@example.org", first), ("ben@example.org", first),
                                        ("ben@example.org", second)])
