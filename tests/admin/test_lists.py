"""An event's lists in the back office: registration categories (code, labels in both languages, badge colour,
order), invited organisations and press contacts — created, edited, reordered and deleted as a browser posts
their forms, and shown on the public pages."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from seminar.accounts.models import Role
from seminar.audit.models import AuditEntry
from seminar.events import lists, programme
from seminar.events.models import Category, Organisation, OrganisationKind, PressContact
from seminar.extensions import db
from tests.accounts.factories import signed_in_client
from tests.admin.conftest import SLUG, register
from tests.forms import browser_form

ADMIN = f"/admin/events/{SLUG}"


@pytest.fixture
def staff(app, seeded):
    """A signed-in organiser reading the back office in English (the new texts are not translated yet)."""
    client = signed_in_client(app, Role.organiser)
    client.get(f"{ADMIN}/categories?lang=en")
    return client


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _submit(client, page: str, action: str | None = None, **changes):
    """GET `page`, fill its form (the one posting to `action`, else the page's own) as a browser would, post it."""
    fields = browser_form(client.get(page).get_data(as_text=True), action)
    fields.update({name: [value] for name, value in changes.items()})
    return client.post(action or page, data=fields)


def _rows(app, model, *columns):
    with app.app_context():
        return list(db.session.execute(select(*columns).where(model.event_id == _event_id(app))
                                       .order_by(model.position, model.id)))


def _event_id(app) -> int:
    from seminar.events.models import Event

    return db.session.scalar(select(Event.id).where(Event.slug == SLUG))


def _category_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Category.id).where(Category.code == code))


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# Categories -----------------------------------------------------------------------------------------

def test_category_created_is_offered_on_the_registration_form_in_french_and_english(app, staff):
    created = _submit(staff, f"{ADMIN}/categories/new", code="journalist-2", label="Journaliste scientifique",
                      label_en="", colour="#0A7E3D")
    assert created.status_code == 302 and created.headers["Location"].endswith(f"{ADMIN}/categories")
    category_id = _category_id(app, "journalist-2")
    with app.app_context():
        category = db.session.get(Category, category_id)
        assert (category.label, category.colour) == ("Journaliste scientifique", "#0a7e3d")
    listing = _text(staff.get(f"{ADMIN}/categories"))
    assert "Journaliste scientifique" in listing and 'fill="#0a7e3d"' in listing
    # The English label, edited on its own.
    saved = _submit(staff, f"{ADMIN}/categories/{category_id}", label_en="Science journalist")
    assert saved.status_code == 302
    with app.app_context():
        assert db.session.get(Category, category_id).label_en == "Science journalist"
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "category.update")).one()
        assert entry.details == {"label_en": ["", "Science journalist"]} and entry.target_id == category_id

    public = app.test_client()
    french = _text(public.get(f"/events/{SLUG}/register"))
    assert f'<option value="{category_id}">Journaliste scientifique</option>' in french
    english = _text(public.get(f"/events/{SLUG}/register?lang=en"))
    assert f'<option value="{category_id}">Science journalist</option>' in english


def test_category_with_a_code_already_used_is_refused(app, staff):
    before = _count(app, Category)
    page = _submit(staff, f"{ADMIN}/categories/new", code="press", label="Presse bis", colour="#123456")
    assert page.status_code == 200
    assert "Another category of this event already uses this code." in _text(page)
    assert _count(app, Category) == before
    # Editing another category to take the code is refused too.
    other = _category_id(app, "other")
    page = _submit(staff, f"{ADMIN}/categories/{other}", code="press")
    assert "Another category of this event already uses this code." in _text(page)
    with app.app_context():
        assert db.session.get(Category, other).code == "other"


@pytest.mark.parametrize("code", ["Presse", "presse écrite", "press!"])
def test_category_code_other_than_lower_case_letters_digits_hyphens_underscores_is_refused(app, staff, code):
    before = _count(app, Category)
    page = _submit(staff, f"{ADMIN}/categories/new", code=code, label="Presse", colour="#123456")
    assert "Use lower-case letters, digits, hyphens and underscores only." in _text(page)
    assert _count(app, Category) == before


@pytest.mark.parametrize("colour", ["red", "#12345g", "#1234567", "123456"])
def test_category_with_a_bad_colour_is_refused(app, staff, colour):
    category_id = _category_id(app, "press")
    page = _submit(staff, f"{ADMIN}/categories/{category_id}", colour=colour)
    assert page.status_code == 200 and 'aria-invalid="true"' in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Category, category_id).colour == "#b83280"


def test_categories_reorder(app, staff):
    first, second = (row.id for row in _rows(app, Category, Category.id)[:2])
    moved = _submit(staff, f"{ADMIN}/categories", f"{ADMIN}/categories/{first}/move/down")
    assert moved.status_code == 302
    order = [row.id for row in _rows(app, Category, Category.id)]
    assert order[:2] == [second, first]
    _submit(staff, f"{ADMIN}/categories", f"{ADMIN}/categories/{first}/move/up")
    assert [row.id for row in _rows(app, Category, Category.id)][:2] == [first, second]
    # The first cannot go higher: nothing changes.
    staff.post(f"{ADMIN}/categories/{first}/move/up")
    assert [row.id for row in _rows(app, Category, Category.id)][:2] == [first, second]


