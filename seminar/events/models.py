"""Events, venues, rooms, sessions (the programme) and speakers."""

from __future__ import annotations

import enum
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Enum, ForeignKey, LargeBinary, String, Text, UniqueConstraint, false
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from seminar.extensions import db, utcnow


def enum_column(enum_cls: type[enum.Enum]) -> Enum:
    """Store a Python enum by name, as a portable VARCHAR (no native PostgreSQL type)."""
    return Enum(enum_cls, native_enum=False, length=32, validate_strings=True)


class SessionKind(enum.Enum):
    plenary = "plenary"
    round_table = "round_table"
    break_ = "break"
    other = "other"

    @property
    def api_name(self) -> str:
        return self.value


class SpeakerRole(enum.Enum):
    moderator = "moderator"
    panellist = "panellist"
    speaker = "speaker"
    chair = "chair"


class OrganisationKind(enum.Enum):
    canceropole = "canceropole"
    founding_member = "founding_member"
    local_authority = "local_authority"
    patient_association = "patient_association"
    technology_transfer = "technology_transfer"
    elected_officials = "elected_officials"
    other = "other"


def in_language(obj, field: str, locale: str) -> str:
    """A bilingual text (`field` in French, `field_en` in English) in the reader's language, falling back to
    the other language when that one is empty."""
    french, english = getattr(obj, field), getattr(obj, f"{field}_en")
    if str(locale).startswith("en"):
        return english or french
    return french or english


def _english(length: int | None = None):
    """The English twin of a French text column: empty until someone translates it."""
    return mapped_column(String(length) if length else Text, default="", server_default="")


class Bilingual:
    """Models whose public texts have a French value and an English `_en` twin."""

    def text(self, field: str, locale: str) -> str:
        return in_language(self, field, locale)


def _event_start(context) -> datetime:
    """The default closing time of registration, for an INSERT that gives none: the event's start."""
    return context.get_current_parameters()["starts_at"]


class Event(Bilingual, db.Model):
    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = _english(200)
    subtitle: Mapped[str] = mapped_column(String(300), default="")
    subtitle_en: Mapped[str] = _english(300)
    description: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = _english()
    organiser: Mapped[str] = mapped_column(String(200), default="")
    organiser_en: Mapped[str] = _english(200)
    # The organiser's logo, shown on the pages, e-mails and badges (PNG or JPEG, prepared like speaker photos).
    organiser_logo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    organiser_logo_mimetype: Mapped[str | None] = mapped_column(String(50))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    registration_opens_at: Mapped[datetime | None]
    # Always stored: when an event is written without one, registration closes as the event starts
    # (`_event_start`); never after the event ends (`registration_outlasts_event`).
    registration_closes_at: Mapped[datetime] = mapped_column(default=_event_start)
    capacity: Mapped[int | None]
    # How many registrations are confirmed and waitlisted: kept by the seat ledger
    # (seminar.registration.ledger) in the same transaction as every change, so that nothing counts rows.
    confirmed_count: Mapped[int] = mapped_column(default=0, server_default="0")
    waitlisted_count: Mapped[int] = mapped_column(default=0, server_default="0")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    featured: Mapped[bool] = mapped_column(default=False)
    # Registration by invitation only: the public form explains it and offers to ask for an invitation;
    # registrations arrive through invitation links and the back-office.
    invitation_only: Mapped[bool] = mapped_column(default=False, server_default=false())
    times_confirmed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    venue: Mapped[Venue | None] = relationship(back_populates="event", uselist=False, cascade="all, delete-orphan")
    sessions: Mapped[list[Session]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="(Session.starts_at, Session.position)"
    )
    speakers: Mapped[list[Speaker]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="Speaker.name"
    )
    categories: Mapped[list[Category]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="Category.position"
    )
    organisations: Mapped[list[Organisation]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="Organisation.position"
    )
    press_contacts: Mapped[list[PressContact]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="PressContact.position"
    )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, moment: datetime) -> datetime:
        """A stored (UTC) time in the event's own timezone."""
        return moment.astimezone(self.tz)

    def mail_identity(self, locale: str) -> dict[str, str]:
        """Who the event's e-mails come from: the organiser's name, and its contact address for replies
        (the keywords of `seminar.mail.outbox.enqueue` and `write`)."""
        return {"sender_name": self.text("organiser", locale), "reply_to": self.contact_email}

    def registration_is_open(self, now: datetime | None = None) -> bool:
        return registration_open_between(self.registration_opens_at, self.registration_closes_at, now)

    def registration_opens_later(self, now: datetime | None = None) -> bool:
        """Whether registration has not opened yet (it will: it always closes after it opens)."""
        return self.registration_opens_at is not None and (now or utcnow()) < self.registration_opens_at


def registration_outlasts_event(closes_at: datetime, ends_at: datetime) -> bool:
    """Whether registration would stay open after the event ends, which every way of writing an event refuses."""
    return closes_at > ends_at


def registration_open_between(opens_at: datetime | None, closes_at: datetime | None,
                              now: datetime | None = None) -> bool:
    """Whether registration is open at `now` (default: now) between an event's opening and closing times."""
    now = now or utcnow()
    if opens_at and now < opens_at:
        return False
    return not (closes_at and now >= closes_at)


