"""Imports every model so that metadata (create_all, Alembic autogenerate) sees the whole schema."""

from seminar.accounts.models import Role, User
from seminar.admin.models import ImportUpload
from seminar.audit.models import AuditEntry
from seminar.events.models import (
    Category,
    Event,
    Organisation,
    OrganisationKind,
    PressContact,
    Room,
    Session,
    SessionKind,
    SessionSpeaker,
    Speaker,
    SpeakerRole,
    Venue,
)
from seminar.invitations.models import Invitation, InvitationState
from seminar.jobs.models import Job, JobStatus
from seminar.mail.models import OutboxMessage, OutboxStatus
from seminar.registration.models import (
    Registration,
    RegistrationSource,
    RegistrationStatus,
    SeatStatus,
    SessionAttendance,
    SessionSeat,
)

__all__ = [
    "AuditEntry", "Category", "Event", "ImportUpload", "Invitation", "InvitationState", "Job", "JobStatus",
    "Organisation", "OrganisationKind",
    "OutboxMessage", "OutboxStatus", "PressContact", "Registration", "RegistrationSource",
    "RegistrationStatus", "Role", "Room", "SeatStatus", "Session", "SessionAttendance", "SessionKind", "SessionSeat",
    "SessionSpeaker", "Speaker", "SpeakerRole", "User", "Venue",
]
