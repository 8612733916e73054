"""What the journeys share: the server under test, its mail folder, axe-core and screenshots."""

from __future__ import annotations

import email
import email.policy
import re
import time
from dataclasses import dataclass
from email.message import EmailMessage
from functools import cached_property
from pathlib import Path

from sqlalchemy import func, select

from seminar.events.models import Event, Session, SessionKind
from seminar.extensions import db

HERE = Path(__file__).resolve().parent
AXE_SOURCE = HERE / "vendor" / "axe.min.js"
SCREENSHOTS = HERE / "screenshots"
SLUG = "20-ans-canceropoles"
# axe rules are WCAG 2.1 A/AA plus best practices; serious and critical violations fail a test.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING_IMPACTS = ("serious", "critical")


@dataclass
class Mail:
    path: Path
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part else ""

    @property
    def calendar(self) -> str | None:
        for part in self.message.walk():
            if part.get_content_type() == "text/calendar":
                return part.get_content()
        return None


class Server:
    """The running app: its base URL, its instance folder (mail as .eml files) and, for arranging and
    reading state, an app object of our own on the same database."""

    def __init__(self, base_url: str, instance: Path, database: str, secret_key: str):
        self.base_url = base_url
        self.instance = instance
        self.database = database
        self.secret_key = secret_key
        self.log: Path | None = None

    @cached_property
    def app(self):
        from seminar import create_app

        return create_app({
            "SQLALCHEMY_DATABASE_URI": self.database, "INSTANCE_PATH": str(self.instance),
            "SECRET_KEY": self.secret_key, "MAIL_DELIVER_AFTER_COMMIT": False, "MAIL_URL": None,
        })

    def close(self) -> None:
        if "app" in self.__dict__:
            from seminar.extensions import db

            with self.app.app_context():
                db.engine.dispose()

    def url(self, path: str) -> str:
        return self.base_url + path

    def wait_until_idle(self, timeout: float = 60) -> None:
        """Waits until no background job is queued or running and no e-mail is due, so that a journey's next
        step does not race the worker. (On SQLite a sign-in that races another write answers 500: reported.)"""
        from seminar.extensions import utcnow
        from seminar.jobs.models import Job, JobStatus
        from seminar.mail.models import OutboxMessage, OutboxStatus

        deadline = time.monotonic() + timeout
        while True:
            with self.app.app_context():
                busy = db.session.scalar(select(func.count()).select_from(Job).where(
                    Job.status.in_([JobStatus.queued, JobStatus.running])))
                busy += db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
                    (OutboxMessage.status == OutboxStatus.sending)
                    | ((OutboxMessage.status == OutboxStatus.pending) & (OutboxMessage.next_attempt_at <= utcnow()))))
                db.session.remove()
            if not busy:
                return
            assert time.monotonic() < deadline, "the server's background work did not finish"
            time.sleep(0.2)

    # --- mail -----------------------------------------------------------------------------------------

    def mails(self, to: str) -> list[Mail]:
        found = []
        for path in sorted((self.instance / "mail").glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if to.lower() in str(message["To"]).lower():
                found.append(Mail(path, message))
        return found

    def wait_for_mail(self, to: str, *, count: int = 1, subject: str | None = None,
                      timeout: float = 20) -> list[Mail]:
        """The mails to `to` (at least `count`, optionally only those whose subject holds `subject`), waiting
        for the server's background delivery; fails with what arrived when they do not come."""
        deadline = time.monotonic() + timeout
        while True:
            mails = [m for m in self.mails(to) if subject is None or subject.lower() in m.subject.lower()]
            if len(mails) >= count or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert len(mails) >= count, f"expected {count} mail(s) to {to} ({subject=}), got {[m.subject for m in mails]}"
        return mails

    def self_service_path(self, mail: Mail) -> str:
        match = re.search(re.escape(self.base_url) + r"(/registrations/[A-Za-z0-9_-]+)", mail.text)
        assert match, f"no self-service link in:\n{mail.text}"
        return match[1]


def run_axe(page, label: str) -> list[dict]:
    """Runs axe-core in the page (through the DevTools protocol, so the page's CSP stays on) and fails on
    serious or critical violations, naming the rule, the impact and the offending elements."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE.read_text(encoding="utf-8"))
    violations = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)})))",
        AXE_TAGS,
    )
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe on {label} ({page.url}):\n" + "\n".join(
        f"- {v['id']} [{v['impact']}] {v['help']}\n    " + "\n    ".join(v["nodes"]) for v in blocking)
    return violations


def screenshot(page, name: str) -> Path:
    """A full-page PNG in tests/e2e/screenshots/ (kept by CI as an artifact), named after the page and width."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}-{page.viewport_size['width']}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def round_tables(server: Server) -> list[tuple[int, str]]:
    """The seminar's round tables (id, title), in programme order."""
    with server.app.app_context():
        rows = db.session.execute(
            select(Session.id, Session.title).join(Event).where(Event.slug == SLUG,
                                                                Session.kind == SessionKind.round_table)
            .order_by(Session.starts_at)).all()
        db.session.remove()
    return [(row.id, row.title) for row in rows]


def fill_registration(page, *, first_name: str, last_name: str, email: str, tables: list[int],
                      organisation: str = "Cancéropôle Est") -> None:
    """Fills the public registration form as a person would (the page is already open)."""
    page.fill("[name=first_name]", first_name)
    page.fill("[name=last_name]", last_name)
    page.fill("[name=email]", email)
    page.fill("[name=organisation]", organisation)
    page.select_option("[name=category]", index=1)
    for table_id in tables:
        page.check(f"input[name=sessions][value='{table_id}']")
    page.check("[name=consent_privacy]")
