"""The lists an event keeps beside its programme: the registration categories (code, labels, badge colour, order),
the invited organisations ("Who is invited", grouped by kind) and the press contacts.

Each function owns its transaction (`write_transaction`, the event's row locked as the programme locks it): it
validates, changes, records an audit entry and commits. Refusals raise `ProgrammeError` with one message per
field; typed texts are cleaned as the programme's are (`clean_texts`). An id that names nothing of the event
raises `NotInEvent` (a page answers 404).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select

from seminar.audit.services import record
from seminar.database import write_transaction
from seminar.events.models import Category, Event, Organisation, OrganisationKind, PressContact
from seminar.events.programme import ProgrammeError, apply_details, changed_fields, clean_texts
from seminar.extensions import db

DEFAULT_COLOUR = "#555555"
_CODE = re.compile(r"[a-z0-9_-]+")
_COLOUR = re.compile(r"#[0-9a-f]{6}")

# What the pages call each kind of invited organisation, in the order the back office offers them.
ORGANISATION_KIND_LABELS = {
    OrganisationKind.canceropole: _l("The seven cancéropôles"),
    OrganisationKind.elected_officials: _l("Elected officials"),
    OrganisationKind.founding_member: _l("Founding members"),
    OrganisationKind.local_authority: _l("Local and regional authorities"),
    OrganisationKind.patient_association: _l("Patient associations and foundations"),
    OrganisationKind.technology_transfer: _l("Technology transfer"),
    OrganisationKind.other: _l("Other partners"),
}


class NotInEvent(LookupError):
    """The id names no category, organisation or press contact of this event."""


@dataclass
class CategoryDetails:
    code: str
    label: str
    label_en: str = ""
    colour: str = DEFAULT_COLOUR


@dataclass
class OrganisationDetails:
    kind: OrganisationKind
    name: str
    name_en: str = ""
    url: str = ""


@dataclass
class PressContactDetails:
    name: str
    role: str = ""
    role_en: str = ""
    phone: str = ""
    email: str = ""


# The texts staff type, with the label their form shows (each one line, as long as its column).
_TEXTS = {
    CategoryDetails: (Category, {"code": _l("Code"), "label": _l("Label"), "label_en": _l("Label in English"),
                                 "colour": _l("Badge colour")}),
    OrganisationDetails: (Organisation, {"name": _l("Name"), "name_en": _l("Name in English"),
                                         "url": _l("Web address")}),
    PressContactDetails: (PressContact, {"name": _l("Name"), "role": _l("Role"), "role_en": _l("Role in English"),
                                         "phone": _l("Phone"), "email": _l("E-mail")}),
}


def _cleaned(details):
    model, labels = _TEXTS[type(details)]
    return replace(details, **clean_texts({
        name: (getattr(details, name), label, False, model.__table__.c[name].type.length)
        for name, label in labels.items()}))


def _required(**values: str) -> None:
    problems = {name: _("This field is required.") for name, value in values.items() if not value}
    if problems:
        raise ProgrammeError(problems)


# Categories -----------------------------------------------------------------------------------------

def registrations_per_category(event_id: int) -> dict[int, int]:
    """How many registrations (cancelled ones too: they keep their category) use each category of the event."""
    registration = db.metadata.tables["registration"]  # the schema only: no registration code imported here
    rows = db.session.execute(
        select(registration.c.category_id, func.count()).where(registration.c.event_id == event_id,
                                                               registration.c.category_id.is_not(None))
        .group_by(registration.c.category_id))
    return {category_id: count for category_id, count in rows}


def _check_category(event_id: int, details: CategoryDetails, category_id: int | None) -> CategoryDetails:
    details = _cleaned(details)
    details.colour = details.colour.lower()
    _required(code=details.code, label=details.label)
    problems = {}
    if not _CODE.fullmatch(details.code):
        problems["code"] = _("Use lower-case letters, digits, hyphens and underscores only.")
    elif db.session.scalar(select(Category.id).where(Category.event_id == event_id, Category.code == details.code,
                                                     Category.id != (category_id or 0))):
        problems["code"] = _("Another category of this event already uses this code.")
    if not _COLOUR.fullmatch(details.colour):
        problems["colour"] = _("Choose a colour written as # and six hexadecimal digits, such as #1d4e89.")
    if problems:
        raise ProgrammeError(problems)
    return details


def create_category(event_id: int, details: CategoryDetails) -> Category:
    with write_transaction():
        _lock_event(event_id)
        details = _check_category(event_id, details, None)
        category = Category(event_id=event_id, position=_next_position(Category, event_id))
        return _created(category, details, "category", {"code": details.code, "label": details.label})


def update_category(event_id: int, category_id: int, details: CategoryDetails) -> Category:
    with write_transaction():
        _lock_event(event_id)
        category = _item(Category, event_id, category_id)
        details = _check_category(event_id, details, category_id)
        return _updated(category, details, "category")


def delete_category(event_id: int, category_id: int) -> None:
    """Refuses a category that registrations use (deleting it would silently take it from them)."""
    with write_transaction():
        _lock_event(event_id)  # registrations lock it too: none can take the category while this counts
        category = _item(Category, event_id, category_id)
        if refused := category_deletion_refusal(event_id, category.id):
            raise ProgrammeError({"": refused})
        _deleted(category, "category", {"code": category.code, "label": category.label})


def category_deletion_refusal(event_id: int, category_id: int) -> str | None:
    """Why the category cannot be deleted (how many registrations use it), or None when it can."""
    used = registrations_per_category(event_id).get(category_id, 0)
    if not used:
        return None
    return ngettext("%(num)d registration uses this category: it cannot be deleted. Rename it instead.",
                    "%(num)d registrations use this category: it cannot be deleted. Rename it instead.", used)


def reorder_categories(event_id: int, category_ids: list[int]) -> None:
    _reorder(Category, "category", event_id, category_ids, lambda category: category.code)


# Organisations --------------------------------------------------------------------------------------

def _check_organisation(details: OrganisationDetails) -> OrganisationDetails:
    details = _cleaned(details)
    _required(name=details.name)
    if details.url:
        parts = urlsplit(details.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ProgrammeError({"url": _("Enter a web address beginning with https:// or http://.")})
    return details


def create_organisation(event_id: int, details: OrganisationDetails) -> Organisation:
    details = _check_organisation(details)
    with write_transaction():
        _lock_event(event_id)
        organisation = Organisation(event_id=event_id, position=_next_position(Organisation, event_id))
        return _created(organisation, details, "organisation", {"name": details.name, "kind": details.kind.value})


def update_organisation(event_id: int, organisation_id: int, details: OrganisationDetails) -> Organisation:
    details = _check_organisation(details)
    with write_transaction():
        _lock_event(event_id)
        return _updated(_item(Organisation, event_id, organisation_id), details, "organisation")


def delete_organisation(event_id: int, organisation_id: int) -> None:
    with write_transaction():
        _lock_event(event_id)
        organisation = _item(Organisation, event_id, organisation_id)
        _deleted(organisation, "organisation", {"name": organisation.name})


def reorder_organisations(event_id: int, organisation_ids: list[int]) -> None:
    """The event page shows the kinds in the order of their first organisation, and each kind's in this order."""
    _reorder(Organisation, "organisation", event_id, organisation_ids, lambda organisation: organisation.name)


