"""The guest list in the back-office: import with its report, one guest by hand, sending and reminding by a
button, the answers shown."""

from __future__ import annotations

import html
import io

import pytest

from seminar.accounts.models import Role
from seminar.events.seed import SLUG
from seminar.invitations.models import InvitationState
from tests.accounts.factories import signed_in_client
from tests.invitations.conftest import GUESTS, invitation, mails, token_in

PAGE = f"/admin/events/{SLUG}/invitations"


@pytest.fixture
def organiser(app):
    return signed_in_client(app, Role.organiser)


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_organiser_imports_adds_sends_and_sees_the_answers(app, client, seeded, organiser):
    data = (GUESTS + "Camille,Durand,CAMILLE@example.org,,,fr\nNo,Address,,,,\n").encode()
    imported = organiser.post(f"{PAGE}/import", data={"file": (io.BytesIO(data), "guests.csv")},
                              content_type="multipart/form-data")
    page = _text(imported)
    assert "2 invité·es ajouté·es." in page
    assert "Ajoutées : 2 · doublons : 1 · rejetées : 1" in page and "Ligne 4 : CAMILLE@example.org" in page

    added = organiser.post(f"{PAGE}/add", data={"first_name": "Zoë", "last_name": "L'Hôpital",
                                                 "email": "zoe@example.org", "organisation": "CHU de Lyon",
                                                 "category_id": "", "language": "en"}, follow_redirects=True)
    assert "zoe@example.org" in _text(added)
    duplicate = organiser.post(f"{PAGE}/add", data={"first_name": "Z", "last_name": "L", "email": "zoe@example.org",
                                                     "category_id": "", "language": "fr"})
    assert duplicate.status_code == 400 and "Cette adresse est déjà sur la liste des invité·es." in _text(duplicate)

    sent = _text(organiser.post(f"{PAGE}/send", follow_redirects=True))
    assert "3 e-mails mis en file d'attente." in sent
    assert "Personne à qui écrire." in _text(organiser.post(f"{PAGE}/send", follow_redirects=True))

    token = {m.to_addr: token_in(m) for m in mails(app) if "/invitations/" in m.text_body}["alex@example.org"]
    client.post(f"/invitations/{token}/decline", data={"message": "Déjà pris <ce jour-là>"})
    assert invitation(app, "alex@example.org").state is InvitationState.declined
    page = _text(organiser.get(PAGE))
    assert "Déjà pris <ce jour-là>" in page and "décliné" in page
    assert "Déjà pris <ce jour-là>" not in organiser.get(PAGE).get_data(as_text=True)  # escaped


def test_check_in_volunteers_cannot_see_the_guest_list(app, seeded):
    volunteer = signed_in_client(app, Role.checkin)
    assert volunteer.get(PAGE).status_code == 403
    assert volunteer.post(f"{PAGE}/send").status_code == 403


def test_guest_list_export_is_formula_safe_with_states_and_is_audited(app, seeded, organiser):
    from openpyxl import load_workbook
    from sqlalchemy import select

    from seminar.audit.models import AuditEntry
    from seminar.extensions import db

    data = (GUESTS + "=HYPERLINK(\"http://x\"),Evil,evil@example.org,,,fr\n").encode()
    organiser.post(f"{PAGE}/import", data={"file": (io.BytesIO(data), "guests.csv")},
                   content_type="multipart/form-data")
    csv_text = organiser.get(f"{PAGE}/export?format=csv").get_data(as_text=True)
    assert "'=HYPERLINK" in csv_text and "non envoyée" in csv_text
    xlsx = organiser.get(f"{PAGE}/export?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data), read_only=True).active
    cells = {str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None}
    assert {"camille@example.org", "alex@example.org", "non envoyée"} <= cells
    assert not any(c.startswith("=") for c in cells)
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.details).where(AuditEntry.action == "invitations.export")
                                 .order_by(AuditEntry.id.desc()).limit(1)) == {"format": "xlsx", "rows": 3}
    log = html.unescape(signed_in_client(app, Role.admin).get("/admin/audit/").get_data(as_text=True))
    assert "Import d'une liste d'invité·es" in log and "Export de la liste des invité·es" in log