def test_category_unused_is_deleted_after_asking(app, staff):
    category_id = _category_id(app, "industry")
    asked = _text(staff.get(f"{ADMIN}/categories/{category_id}/delete"))
    assert "Delete the category “Industrie”?" in asked
    assert f'action="{ADMIN}/categories/{category_id}/delete"' in asked
    assert _category_id(app, "industry") == category_id  # asking deleted nothing
    _submit(staff, f"{ADMIN}/categories/{category_id}/delete", f"{ADMIN}/categories/{category_id}/delete")
    assert _category_id(app, "industry") is None
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.details).where(AuditEntry.action == "category.delete")) == {
            "code": "industry", "label": "Industrie"}


def test_category_used_by_registrations_cannot_be_deleted(app, seeded, staff):
    category_id = _category_id(app, "press")
    register(app, seeded.id, 2, category_id=category_id)
    assert "<td>2</td>" in staff.get(f"{ADMIN}/categories").get_data(as_text=True)
    asked = staff.get(f"{ADMIN}/categories/{category_id}/delete", follow_redirects=True)
    assert "2 registrations use this category: it cannot be deleted. Rename it instead." in _text(asked)
    posted = staff.post(f"{ADMIN}/categories/{category_id}/delete", follow_redirects=True)
    assert "2 registrations use this category" in _text(posted)
    with app.app_context():
        assert db.session.get(Category, category_id) is not None
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "category.delete")) == 0
    from seminar.registration.models import Registration

    with app.app_context():
        assert set(db.session.scalars(select(Registration.category_id))) == {category_id}


def test_category_used_by_a_registration_says_so_in_french(app, seeded):
    """Passes once the catalogues hold the new messages."""
    category_id = _category_id(app, "press")
    register(app, seeded.id, 1, category_id=category_id)
    organiser = signed_in_client(app, Role.organiser)
    page = _text(organiser.get(f"{ADMIN}/categories/{category_id}/delete?lang=fr", follow_redirects=True))
    assert "1 inscription utilise cette catégorie" in page


# Lists of other events, unknown ids, volunteers -----------------------------------------------------

def _other_event_items(app) -> dict[str, int]:
    with app.app_context():
        event = programme.create_event(programme.EventDetails(
            slug="autre", title="Autre", starts_at=datetime(2031, 1, 1, 9, tzinfo=UTC),
            ends_at=datetime(2031, 1, 1, 18, tzinfo=UTC)))
        return {
            "categories": lists.create_category(event.id, lists.CategoryDetails("x", "X")).id,
            "organisations": lists.create_organisation(
                event.id, lists.OrganisationDetails(OrganisationKind.other, "Y")).id,
            "press-contacts": lists.create_press_contact(event.id, lists.PressContactDetails("Z")).id,
        }


def test_ids_of_another_event_or_out_of_range_answer_404(app, staff):
    for part, item_id in _other_event_items(app).items():
        for bad in (item_id, 2**31, 99999):
            for path in (f"{ADMIN}/{part}/{bad}", f"{ADMIN}/{part}/{bad}/delete"):
                assert staff.get(path).status_code == 404, path
                assert staff.post(path).status_code == 404, path
            assert staff.post(f"{ADMIN}/{part}/{bad}/move/up").status_code == 404
    assert _count(app, Category) and _category_id(app, "x")  # nothing of the other event went


def test_services_refuse_ids_of_another_event(app, seeded):
    others = _other_event_items(app)
    with app.app_context():
        with pytest.raises(lists.NotInEvent):
            lists.update_category(seeded.id, others["categories"], lists.CategoryDetails("x", "X"))
        with pytest.raises(lists.NotInEvent):
            lists.delete_organisation(seeded.id, others["organisations"])
        ids = [row.id for row in _rows(app, PressContact, PressContact.id)]
        with pytest.raises(lists.NotInEvent):
            lists.reorder_press_contacts(seeded.id, [*ids, others["press-contacts"]])


def test_check_in_volunteer_is_turned_away(app, seeded):
    door = signed_in_client(app, Role.checkin)
    category, organisation, contact = (_rows(app, model, model.id)[0].id
                                       for model in (Category, Organisation, PressContact))
    for part, item_id in (("categories", category), ("organisations", organisation), ("press-contacts", contact)):
        assert door.get(f"{ADMIN}/{part}").status_code == 403
        for path in (f"{part}/new", f"{part}/{item_id}", f"{part}/{item_id}/delete"):
            assert door.get(f"{ADMIN}/{path}").status_code == 403, path
            assert door.post(f"{ADMIN}/{path}").status_code == 403, path
        assert door.post(f"{ADMIN}/{part}/{item_id}/move/down").status_code == 403
    assert _rows(app, Category, Category.id)[0].id == category


