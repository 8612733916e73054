"""The audit log as a person reads it: each entry's action in words, its object named (and linked while it
exists) and its details labelled, with changes shown as "before → after".

Reads only: the objects an entry names are loaded in one query per kind for a whole page, never per row.
Names come back as plain text, for Jinja to escape.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from seminar.accounts.forms import role_choices
from seminar.accounts.models import User
from seminar.admin.forms import session_kind_choices, speaker_role_choices
from seminar.audit.models import AuditEntry
from seminar.events.lists import ORGANISATION_KIND_LABELS
from seminar.events.models import Category, Event, Organisation, PressContact, Room, Session, Speaker, Venue
from seminar.events.programme import _TEXTS, EventDetails, SessionDetails, SpeakerDetails, VenueDetails
from seminar.extensions import db
from seminar.formatting import local_datetime, locale_code
from seminar.invitations.models import Invitation
from seminar.registration.models import Registration, RegistrationStatus, status_label

ACTIONS = {
    "event.create": _l("Event created"),
    "event.update": _l("Event changed"),
    "event.delete": _l("Event deleted"),
    "venue.update": _l("Venue changed"),
    "room.create": _l("Room added"),
    "room.update": _l("Room changed"),
    "room.delete": _l("Room deleted"),
    "session.create": _l("Session created"),
    "session.update": _l("Session changed"),
    "session.delete": _l("Session deleted"),
    "session.speaker": _l("Speaker added to the session, or role changed"),
    "session.speaker_removed": _l("Speaker removed from the session"),
    "speaker.create": _l("Speaker added"),
    "speaker.update": _l("Speaker changed"),
    "speaker.delete": _l("Speaker deleted"),
    "category.create": _l("Category added"),
    "category.update": _l("Category changed"),
    "category.delete": _l("Category deleted"),
    "category.reorder": _l("Categories reordered"),
    "organisation.create": _l("Invited organisation added"),
    "organisation.update": _l("Invited organisation changed"),
    "organisation.delete": _l("Invited organisation deleted"),
    "organisation.reorder": _l("Invited organisations reordered"),
    "press_contact.create": _l("Press contact added"),
    "press_contact.update": _l("Press contact changed"),
    "press_contact.delete": _l("Press contact deleted"),
    "press_contact.reorder": _l("Press contacts reordered"),
    "invitations.import": _l("Import of a guest list"),
    "invitations.send": _l("Invitations sent"),
    "invitations.remind": _l("Invitation reminders sent"),
    "invitations.export": _l("Export of the guest list"),
    "invitation.add": _l("Guest added"),
    "invitation.decline": _l("Invitation declined"),
    "registration.invitation_request": _l("Invitation requested"),
    "registrations.import": _l("Import of registrations"),
    "registrations.export": _l("Export of registrations"),
    "registration.manual": _l("Registered by an organiser"),
    "registration.manual_duplicate": _l("Registration by an organiser: already registered"),
    "registration.cancel": _l("Registration cancelled"),
    "registration.restore": _l("Registration restored"),
    "registration.promote": _l("Free places given to the waiting list"),
    "registration.promote_one": _l("Confirmed from the waiting list"),
    "registration.send_link": _l("Link sent again"),
    "mailing.send": _l("E-mail to registrants sent"),
    "checkin.check_in": _l("Arrival checked in"),
    "checkin.session_check_in": _l("Attendance at a session checked in"),
    "checkin.undo": _l("Check-in undone"),
    "checkin.export": _l("Export of attendance"),
    "account.create": _l("Account created"),
    "account.password": _l("Password changed"),
    "account.role": _l("Role changed"),
    "account.activate": _l("Account reactivated"),
    "account.deactivate": _l("Account deactivated"),
    "account.sign_out": _l("Signed out everywhere"),
}

# The families offered by the log's filter: an action prefix, and its name. "registration" (no dot) takes both
# the organisers' actions on one registration and imports and exports ("registrations.").
ACTION_FAMILIES = (
    ("event.", _l("Events")),
    ("venue.", _l("Venue")),
    ("room.", _l("Rooms")),
    ("session.", _l("Sessions")),
    ("speaker.", _l("Speakers")),
    ("category.", _l("Registration categories")),
    ("organisation.", _l("Invited groups")),
    ("press_contact.", _l("Press contacts")),
    ("registration", _l("Registrations")),
    ("invitation", _l("Guest list")),
    ("mailing.", _l("E-mails to registrants")),
    ("checkin.", _l("Check-in")),
    ("account.", _l("Accounts")),
)

# Actions whose details are changes, each value a pair [before, after] (`programme.changed_fields`).
CHANGE_ACTIONS = frozenset({"event.update", "venue.update", "room.update", "session.update", "speaker.update",
                            "category.update", "organisation.update", "press_contact.update"})

# The fields of the programme's objects, labelled as their forms label them: the typed texts' labels are
# programme's own (`_TEXTS`), the other fields' are added here.
_FIELDS = {
    "event": {**_TEXTS[EventDetails][1], "slug": _l("Address (slug)"), "timezone": _l("Time zone"),
              "starts_at": _l("Starts at"), "ends_at": _l("Ends at"), "capacity": _l("Capacity"),
              "registration_opens_at": _l("Registration opens at"),
              "registration_closes_at": _l("Registration closes at")},
    "venue": _TEXTS[VenueDetails][1],
    "room": {"name": _l("Room name")},
    "session": {**_TEXTS[SessionDetails][1], "kind": _l("Kind"), "starts_at": _l("Starts at"),
                "ends_at": _l("Ends at"), "room_id": _l("Room"), "capacity": _l("Capacity"), "position": _l("Order")},
    "speaker": {**_TEXTS[SpeakerDetails][1], "is_organisation": _l("Organisation"), "photo": _l("Photo")},
    "category": {"code": _l("Code"), "label": _l("Label"), "label_en": _l("Label in English"),
                 "colour": _l("Badge colour")},
    "organisation": {"kind": _l("Group"), "name": _l("Name"), "name_en": _l("Name in English"),
                     "url": _l("Web address")},
    "press_contact": {"name": _l("Name"), "role": _l("Role"), "role_en": _l("Role in English"),
                      "phone": _l("Phone"), "email": _l("E-mail")},
}

# Every other detail the code records, whatever the object.
_DETAILS = {
    "created": _l("Created"), "duplicates": _l("Duplicates"), "rejected": _l("Rejected"),
    "send_email": _l("Send confirmation e-mails"), "format": _l("Format"), "rows": _l("Rows"),
    "by_round_table": _l("By round table"), "recipients": _l("Recipients"), "subject": _l("Subject"),
    "q": _l("Search terms"), "status": _l("Status"), "category": _l("Category"), "session": _l("Session"),
    "session_id": _l("Session"), "sessions": _l("Sessions"), "checked_in": _l("Checked in"),
    "email": _l("E-mail address"), "overbook": _l("Overbooked"), "overbooked": _l("Overbooked"),
    "promoted": _l("Promoted from the waiting list"), "speaker": _l("Speaker"), "role": _l("Role"),
    "notified": _l("Registrants told"), "without_seat": _l("Without a seat"), "checked_in_at": _l("Checked in at"),
    "slug": _l("Address (slug)"), "title": _l("Title"), "name": _l("Name"), "starts_at": _l("Starts at"),
}

# Details that only order a list (exports, mailings): nothing a reader of the log needs.
_HIDDEN = frozenset({"sort", "dir", "order"})  # "order": a reordered list's ids

# Details holding ids of other objects, shown by name.
_REFERENCES = {"session": "session", "session_id": "session", "sessions": "session", "room_id": "room",
               "promoted": "registration", "category": "category"}

_TIMES = frozenset({"starts_at", "ends_at", "registration_opens_at", "registration_closes_at", "checked_in_at"})

_PHOTO = {"new": _l("uploaded"), "removed": _l("removed")}

# Names of an object without a name of its own, and of one that no longer exists.
_UNNAMED = {
    "event": _l("Event #%(num)s"), "venue": _l("Venue #%(num)s"), "room": _l("Room #%(num)s"),
    "session": _l("Session #%(num)s"), "speaker": _l("Speaker #%(num)s"),
    "registration": _l("Registration #%(num)s"), "user": _l("Account #%(num)s"),
    "category": _l("Category #%(num)s"), "organisation": _l("Invited organisation #%(num)s"),
    "press_contact": _l("Press contact #%(num)s"), "invitation": _l("Guest #%(num)s"),
}
_DELETED = {
    "event": _l("Event #%(num)s (deleted)"), "venue": _l("Venue #%(num)s (deleted)"),
    "room": _l("Room #%(num)s (deleted)"), "session": _l("Session #%(num)s (deleted)"),
    "speaker": _l("Speaker #%(num)s (deleted)"), "registration": _l("Registration #%(num)s (deleted)"),
    "user": _l("Account #%(num)s (deleted)"), "category": _l("Category #%(num)s (deleted)"),
    "organisation": _l("Invited organisation #%(num)s (deleted)"),
    "press_contact": _l("Press contact #%(num)s (deleted)"), "invitation": _l("Guest #%(num)s (deleted)"),
}


@dataclass(frozen=True)
class Named:
    """An object an entry refers to, as it is now: its name (empty when it has none), where to see it, and the
    timezone of its event."""

    name: str
    url: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class Target:
    name: str
    url: str | None
    deleted: bool


@dataclass(frozen=True)
class Detail:
    label: str
    value: str
    before: str | None = None  # a change: `before` → `value`


@dataclass(frozen=True)
class DescribedEntry:
    entry: AuditEntry
    action: str
    target: Target | None
    details: list[Detail]


def action_label(code: str) -> str:
    """The action in the reader's language; an action unknown here is shown as recorded."""
    label = ACTIONS.get(code)
    return str(label) if label is not None else code


