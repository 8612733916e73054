"""Back-office pages of an event's lists: registration categories, invited organisations ("Who is invited") and
press contacts. Each list has the same pages: the list (with its order), new, edit, delete (asked first), move."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from seminar.admin.blueprint import bp, show_problems
from seminar.admin.list_forms import CategoryForm, OrganisationForm, PressContactForm
from seminar.events import lists
from seminar.events.models import Event, OrganisationKind
from seminar.events.programme import ProgrammeError
from seminar.events.services import get_event


@dataclass(frozen=True)
class _List:
    """What differs between the three lists' pages."""

    part: str  # the Event relationship, and the `get_event` part that preloads it
    name: str  # endpoints: admin.<part>, admin.<name>_edit, admin.<name>_delete, admin.<name>_move
    form: type
    details: Callable  # form -> the service's details
    create: Callable
    update: Callable
    delete: Callable
    reorder: Callable
    template: str
    what: Callable  # item -> its name in "Delete …?"
    saved: Callable
    deleted: Callable


def _event(slug: str, part: str) -> Event:
    event = get_event(slug, part)
    if event is None:
        abort(404)
    return event


def _item_of(event: Event, kind: _List, item_id: int):
    return next((item for item in getattr(event, kind.part) if item.id == item_id), None) or abort(404)


def _fields(form, details_type, **overrides):
    names = details_type.__dataclass_fields__
    return details_type(**{name: (form[name].data or "").strip() for name in names if name not in overrides},
                        **overrides)


CATEGORIES = _List(
    part="categories", name="category", form=CategoryForm, template="admin/category_form.html",
    details=lambda form: _fields(form, lists.CategoryDetails),
    create=lists.create_category, update=lists.update_category, delete=lists.delete_category,
    reorder=lists.reorder_categories,
    what=lambda category: _("the category “%(label)s”", label=category.label),
    saved=lambda: _("Category saved."), deleted=lambda: _("Category deleted."))
ORGANISATIONS = _List(
    part="organisations", name="organisation", form=OrganisationForm, template="admin/organisation_form.html",
    details=lambda form: _fields(form, lists.OrganisationDetails, kind=OrganisationKind(form.kind.data)),
    create=lists.create_organisation, update=lists.update_organisation, delete=lists.delete_organisation,
    reorder=lists.reorder_organisations,
    what=lambda organisation: _("the invited organisation “%(name)s”", name=organisation.name),
    saved=lambda: _("Invited organisation saved."), deleted=lambda: _("Invited organisation deleted."))
PRESS_CONTACTS = _List(
    part="press_contacts", name="press_contact", form=PressContactForm, template="admin/press_contact_form.html",
    details=lambda form: _fields(form, lists.PressContactDetails),
    create=lists.create_press_contact, update=lists.update_press_contact, delete=lists.delete_press_contact,
    reorder=lists.reorder_press_contacts,
    what=lambda contact: _("the press contact “%(name)s”", name=contact.name),
    saved=lambda: _("Press contact saved."), deleted=lambda: _("Press contact deleted."))


def _edit(kind: _List, slug: str, item_id: int | None):
    """The form of a new item (`item_id` None) or of one of the event's; saved, back to the list."""
    event = _event(slug, kind.part)
    item = _item_of(event, kind, item_id) if item_id is not None else None
    form = kind.form(obj=item) if request.method == "GET" else kind.form()
    if request.method == "GET" and item is not None and hasattr(item, "kind"):
        form.kind.data = item.kind.value
    if form.validate_on_submit():
        try:
            if item is None:
                kind.create(event.id, kind.details(form))
            else:
                kind.update(event.id, item.id, kind.details(form))
        except lists.NotInEvent:
            abort(404)
        except ProgrammeError as error:
            show_problems(form, error.problems)
        else:
            flash(kind.saved(), "success")
            return redirect(url_for(f"admin.{kind.part}", slug=slug))
    return render_template(kind.template, event=event, form=form, item=item)


def _delete(kind: _List, slug: str, item_id: int, consequence: Callable[[object], str],
            refusal: Callable[[Event, object], str | None] = lambda _event, _item: None):
    """GET: the page that asks first (it names the item and what follows); POST: delete. A refusal (known
    before asking, or the service's) is shown on the item's own page."""
    event = _event(slug, kind.part)
    item = _item_of(event, kind, item_id)
    edit = url_for(f"admin.{kind.name}_edit", slug=slug, **{f"{kind.name}_id": item.id})
    try:
        if request.method == "GET":
            if refused := refusal(event, item):
                raise ProgrammeError({"": refused})
            return render_template("admin/confirm_delete.html", event=event, what=kind.what(item),
                                   consequence=consequence(item), back=edit,
                                   action=url_for(f"admin.{kind.name}_delete", slug=slug,
                                                  **{f"{kind.name}_id": item.id}))
        kind.delete(event.id, item.id)
    except lists.NotInEvent:
        abort(404)
    except ProgrammeError as error:
        for message in error.problems.values():
            flash(message, "error")
        return redirect(edit)
    flash(kind.deleted(), "success")
    return redirect(url_for(f"admin.{kind.part}", slug=slug))


