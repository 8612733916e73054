"""Registrations for an event and their seats in round tables."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from seminar.events.models import Category, Event, Session, enum_column
from seminar.extensions import db, utcnow


class RegistrationStatus(enum.Enum):
    confirmed = "confirmed"
    waitlisted = "waitlisted"
    cancelled = "cancelled"


class SeatStatus(enum.Enum):
    """A registrant's place in one round table. Only a confirmed registration holds confirmed or waitlisted
    seats; the choices of someone waiting for the event are wishes, which count against nothing until the
    registration is confirmed (seminar.registration.ledger)."""

    confirmed = "confirmed"
    waitlisted = "waitlisted"
    wish = "wish"
    cancelled = "cancelled"


def status_label(status: RegistrationStatus | SeatStatus) -> str:
    """The status of a registration or of a seat, in the current language (pages, exports, reports)."""
    from flask_babel import gettext as _

    return {"confirmed": _("confirmed"), "waitlisted": _("waitlisted"), "wish": _("wish"),
            "cancelled": _("cancelled")}[status.name]


class BadgeRole(enum.Enum):
    """What a person is at the seminar, printed as a ribbon on the badge (attendees have none)."""

    attendee = "attendee"
    speaker = "speaker"
    moderator = "moderator"
    organiser = "organiser"
    press = "press"
    staff = "staff"


def badge_role_label(role: BadgeRole) -> str:
    """A badge role in the current language (badges, back-office, imports)."""
    from flask_babel import pgettext

    return {"attendee": pgettext("badge role", "Attendee"), "speaker": pgettext("badge role", "Speaker"),
            "moderator": pgettext("badge role", "Moderator"), "organiser": pgettext("badge role", "Organiser"),
            "press": pgettext("badge role", "Press"), "staff": pgettext("badge role", "Staff")}[role.name]


class RegistrationSource(enum.Enum):
    web = "web"
    import_ = "import"
    organiser = "organiser"


class Registration(db.Model):
    __tablename__ = "registration"
    __table_args__ = (
        UniqueConstraint("event_id", "email_key"),
        Index("ix_registration_event_status_created", "event_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    # Case-folded e-mail: one registration per address and event.
    email_key: Mapped[str] = mapped_column(String(254))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    job_title: Mapped[str] = mapped_column(String(200), default="")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id", ondelete="SET NULL"))
    dietary: Mapped[str] = mapped_column(Text, default="")
    accessibility: Mapped[str] = mapped_column(Text, default="")
    consent_privacy_at: Mapped[datetime | None]
    consent_listing: Mapped[bool] = mapped_column(default=False)
    status: Mapped[RegistrationStatus] = mapped_column(enum_column(RegistrationStatus))
    source: Mapped[RegistrationSource] = mapped_column(
        enum_column(RegistrationSource), default=RegistrationSource.web
    )
    locale: Mapped[str] = mapped_column(String(10), default="fr")
    badge_role: Mapped[BadgeRole] = mapped_column(enum_column(BadgeRole), default=BadgeRole.attendee,
                                                  server_default=BadgeRole.attendee.name)
    # SHA-256 of the self-service token; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Random salt the current token is derived from with the app secret (see registration/tokens.py),
    # so that every e-mail can carry the same link although only its hash is stored.
    token_salt: Mapped[str] = mapped_column(String(64), default="")
    # Recorded when an organiser deliberately confirmed beyond capacity.
    overbooked: Mapped[bool] = mapped_column(default=False)
    # iCalendar SEQUENCE of this registrant's invite for the event as a whole.
    ical_sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    cancelled_at: Mapped[datetime | None]
    promoted_at: Mapped[datetime | None]
    anonymised_at: Mapped[datetime | None]
    checked_in_at: Mapped[datetime | None]
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    event: Mapped[Event] = relationship()
    category: Mapped[Category | None] = relationship()
    seats: Mapped[list[SessionSeat]] = relationship(
        back_populates="registration", cascade="all, delete-orphan", order_by="SessionSeat.session_id"
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def active_seats(self) -> list[SessionSeat]:
        return [s for s in self.seats if s.status is not SeatStatus.cancelled]


class SessionSeat(db.Model):
    """A registrant's place in one round table (see SeatStatus); `created_at` is its place in the queue."""

    __tablename__ = "session_seat"
    __table_args__ = (
        UniqueConstraint("registration_id", "session_id"),
        Index("ix_session_seat_session_status_created", "session_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"))
    status: Mapped[SeatStatus] = mapped_column(enum_column(SeatStatus))
    # iCalendar SEQUENCE of this registrant's invite for this session.
    ical_sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    registration: Mapped[Registration] = relationship(back_populates="seats")
    session: Mapped[Session] = relationship()


class SessionAttendance(db.Model):
    """Attendance recorded at one session's door (per-session check-in)."""

    __tablename__ = "session_attendance"
    __table_args__ = (UniqueConstraint("session_id", "registration_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"))
    checked_in_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # The registrant held no seat in that session: flagged, not refused.
    without_seat: Mapped[bool] = mapped_column(default=False)

    registration: Mapped[Registration] = relationship()
    session: Mapped[Session] = relationship()