def describe_entries(entries: list[AuditEntry]) -> list[DescribedEntry]:
    """Each entry as a reader sees it, its objects loaded in one query per kind for all `entries`."""
    known = _load(_references(entries))
    return [_describe(entry, known) for entry in entries]


def _describe(entry: AuditEntry, known: dict[str, dict[int, Named]]) -> DescribedEntry:
    event = known["event"].get(entry.event_id) if entry.event_id else None
    timezone = event.timezone if event else "Europe/Paris"
    return DescribedEntry(entry, action_label(entry.action), _target(entry, known),
                          _details(entry, known, timezone))


def _target(entry: AuditEntry, known: dict[str, dict[int, Named]]) -> Target | None:
    kind, object_id = entry.target_type, entry.target_id
    if not kind:
        return None
    if object_id is None or kind not in _UNNAMED:
        return Target(kind if object_id is None else f"{kind} #{object_id}", None, False)
    found = known[kind].get(object_id)
    if found is None:
        return Target(str(_DELETED[kind] % {"num": object_id}), None, True)
    return Target(found.name or str(_UNNAMED[kind] % {"num": object_id}), found.url, False)


def _details(entry: AuditEntry, known: dict[str, dict[int, Named]], timezone: str) -> list[Detail]:
    details = dict(entry.details or {})
    labels = {**_DETAILS, **_FIELDS.get(entry.target_type, {})}
    shown = []
    if entry.action == "account.role" and {"from", "to"} <= details.keys():
        shown.append(Detail(str(_l("Role")), _account_role(details.pop("to")), _account_role(details.pop("from"))))
    for key, value in details.items():
        if key in _HIDDEN:
            continue
        label = str(labels.get(key, key))
        if entry.action in CHANGE_ACTIONS and isinstance(value, list) and len(value) == 2:
            before, after = (_value(entry.action, key, v, known, timezone) for v in value)
            # A venue described for the first time records its name as [None, name]: nothing came before.
            created = value[0] is None and entry.action == "venue.update"
            shown.append(Detail(label, after, None if created else before))
        else:
            shown.append(Detail(label, _value(entry.action, key, value, known, timezone)))
    return shown


