"""An event's guest list: one invitation per address, its personal link and where the invitee stands."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from seminar.events.models import Category, Event, enum_column
from seminar.extensions import db, utcnow


class InvitationState(enum.Enum):
    not_sent = "not_sent"  # on the guest list, no invitation sent yet
    invited = "invited"  # sent, no answer yet
    registered = "registered"  # a registration of the event holds the address
    declined = "declined"
    bounced = "bounced"  # the invitation could not be delivered


def invitation_state_label(state: InvitationState) -> str:
    """An invitation's state in the current language (back-office, exports)."""
    from flask_babel import gettext as _

    return {"not_sent": _("not sent"), "invited": _("invited"), "registered": _("registered"),
            "declined": _("declined"), "bounced": _("bounced")}[state.name]


class Invitation(db.Model):
    __tablename__ = "invitation"
    __table_args__ = (UniqueConstraint("event_id", "email_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    # Case-folded e-mail, as registrations fold it (`seminar.registration.validation.email_key`): one invitation per
    # address and event, and the key that finds the invitee when that address registers.
    email_key: Mapped[str] = mapped_column(String(254))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id", ondelete="SET NULL"))
    language: Mapped[str] = mapped_column(String(10), default="fr")
    state: Mapped[InvitationState] = mapped_column(enum_column(InvitationState), default=InvitationState.not_sent)
    # SHA-256 of the personal link's token and the salt it is derived from (as registrations' links:
    # seminar/registration/tokens.py); both empty until the invitation is first sent.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_salt: Mapped[str] = mapped_column(String(64), default="")
    sent_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    reminders: Mapped[int] = mapped_column(default=0)
    # The first time the link's page was opened (counted there: no tracking pixel).
    opened_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    decline_message: Mapped[str] = mapped_column(Text, default="")
    # Deferred: registering marks the invitee in the transaction that writes the registration, whose rows reach the
    # database after (in one round trip with the commit: seminar.registration.services._register).
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration.id", ondelete="SET NULL", deferrable=True, initially="DEFERRED"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    event: Mapped[Event] = relationship()
    category: Mapped[Category | None] = relationship()

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()