def _move(kind: _List, slug: str, item_id: int, direction: str, same_group=lambda a, b: True):
    """One place up or down the list (among the items of its group), the others keeping their order."""
    event = _event(slug, kind.part)
    item = _item_of(event, kind, item_id)
    items = list(getattr(event, kind.part))
    peers = [index for index, other in enumerate(items) if same_group(other, item)]
    at = peers.index(items.index(item))
    target = at - 1 if direction == "up" else at + 1
    if 0 <= target < len(peers):
        items[peers[at]], items[peers[target]] = items[peers[target]], items[peers[at]]
        try:
            kind.reorder(event.id, [other.id for other in items])
        except lists.NotInEvent:
            abort(404)
        except ProgrammeError as error:
            for message in error.problems.values():
                flash(message, "error")
    return redirect(url_for(f"admin.{kind.part}", slug=slug, _anchor=f"{kind.name}-{item.id}"))


# Categories -----------------------------------------------------------------------------------------

@bp.get("/events/<slug>/categories")
def categories(slug: str):
    event = _event(slug, "categories")
    return render_template("admin/categories.html", event=event,
                           registrations=lists.registrations_per_category(event.id))


@bp.route("/events/<slug>/categories/new", methods=["GET", "POST"])
@bp.route("/events/<slug>/categories/<int:category_id>", methods=["GET", "POST"])
def category_edit(slug: str, category_id: int | None = None):
    return _edit(CATEGORIES, slug, category_id)


@bp.route("/events/<slug>/categories/<int:category_id>/delete", methods=["GET", "POST"])
def category_delete(slug: str, category_id: int):
    """Refused while registrations use the category; then the refusal is shown at once, not a button that
    cannot work."""
    return _delete(CATEGORIES, slug, category_id,
                   lambda _category: _("No registration uses it; the registration form will no longer offer it."),
                   refusal=lambda event, category: lists.category_deletion_refusal(event.id, category.id))


@bp.post("/events/<slug>/categories/<int:category_id>/move/<any(up, down):direction>")
def category_move(slug: str, category_id: int, direction: str):
    return _move(CATEGORIES, slug, category_id, direction)


# Invited organisations ------------------------------------------------------------------------------

@bp.get("/events/<slug>/organisations")
def organisations(slug: str):
    event = _event(slug, "organisations")
    groups: dict[OrganisationKind, list] = {}
    for organisation in event.organisations:  # grouped as the event page groups them
        groups.setdefault(organisation.kind, []).append(organisation)
    return render_template("admin/organisations.html", event=event, groups=groups,
                           kind_labels=lists.ORGANISATION_KIND_LABELS)


@bp.route("/events/<slug>/organisations/new", methods=["GET", "POST"])
@bp.route("/events/<slug>/organisations/<int:organisation_id>", methods=["GET", "POST"])
def organisation_edit(slug: str, organisation_id: int | None = None):
    return _edit(ORGANISATIONS, slug, organisation_id)


@bp.route("/events/<slug>/organisations/<int:organisation_id>/delete", methods=["GET", "POST"])
def organisation_delete(slug: str, organisation_id: int):
    return _delete(ORGANISATIONS, slug, organisation_id,
                   lambda _organisation: _("The event page will no longer show it among who is invited."))


@bp.post("/events/<slug>/organisations/<int:organisation_id>/move/<any(up, down):direction>")
def organisation_move(slug: str, organisation_id: int, direction: str):
    return _move(ORGANISATIONS, slug, organisation_id, direction, same_group=lambda a, b: a.kind is b.kind)


# Press contacts -------------------------------------------------------------------------------------

@bp.get("/events/<slug>/press-contacts")
def press_contacts(slug: str):
    return render_template("admin/press_contacts.html", event=_event(slug, "press_contacts"))


@bp.route("/events/<slug>/press-contacts/new", methods=["GET", "POST"])
@bp.route("/events/<slug>/press-contacts/<int:press_contact_id>", methods=["GET", "POST"])
def press_contact_edit(slug: str, press_contact_id: int | None = None):
    return _edit(PRESS_CONTACTS, slug, press_contact_id)


@bp.route("/events/<slug>/press-contacts/<int:press_contact_id>/delete", methods=["GET", "POST"])
def press_contact_delete(slug: str, press_contact_id: int):
    return _delete(PRESS_CONTACTS, slug, press_contact_id,
                   lambda _contact: _("The event page will no longer show them among the press contacts."))


@bp.post("/events/<slug>/press-contacts/<int:press_contact_id>/move/<any(up, down):direction>")
def press_contact_move(slug: str, press_contact_id: int, direction: str):
    return _move(PRESS_CONTACTS, slug, press_contact_id, direction)
