"""Without MAIL_URL, messages are written as .eml files under instance/mail/."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

from seminar.mail.outbox import deliver_pending
from seminar.registration import services
from seminar.registration.services import RegistrationDetails


def test_without_mail_url_messages_become_eml_files(app, seeded):
    with app.app_context():
        services.register(seeded.id, RegistrationDetails("Élodie", "Martin", "elodie@example.org"), [])
        assert deliver_pending()["sent"] == 1
    [path] = list((Path(app.instance_path) / "mail").glob("*.eml"))
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["To"] == "elodie@example.org"
    assert "Votre inscription est confirmée" in message["Subject"]
    assert "Bonjour Élodie Martin" in message.get_body(("plain",)).get_content()
