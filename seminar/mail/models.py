"""The e-mail outbox: every message is a row written with the change that causes it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from seminar.events.models import enum_column
from seminar.extensions import db, utcnow


class OutboxStatus(enum.Enum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"


class OutboxMessage(db.Model):
    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text, default="")
    # Who the message is from, for its reader: the organiser's name shown with MAIL_FROM's address, and the
    # event's contact address where replies go (empty: MAIL_FROM as configured, no Reply-To).
    sender_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    reply_to: Mapped[str] = mapped_column(String(254), default="", server_default="")
    # Images the HTML part shows by "cid:" (the organiser's logo, a check-in QR code): [{"cid", "mimetype",
    # "data" (base64)}], or null.
    inline_images: Mapped[list | None] = mapped_column(JSON)
    # An iTIP calendar part (REQUEST or CANCEL), if any.
    ics: Mapped[str | None] = mapped_column(Text)
    ics_method: Mapped[str | None] = mapped_column(String(16))
    # Messages sharing a key replace one another while still pending (coalesced calendar updates).
    coalesce_key: Mapped[str | None] = mapped_column(String(200), index=True)
    status: Mapped[OutboxStatus] = mapped_column(enum_column(OutboxStatus), default=OutboxStatus.pending)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str] = mapped_column(String(200), default="")
    event_id: Mapped[int | None] = mapped_column(index=True)
    registration_id: Mapped[int | None] = mapped_column(index=True)
    # A message still to be written: what to compose (a registrant e-mail kind) and what about (JSON). The
    # change that causes it only records this, so that its transaction stays short; the outbox worker
    # composes the bodies and calendar parts before sending (see `seminar.mail.outbox.compose_pending`).
    # NULL once written.
    compose_kind: Mapped[str | None] = mapped_column(String(32), index=True)
    compose_args: Mapped[str | None] = mapped_column(Text)