def test_menu_and_sub_navigation_lead_to_the_three_lists(app, staff):
    page = staff.get(f"{ADMIN}/organisations").get_data(as_text=True)
    assert f'<a href="{ADMIN}/categories" aria-current="page">Categories, groups, press</a>' in page
    assert f'<a href="{ADMIN}/organisations" aria-current="page">Invited groups</a>' in page
    assert f'<a href="{ADMIN}/press-contacts">Press contacts</a>' in page


# Invited organisations ------------------------------------------------------------------------------

def test_organisation_created_edited_reordered_and_deleted(app, staff):
    created = _submit(staff, f"{ADMIN}/organisations/new", kind="patient_association", name="Jeunes Solidarité Cancer",
                      name_en="", url="https://www.ligue-cancer.net")
    assert created.status_code == 302
    with app.app_context():
        organisation = db.session.scalar(select(Organisation).where(Organisation.name == "Jeunes Solidarité Cancer"))
        organisation_id, kind = organisation.id, organisation.kind
    assert kind is OrganisationKind.patient_association
    listing = _text(staff.get(f"{ADMIN}/organisations"))
    assert "Patient associations and foundations" in listing and "Jeunes Solidarité Cancer" in listing

    edited = _submit(staff, f"{ADMIN}/organisations/{organisation_id}", name="Association Jeunes Solidarité Cancer",
                     name_en="Young Solidarity Cancer Association")
    assert edited.status_code == 302
    event_page = _text(app.test_client().get(f"/events/{SLUG}/"))
    assert "Association Jeunes Solidarité Cancer" in event_page
    english_page = _text(app.test_client().get(f"/events/{SLUG}/?lang=en"))
    assert "Young Solidarity Cancer Association" in english_page

    # Moved up among its own kind only.
    same_kind = [row.id for row in _rows(app, Organisation, Organisation.id)
                 if _kind_of(app, row.id) is OrganisationKind.patient_association]
    assert same_kind[-1] == organisation_id and len(same_kind) > 1
    _submit(staff, f"{ADMIN}/organisations", f"{ADMIN}/organisations/{organisation_id}/move/up")
    same_kind_after = [row.id for row in _rows(app, Organisation, Organisation.id)
                       if _kind_of(app, row.id) is OrganisationKind.patient_association]
    assert same_kind_after == [*same_kind[:-2], organisation_id, same_kind[-2]]

    asked = _text(staff.get(f"{ADMIN}/organisations/{organisation_id}/delete"))
    assert "Delete the invited organisation “Association Jeunes Solidarité Cancer”?" in asked
    staff.post(f"{ADMIN}/organisations/{organisation_id}/delete")
    with app.app_context():
        assert db.session.get(Organisation, organisation_id) is None
    assert "Association Jeunes Solidarité Cancer" not in _text(app.test_client().get(f"/events/{SLUG}/"))


def _kind_of(app, organisation_id: int) -> OrganisationKind:
    with app.app_context():
        return db.session.get(Organisation, organisation_id).kind


def test_organisation_web_address_must_be_http(app, staff):
    before = _count(app, Organisation)
    page = _submit(staff, f"{ADMIN}/organisations/new", kind="other", name="Piège", url="javascript:alert(1)")
    assert "Enter a web address beginning with https:// or http://." in _text(page)
    assert _count(app, Organisation) == before


# Press contacts -------------------------------------------------------------------------------------

def test_press_contact_created_edited_reordered_and_deleted(app, staff):
    created = _submit(staff, f"{ADMIN}/press-contacts/new", name="Camille Martin", role="Attachée de presse",
                      role_en="", phone="01 02 03 04 05", email="camille.martin@example.org")
    assert created.status_code == 302
    rows = _rows(app, PressContact, PressContact.id, PressContact.name)
    assert rows[-1].name == "Camille Martin"
    contact_id = rows[-1].id

    _submit(staff, f"{ADMIN}/press-contacts/{contact_id}", role_en="Press officer")
    with app.app_context():
        assert db.session.get(PressContact, contact_id).role_en == "Press officer"

    _submit(staff, f"{ADMIN}/press-contacts", f"{ADMIN}/press-contacts/{contact_id}/move/up")
    assert [row.id for row in _rows(app, PressContact, PressContact.id)][-2] == contact_id

    staff.post(f"{ADMIN}/press-contacts/{contact_id}/delete")
    with app.app_context():
        assert db.session.get(PressContact, contact_id) is None
        actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "press_contact")))
    assert actions == {"press_contact.create", "press_contact.update", "press_contact.reorder",
                       "press_contact.delete"}


def test_press_contact_with_a_bad_e_mail_is_refused(app, staff):
    before = _count(app, PressContact)
    page = _submit(staff, f"{ADMIN}/press-contacts/new", name="Camille Martin", email="camille@")
    assert "Enter a valid e-mail address, such as name@example.org." in _text(page)
    assert _count(app, PressContact) == before


def test_press_contact_name_is_escaped_on_the_event_page(app, staff):
    _submit(staff, f"{ADMIN}/press-contacts/new", name="<script>alert('x')</script> Dupont", role="Presse")
    page = app.test_client().get(f"/events/{SLUG}/").get_data(as_text=True)
    assert "<script>alert(" not in page
    assert "&lt;script&gt;alert(" in page