# Press contacts -------------------------------------------------------------------------------------

def _check_press_contact(details: PressContactDetails) -> PressContactDetails:
    details = _cleaned(details)
    _required(name=details.name)
    if details.email:
        try:
            validate_email(details.email, check_deliverability=False)
        except EmailNotValidError:
            raise ProgrammeError({"email": _("Enter a valid e-mail address, such as name@example.org.")}) from None
    return details


def create_press_contact(event_id: int, details: PressContactDetails) -> PressContact:
    details = _check_press_contact(details)
    with write_transaction():
        _lock_event(event_id)
        contact = PressContact(event_id=event_id, position=_next_position(PressContact, event_id))
        return _created(contact, details, "press_contact", {"name": details.name})


def update_press_contact(event_id: int, contact_id: int, details: PressContactDetails) -> PressContact:
    details = _check_press_contact(details)
    with write_transaction():
        _lock_event(event_id)
        return _updated(_item(PressContact, event_id, contact_id), details, "press_contact")


def delete_press_contact(event_id: int, contact_id: int) -> None:
    with write_transaction():
        _lock_event(event_id)
        contact = _item(PressContact, event_id, contact_id)
        _deleted(contact, "press_contact", {"name": contact.name})


def reorder_press_contacts(event_id: int, contact_ids: list[int]) -> None:
    _reorder(PressContact, "press_contact", event_id, contact_ids, lambda contact: contact.name)


# Helpers --------------------------------------------------------------------------------------------

def _lock_event(event_id: int) -> None:
    """The event's row, locked as the programme and the seat ledger lock it; NotInEvent when there is none."""
    if db.session.scalar(select(Event.id).where(Event.id == event_id).with_for_update(key_share=True)) is None:
        raise NotInEvent(event_id)


def _item(model, event_id: int, item_id: int):
    item = db.session.scalar(select(model).where(model.id == item_id, model.event_id == event_id))
    if item is None:
        raise NotInEvent(item_id)
    return item


def _next_position(model, event_id: int) -> int:
    last = db.session.scalar(select(func.max(model.position)).where(model.event_id == event_id))
    return 0 if last is None else last + 1


def _created(item, details, kind: str, summary: dict):
    apply_details(item, details)
    db.session.add(item)
    db.session.flush()
    record(f"{kind}.create", event_id=item.event_id, target_type=kind, target_id=item.id, details=summary)
    return item


def _updated(item, details, kind: str):
    changed = changed_fields(item, details)
    apply_details(item, details)
    if changed:
        record(f"{kind}.update", event_id=item.event_id, target_type=kind, target_id=item.id, details=changed)
    return item


def _deleted(item, kind: str, summary: dict) -> None:
    record(f"{kind}.delete", event_id=item.event_id, target_type=kind, target_id=item.id, details=summary)
    db.session.delete(item)


def _reorder(model, kind: str, event_id: int, ids: list[int], name_of) -> None:
    """Positions 0, 1, 2… in the order of `ids`, which must name each item of the event once (a page shown before
    someone else added or deleted one is refused)."""
    with write_transaction():
        _lock_event(event_id)
        items = {item.id: item for item in db.session.scalars(
            select(model).where(model.event_id == event_id).order_by(model.position, model.id))}
        if sorted(ids) != sorted(items):
            if set(ids) - set(items):
                raise NotInEvent(next(iter(set(ids) - set(items))))
            raise ProgrammeError({"": _("The list changed meanwhile; please try again.")})
        before = [name_of(item) for item in items.values()]
        for position, item_id in enumerate(ids):
            items[item_id].position = position
        after = [name_of(items[item_id]) for item_id in ids]
        if after != before:
            record(f"{kind}.reorder", event_id=event_id, target_type=kind, details={"order": [before, after]})
