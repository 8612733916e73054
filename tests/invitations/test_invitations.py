"""Issue 18, the guest list: import, sending and reminders, the personal link's page, answers, CLI."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from seminar.audit.models import AuditEntry
from seminar.events.models import Event
from seminar.events.seed import SLUG
from seminar.extensions import db, utcnow
from seminar.invitations import services
from seminar.invitations.models import Invitation, InvitationState
from seminar.mail.models import OutboxMessage
from seminar.registration.models import Registration
from tests.invitations.conftest import GUESTS, event_id, import_guests, invitation, mails, token_in
from tests.registration.conftest import form_data


def _send(app) -> int:
    with app.app_context():
        return services.send_invitations(event_id(app))


def _sent_tokens(app) -> dict[str, str]:
    return {m.to_addr: token_in(m) for m in mails(app) if "/invitations/" in m.text_body}


# --- import -------------------------------------------------------------------------------------------------

def test_import_csv_adds_refuses_duplicates_and_rejects_with_reasons(app, seeded):
    category = seeded.categories[0]
    import_guests(app)
    data = ("first_name;last_name;email;organisation;category;language\n"
            f"Jeanne;Martin;jeanne@example.org;CNRS;{category.code};en\n"
            "Camille;Durand;CAMILLE@example.org;;;fr\n"  # already on the guest list
            f"Paul;Petit;paul@example.org;;{category.label};\n"
            "Paule;Petit;paul@example.org;;;fr\n"  # twice in the file
            "Nobody;Here;not-an-address;;;fr\n"
            "Ann;Other;ann@example.org;;nope;fr\n"
            "Lee;Other;lee@example.org;;;de\n").encode("cp1252", errors="replace")
    report = import_guests(app, data)
    assert report.summary() == {"added": 2, "duplicates": 2, "rejected": 3}
    assert [(line, email) for line, email, _why in report.duplicates] == [
        (3, "CAMILLE@example.org"), (5, "paul@example.org")]
    assert "line 4" in report.duplicates[1][2] or "ligne 4" in report.duplicates[1][2]
    assert [line for line, _reason in report.rejected] == [6, 7, 8]
    assert "nope" in report.rejected[1][1] and "de" in report.rejected[2][1]
    jeanne, paul = invitation(app, "jeanne@example.org"), invitation(app, "paul@example.org")
    assert (jeanne.language, jeanne.category_id, jeanne.state) == ("en", category.id, InvitationState.not_sent)
    assert (paul.language, paul.category_id, paul.token_hash) == ("fr", category.id, None)
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "invitations.import")
                                  .order_by(AuditEntry.id.desc()))
        assert entry.details == {"added": 2, "duplicates": 2, "rejected": 3}


def test_import_xlsx_reads_formulas_as_text_never_evaluated(app, seeded):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["first_name", "last_name", "email", "organisation", "category", "language"])
    sheet.append(["Camille", "Durand", "camille@example.org", "=1+1", None, "EN"])
    sheet.append(["Alex", "Smith", "alex@example.org", '=HYPERLINK("http://evil.example","x")', None, None])
    sheet.append(["Camille", "Bis", "camille@example.org", "", None, "fr"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = import_guests(app, buffer.getvalue())
    assert report.summary() == {"added": 2, "duplicates": 1, "rejected": 0}
    assert report.duplicates[0][0] == 4
    camille, alex = invitation(app, "camille@example.org"), invitation(app, "alex@example.org")
    # The formula's text, as a CSV cell holds it: never its computed value; exports neutralise it.
    assert (camille.organisation, camille.language) == ("=1+1", "en")
    assert alex.organisation.startswith("=HYPERLINK(")


def test_import_csv_keeps_formula_like_cells_as_text(app, seeded):
    report = import_guests(app, b"first_name,last_name,email,organisation\n"
                                b"=cmd|' /C calc'!A0,X,x@example.org,@SUM(1)\n")
    assert report.summary()["added"] == 1
    guest = invitation(app, "x@example.org")
    assert (guest.first_name, guest.organisation) == ("=cmd|' /C calc'!A0", "@SUM(1)")


def test_add_invitee_by_hand_refuses_a_duplicate(app, seeded):
    from seminar.registration.validation import InvalidDetails

    with app.app_context():
        services.add_invitee(seeded.id, first_name="Ana", last_name="Lopez", email="ana@example.org", language="en")
        with pytest.raises(InvalidDetails) as refused:
            services.add_invitee(seeded.id, first_name="Ana", last_name="L", email="ANA@example.org")
    assert "email" in refused.value.errors
    assert invitation(app, "ana@example.org").language == "en"


# --- sending ------------------------------------------------------------------------------------------------

def test_send_twice_sends_nothing_the_second_time(app, seeded):
    import_guests(app)
    assert _send(app) == 2
    assert _send(app) == 0
    messages = mails(app)
    assert sorted(m.to_addr for m in messages) == ["alex@example.org", "camille@example.org"]
    camille = invitation(app, "camille@example.org")
    assert camille.state is InvitationState.invited and camille.sent_at is not None
    assert camille.token_hash and token_in(messages[0]) not in camille.token_hash
    with app.app_context():
        counts = [e.details for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "invitations.send").order_by(AuditEntry.id))]
    assert counts == [{"sent": 2}, {"sent": 0}]


def test_mail_in_the_invitees_language_with_identity_practical_information_and_link(app, seeded):
    import_guests(app)
    _send(app)
    by_address = {m.to_addr: m for m in mails(app)}
    french, english = by_address["camille@example.org"], by_address["alex@example.org"]
    assert french.subject.startswith("Invitation") and "Bonjour Camille Durand" in french.text_body
    assert "Hello Alex Smith" in english.text_body and "Hello Alex Smith" in english.html_body
    assert "November" in english.text_body and "novembre" in french.text_body
    assert seeded.venue.name in english.text_body
    assert english.reply_to == seeded.contact_email and english.sender_name
    assert token_in(french) != token_in(english)


def test_remind_respects_invitation_remind_after(app, seeded):
    import_guests(app)
    _send(app)
    with app.app_context():
        assert services.send_reminders(seeded.id) == 0  # just sent
        earlier = utcnow() - timedelta(seconds=app.config["INVITATION_REMIND_AFTER"] + 60)
        db.session.execute(update(Invitation).values(sent_at=earlier))
        db.session.execute(update(Invitation).where(Invitation.email == "alex@example.org")
                           .values(state=InvitationState.declined))
        db.session.commit()
        assert services.send_reminders(seeded.id) == 1
        assert services.send_reminders(seeded.id) == 0
    reminders = [m for m in mails(app) if "Rappel" in m.subject or "Reminder" in m.subject]
    assert [m.to_addr for m in reminders] == ["camille@example.org"]
    camille = invitation(app, "camille@example.org")
    assert camille.reminders == 1 and camille.reminded_at is not None
    # The same personal link as the invitation's.
    first = next(m for m in mails(app) if m.to_addr == "camille@example.org")
    assert token_in(reminders[0]) == token_in(first)


def test_ended_event_refuses_sending_and_the_page_says_so(app, client, seeded):
    import_guests(app)
    _send(app)
    token = _sent_tokens(app)["camille@example.org"]
    with app.app_context():
        db.session.execute(update(Event).values(starts_at=utcnow() - timedelta(days=2),
                                                ends_at=utcnow() - timedelta(days=1),
                                                registration_closes_at=utcnow() - timedelta(days=2)))
        db.session.commit()
        with pytest.raises(services.EventEnded):
            services.send_invitations(seeded.id)
        with pytest.raises(services.EventEnded):
            services.send_reminders(seeded.id)
    page = client.get(f"/invitations/{token}?lang=en")
    assert page.status_code == 410 and b"This event has ended" in page.data
    assert b"/register?" not in page.data
    answer = client.post(f"/invitations/{token}/decline", data={"message": "x"})
    assert answer.status_code == 410
    assert invitation(app, "camille@example.org").state is InvitationState.invited


# --- the page and the answers -------------------------------------------------------------------------------

def test_link_page_greets_by_name_records_opened_at_once_and_offers_accept(app, client, seeded):
    import_guests(app, ("first_name,last_name,email,organisation,category\n"
                        f"Camille,Durand,camille@example.org,Cancéropôle Est,{seeded.categories[0].code}\n").encode())
    _send(app)
    token = _sent_tokens(app)["camille@example.org"]
    assert invitation(app, "camille@example.org").opened_at is None
    page = client.get(f"/invitations/{token}?lang=en")
    assert page.status_code == 200 and b"Hello Camille Durand" in page.data
    first_opened = invitation(app, "camille@example.org").opened_at
    assert first_opened is not None
    client.get(f"/invitations/{token}")
    assert invitation(app, "camille@example.org").opened_at == first_opened
    html = page.data.decode()
    assert f"/events/{SLUG}/register?invitation={token}" in html
    assert "email=camille@example.org" in html and f"category={seeded.categories[0].id}" in html


def test_unknown_and_tampered_tokens_give_the_same_404(app, client, seeded):
    import_guests(app)
    _send(app)
    token = _sent_tokens(app)["camille@example.org"]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    tried = (tampered, "x" * 43, "short")
    pages = [client.get(f"/invitations/{t}") for t in tried]
    assert {p.status_code for p in pages} == {404}
    # The same page, but for the address itself (in the language switch's links).
    bodies = {p.data.decode().replace(t, "TOKEN") for p, t in zip(pages, tried, strict=True)}
    assert len(bodies) == 1
    assert client.post(f"/invitations/{tampered}/decline").status_code == 404


def test_decline_records_the_message_and_the_state(app, client, seeded):
    import_guests(app)
    _send(app)
    token = _sent_tokens(app)["camille@example.org"]
    answer = client.post(f"/invitations/{token}/decline", data={"message": "  Pas disponible ce jour-là.  "})
    assert answer.status_code == 303
    camille = invitation(app, "camille@example.org")
    assert camille.state is InvitationState.declined and camille.answered_at is not None
    assert camille.decline_message == "Pas disponible ce jour-là."


def test_registering_with_an_invited_address_marks_the_invitee_registered(app, client, seeded):
    import_guests(app)
    _send(app)
    token = _sent_tokens(app)["camille@example.org"]
    data = form_data(seeded, email="Camille@Example.org", first_name="Camille", last_name="Durand")
    assert client.post(f"/events/{SLUG}/register", data=data).status_code == 303
    camille = invitation(app, "camille@example.org")
    with app.app_context():
        registration_id = db.session.scalar(
            select(Registration.id).where(Registration.email_key == "camille@example.org"))
    assert camille.state is InvitationState.registered and camille.registration_id == registration_id
    assert invitation(app, "alex@example.org").state is InvitationState.invited
    # Declining after registering: the page asks to cancel the registration instead.
    refused = client.post(f"/invitations/{token}/decline?lang=en", data={"message": ""})
    assert refused.status_code == 409 and b"cancel your registration" in refused.data
    assert invitation(app, "camille@example.org").state is InvitationState.registered
    # Nothing is sent to an invitee who answered before the reminder was written.
    with app.app_context():
        assert services.send_reminders(seeded.id) == 0


# --- CLI ----------------------------------------------------------------------------------------------------

def test_cli_import_send_remind_and_status(app, runner, seeded, tmp_path):
    guests = tmp_path / "guests.csv"
    guests.write_text(GUESTS + "Camille,Again,camille@example.org,,,fr\nBad,Row,nope,,,fr\n", encoding="utf-8")
    result = runner.invoke(args=["invitations", "import", SLUG, str(guests)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "added: 2, duplicates: 1, rejected: 1"
    assert lines[1].startswith("  line 4: duplicate camille@example.org (")
    assert lines[2].startswith("  line 5: rejected: ")
    assert runner.invoke(args=["invitations", "send", SLUG]).output == "sent: 2\n"
    assert runner.invoke(args=["invitations", "send", SLUG]).output == "sent: 0\n"
    assert runner.invoke(args=["invitations", "send", SLUG, "--remind"]).output == "sent: 0\n"
    with app.app_context():
        db.session.execute(update(Invitation).where(Invitation.email == "alex@example.org")
                           .values(state=InvitationState.declined))
        db.session.add(Invitation(event_id=seeded.id, first_name="N", last_name="S", email="n@example.org",
                                  email_key="n@example.org"))
        db.session.commit()
    status = runner.invoke(args=["invitations", "status", SLUG])
    assert status.output == "invited: 2, registered: 0, declined: 1, pending: 1\n"


def test_outbox_messages_belong_to_the_event(app, seeded):
    import_guests(app)
    _send(app)
    with app.app_context():
        assert set(db.session.scalars(select(OutboxMessage.event_id))) == {seeded.id}