class Venue(Bilingual, db.Model):
    __tablename__ = "venue"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    street_address: Mapped[str] = mapped_column(String(300), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    country: Mapped[str] = mapped_column(String(120), default="France")
    access_notes: Mapped[str] = mapped_column(Text, default="")
    access_notes_en: Mapped[str] = _english()
    accessibility_notes: Mapped[str] = mapped_column(Text, default="")
    accessibility_notes_en: Mapped[str] = _english()
    map_url: Mapped[str] = mapped_column(String(500), default="")

    event: Mapped[Event] = relationship(back_populates="venue")
    rooms: Mapped[list[Room]] = relationship(
        back_populates="venue", cascade="all, delete-orphan", order_by="Room.name"
    )

    @property
    def one_line(self) -> str:
        parts = [self.name, self.street_address, f"{self.postal_code} {self.city}".strip()]
        return ", ".join(p for p in parts if p)


class Room(db.Model):
    __tablename__ = "room"
    __table_args__ = (UniqueConstraint("venue_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    capacity: Mapped[int | None]

    venue: Mapped[Venue] = relationship(back_populates="rooms")


class Session(Bilingual, db.Model):
    """A slot of the programme: plenary, round table, break or other."""

    __tablename__ = "session"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    kind: Mapped[SessionKind] = mapped_column(enum_column(SessionKind))
    title: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = _english(300)
    description: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = _english()
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    room_id: Mapped[int | None] = mapped_column(ForeignKey("room.id", ondelete="SET NULL"))
    capacity: Mapped[int | None]
    # Confirmed and waitlisted seats (wishes count in neither), kept by the seat ledger like Event's.
    confirmed_count: Mapped[int] = mapped_column(default=0, server_default="0")
    waitlisted_count: Mapped[int] = mapped_column(default=0, server_default="0")
    position: Mapped[int] = mapped_column(default=0)
    # iCalendar SEQUENCE of the session itself: raised on every change of time, room or title.
    sequence: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship(back_populates="sessions")
    room: Mapped[Room | None] = relationship()
    speaker_links: Mapped[list[SessionSpeaker]] = relationship(
        back_populates="session",
        cascade="all, delete-orphan",
        order_by="(SessionSpeaker.role, SessionSpeaker.position)",
    )

    @hybrid_property
    def takes_registrations(self) -> bool:
        """Round tables are chosen at registration time; other slots are open to every attendee.
        (Also usable in a query: `Session.takes_registrations`.)"""
        return self.kind == SessionKind.round_table

    def speakers_with_role(self, role: SpeakerRole) -> list[Speaker]:
        return [link.speaker for link in self.speaker_links if link.role is role]


class Speaker(Bilingual, db.Model):
    __tablename__ = "speaker"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # Function or profession ("oncologue", "Président"), shown after the name: "Zoë L'Hôpital, oncologue (CHU)".
    title: Mapped[str] = mapped_column(String(200), default="")
    title_en: Mapped[str] = _english(200)
    affiliation: Mapped[str] = mapped_column(String(300), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    bio_en: Mapped[str] = _english()
    photo: Mapped[bytes | None] = mapped_column(deferred=True)
    photo_mimetype: Mapped[str | None] = mapped_column(String(50))
    # An organisation taking part as such (panels may list participating organisations).
    is_organisation: Mapped[bool] = mapped_column(default=False)

    event: Mapped[Event] = relationship(back_populates="speakers")

    def credit(self, locale: str) -> str:
        """How the programme names a speaker: "Zoë L'Hôpital, oncologue (CHU de Lyon)"."""
        function = self.text("title", locale)
        name = f"{self.name}, {function}" if function else self.name
        return f"{name} ({self.affiliation})" if self.affiliation else name
    session_links: Mapped[list[SessionSpeaker]] = relationship(
        back_populates="speaker", cascade="all, delete-orphan"
    )


class SessionSpeaker(db.Model):
    __tablename__ = "session_speaker"
    __table_args__ = (UniqueConstraint("session_id", "speaker_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"), index=True)
    speaker_id: Mapped[int] = mapped_column(ForeignKey("speaker.id", ondelete="CASCADE"), index=True)
    role: Mapped[SpeakerRole] = mapped_column(enum_column(SpeakerRole))
    position: Mapped[int] = mapped_column(default=0)

    session: Mapped[Session] = relationship(back_populates="speaker_links")
    speaker: Mapped[Speaker] = relationship(back_populates="session_links")


class Category(Bilingual, db.Model):
    """An attendee category offered by an event's registration form (shown on badges)."""

    __tablename__ = "category"
    __table_args__ = (UniqueConstraint("event_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200), default="")
    colour: Mapped[str] = mapped_column(String(7), default="#555555")
    position: Mapped[int] = mapped_column(default=0)

    event: Mapped[Event] = relationship(back_populates="categories")

    def label_for(self, locale: str) -> str:
        return self.text("label", locale)


class Organisation(Bilingual, db.Model):
    """An organisation taking part in or invited to the event (the cancéropôles, partners…)."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    kind: Mapped[OrganisationKind] = mapped_column(enum_column(OrganisationKind))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = _english(200)
    url: Mapped[str] = mapped_column(String(300), default="")
    position: Mapped[int] = mapped_column(default=0)

    event: Mapped[Event] = relationship(back_populates="organisations")


class PressContact(Bilingual, db.Model):
    __tablename__ = "press_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(200), default="")
    role_en: Mapped[str] = _english(200)
    phone: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    position: Mapped[int] = mapped_column(default=0)

    event: Mapped[Event] = relationship(back_populates="press_contacts")