def _value(action: str, key: str, value, known: dict[str, dict[int, Named]], timezone: str) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(_value(action, key, v, known, timezone) for v in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_value(action, k, v, known, timezone)}" for k, v in value.items())
    if key in _REFERENCES and isinstance(value, int):
        kind = _REFERENCES[key]
        found = known[kind].get(value)
        if found is None:
            return str(_DELETED[kind] % {"num": value})
        return found.name or str(_UNNAMED[kind] % {"num": value})
    if key in _TIMES and isinstance(value, str):
        try:
            return local_datetime(datetime.fromisoformat(value), timezone)
        except ValueError:
            return value
    if key == "checked_in" and value in ("yes", "no"):
        return _("Yes") if value == "yes" else _("No")
    if key == "status":
        return _status(value)
    if key == "kind" and action.startswith("organisation."):
        return str(next((label for kind, label in ORGANISATION_KIND_LABELS.items() if kind.value == value), value))
    if key == "kind":
        return str(dict(session_kind_choices()).get(value, value))
    if key == "role" and action.startswith("account."):
        return _account_role(value)
    if key == "role" and action.startswith("session."):
        return _speaker_role(value)
    if key == "photo":
        return str(_PHOTO.get(value, value))
    return _shortened(str(value))


def _status(value: str) -> str:
    try:
        return status_label(RegistrationStatus[value])
    except KeyError:
        return value


def _account_role(value) -> str:
    return str(dict(role_choices()).get(value, value))


def _speaker_role(value) -> str:
    return str(dict(speaker_role_choices()).get(value, value))


def _shortened(text: str, limit: int = 160) -> str:
    """A long text (a description, a biography) cut to its beginning: the log says that it changed."""
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


# Loading the objects named -----------------------------------------------------------------------------

