"""Turning outbox rows into MIME messages, and sending them: SMTP from MAIL_URL, else `.eml` files."""

from __future__ import annotations

import base64
import smtplib
import ssl
from contextlib import contextmanager
from email.headerregistry import Address
from email.message import EmailMessage
from email.mime.text import MIMEText
from email.utils import format_datetime, parseaddr
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import Flask

from seminar.extensions import utcnow
from seminar.mail.models import OutboxMessage
from seminar.text import header_line


def build_message(message: OutboxMessage, sender: str) -> EmailMessage:
    """Plain text, HTML alternative (with its inline images), and an iTIP calendar part
    (`text/calendar; method=…`) when present, also attached as an `invite.ics` file for the mail clients that
    ignore the inline part."""
    mime = EmailMessage()
    # One line each, whatever was stored: an event title pasted with a line separator (U+000B…) must not
    # make the message unbuildable.
    mime["From"] = _from(sender, header_line(message.sender_name))
    if reply_to := header_line(message.reply_to):
        mime["Reply-To"] = reply_to
    mime["To"] = header_line(message.to_addr)
    mime["Subject"] = header_line(message.subject)
    mime["Date"] = format_datetime(message.created_at or utcnow())
    mime["Message-ID"] = message.message_id
    mime["Auto-Submitted"] = "auto-generated"
    mime.set_content(message.text_body)
    if message.html_body:
        mime.add_alternative(message.html_body, subtype="html")
        html = mime.get_body(("html",))
        for image in message.inline_images or ():
            maintype, _, subtype = image["mimetype"].partition("/")
            html.add_related(base64.b64decode(image["data"]), maintype=maintype, subtype=subtype,
                             cid=f"<{image['cid']}>", disposition="inline")
    if message.ics:
        method = (message.ics_method or "REQUEST").upper()
        # Calendar clients look for the invite as an alternative of the body, with the method in the MIME type.
        # A compat32 part keeps this header byte for byte (EmailMessage would re-quote: method="REQUEST").
        calendar_part = MIMEText(message.ics, "calendar", "utf-8")
        calendar_part.replace_header("Content-Type", f"text/calendar; method={method}; charset=UTF-8")
        if not mime.is_multipart():
            mime.make_alternative()
        mime.attach(calendar_part)
        mime.add_attachment(message.ics.encode(), maintype="application", subtype="ics", filename="invite.ics")
    return mime


def _from(sender: str, name: str) -> str | Address:
    """MAIL_FROM, shown with the organiser's name when the message has one."""
    address = parseaddr(header_line(sender))[1]
    if not (name and address):
        return header_line(sender)
    username, _, domain = address.rpartition("@")
    return Address(display_name=name, username=username, domain=domain)


class FileTransport:
    """Writes each message as an .eml file, for development: open them with any mail reader."""

    def __init__(self, directory: Path):
        self.directory = directory

    def send(self, mime: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
        ident = mime["Message-ID"].strip("<>").split("@")[0]
        (self.directory / f"{stamp}-{ident}.eml").write_bytes(bytes(mime))


class SmtpTransport:
    def __init__(self, url: str, timeout: float = 20):
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtp+starttls", "smtps"):
            raise ValueError(f"MAIL_URL scheme must be smtp, smtp+starttls or smtps, not {parts.scheme!r}")
        self.scheme = parts.scheme
        self.host = parts.hostname or "localhost"
        self.port = parts.port or {"smtp": 25, "smtp+starttls": 587, "smtps": 465}[parts.scheme]
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout
        self.connection: smtplib.SMTP | None = None

    def open(self) -> None:
        if self.scheme == "smtps":
            connection = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                          context=ssl.create_default_context())
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.scheme == "smtp+starttls":
                connection.starttls(context=ssl.create_default_context())
        if self.username:
            connection.login(self.username, self.password or "")
        self.connection = connection

    def send(self, mime: EmailMessage) -> None:
        if self.connection is None:
            self.open()
        try:
            self.connection.send_message(mime)
        except (smtplib.SMTPServerDisconnected, OSError):
            self.connection = None  # reconnect for the next message
            raise

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except smtplib.SMTPException:
                self.connection.close()
            except OSError:
                pass
            self.connection = None


@contextmanager
def transport_for(app: Flask):
    """The configured transport, connected for the duration of a batch."""
    url = app.config.get("MAIL_URL")
    if not url:
        yield FileTransport(Path(app.instance_path) / "mail")
        return
    transport = SmtpTransport(url)
    transport.open()
    try:
        yield transport
    finally:
        transport.close()