def _references(entries: list[AuditEntry]) -> dict[str, set[int]]:
    """The ids of every object the entries name, by kind: their targets, their events, ids in their details."""
    ids: dict[str, set[int]] = defaultdict(set)
    for entry in entries:
        if entry.event_id:
            ids["event"].add(entry.event_id)
        if entry.target_type in _UNNAMED and entry.target_id is not None:
            ids[entry.target_type].add(entry.target_id)
        for key, value in (entry.details or {}).items():
            if key not in _REFERENCES:
                continue
            values = value if isinstance(value, list) else [value]
            ids[_REFERENCES[key]].update(v for v in values if isinstance(v, int) and not isinstance(v, bool))
    return ids


def _load(ids: dict[str, set[int]]) -> dict[str, dict[int, Named]]:
    known: dict[str, dict[int, Named]] = defaultdict(dict)
    for kind, wanted in ids.items():
        if wanted:
            known[kind] = _LOADERS[kind](wanted)
    return known


def _events(ids: set[int]) -> dict[int, Named]:
    rows = db.session.execute(select(Event.id, Event.title, Event.slug, Event.timezone).where(Event.id.in_(ids)))
    return {id_: Named(title, url_for("admin.dashboard", slug=slug), tz) for id_, title, slug, tz in rows}


def _sessions(ids: set[int]) -> dict[int, Named]:
    rows = db.session.execute(select(Session.id, Session.title, Event.slug).join(Event).where(Session.id.in_(ids)))
    return {id_: Named(title, url_for("admin.session_edit", slug=slug, session_id=id_)) for id_, title, slug in rows}


def _speakers(ids: set[int]) -> dict[int, Named]:
    rows = db.session.execute(select(Speaker.id, Speaker.name, Event.slug).join(Event).where(Speaker.id.in_(ids)))
    return {id_: Named(name, url_for("admin.speaker_edit", slug=slug, speaker_id=id_)) for id_, name, slug in rows}


def _rooms(ids: set[int]) -> dict[int, Named]:
    rows = db.session.execute(select(Room.id, Room.name, Event.slug).join(Venue, Room.venue_id == Venue.id)
                              .join(Event, Venue.event_id == Event.id).where(Room.id.in_(ids)))
    return {id_: Named(name, url_for("admin.venue", slug=slug)) for id_, name, slug in rows}


def _venues(ids: set[int]) -> dict[int, Named]:
    rows = db.session.execute(select(Venue.id, Venue.name, Event.slug).join(Event).where(Venue.id.in_(ids)))
    return {id_: Named(name, url_for("admin.venue", slug=slug)) for id_, name, slug in rows}


def _registrations(ids: set[int]) -> dict[int, Named]:
    rows = db.session.execute(select(Registration.id, Registration.first_name, Registration.last_name, Event.slug)
                              .join(Event, Registration.event_id == Event.id).where(Registration.id.in_(ids)))
    return {id_: Named(f"{first} {last}".strip(), url_for("admin.registration_detail", slug=slug,
                                                          registration_id=id_))
            for id_, first, last, slug in rows}


def _users(ids: set[int]) -> dict[int, Named]:
    rows = db.session.execute(select(User.id, User.email).where(User.id.in_(ids)))
    return {id_: Named(email, url_for("accounts_admin.users")) for id_, email in rows}


def _categories(ids: set[int]) -> dict[int, Named]:
    locale = locale_code()
    rows = db.session.execute(select(Category, Event.slug).join(Event).where(Category.id.in_(ids)))
    return {category.id: Named(category.text("label", locale), url_for("admin.category_edit", slug=slug,
                                                                       category_id=category.id))
            for category, slug in rows}


def _organisations(ids: set[int]) -> dict[int, Named]:
    locale = locale_code()
    rows = db.session.execute(select(Organisation, Event.slug).join(Event).where(Organisation.id.in_(ids)))
    return {org.id: Named(org.text("name", locale), url_for("admin.organisation_edit", slug=slug,
                                                            organisation_id=org.id))
            for org, slug in rows}


def _press_contacts(ids: set[int]) -> dict[int, Named]:
    rows = db.session.execute(select(PressContact.id, PressContact.name, Event.slug).join(Event)
                              .where(PressContact.id.in_(ids)))
    return {id_: Named(name, url_for("admin.press_contact_edit", slug=slug, press_contact_id=id_))
            for id_, name, slug in rows}


def _invitations(ids: set[int]) -> dict[int, Named]:
    rows = db.session.execute(select(Invitation.id, Invitation.first_name, Invitation.last_name, Event.slug)
                              .join(Event, Invitation.event_id == Event.id).where(Invitation.id.in_(ids)))
    return {id_: Named(f"{first} {last}".strip(), url_for("admin.invitations_page", slug=slug))
            for id_, first, last, slug in rows}


_LOADERS = {"event": _events, "session": _sessions, "speaker": _speakers, "room": _rooms, "venue": _venues,
            "registration": _registrations, "user": _users, "category": _categories,
            "organisation": _organisations, "press_contact": _press_contacts, "invitation": _invitations}
