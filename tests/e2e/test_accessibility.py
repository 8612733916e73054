"""axe-core (WCAG 2.1 A/AA and best practices) on every public page at desktop and phone widths, with
full-page screenshots; keyboard-only registration (skip link, tab order, visible focus)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.helpers import SLUG, fill_registration, round_tables, run_axe, screenshot

PUBLIC_PAGES = {
    "event": f"/events/{SLUG}/",
    "programme": f"/events/{SLUG}/programme",
    "speakers": f"/events/{SLUG}/speakers",
    "venue": f"/events/{SLUG}/venue",
    "register": f"/events/{SLUG}/register",
    "thanks": f"/events/{SLUG}/register/thanks",
    "privacy": f"/events/{SLUG}/privacy",
    "not-found": f"/events/{SLUG}-nowhere/",
    "login": "/login",
}


def check_both_widths(page, name: str) -> None:
    """axe at 1280 px then at 375 px (the phone layout is another layout), a screenshot at each."""
    run_axe(page, f"{name} (desktop)")
    screenshot(page, name)
    page.set_viewport_size(PHONE)
    run_axe(page, f"{name} (phone)")
    screenshot(page, name)


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_public_page_has_no_serious_axe_violations(page, name):
    page.goto(PUBLIC_PAGES[name])
    check_both_widths(page, name)


def test_registration_form_with_errors_is_accessible(page):
    page.goto(f"/events/{SLUG}/register")
    page.fill("[name=email]", "not an address")
    page.locator("form.form-grid button[type=submit]").click()
    summary = page.locator("#error-summary")
    summary.wait_for()
    # The summary takes the focus, links to each field, and each field is marked invalid and described.
    expect(summary).to_be_focused()
    assert summary.locator("a[href='#email']").count() == 1
    email = page.locator("#email")
    assert email.get_attribute("aria-invalid") == "true"
    assert "email-error" in email.get_attribute("aria-describedby")
    summary.locator("a[href='#first_name']").click()
    assert page.evaluate("document.activeElement.id") == "first_name"
    check_both_widths(page, "register-errors")


def test_self_service_page_is_accessible(page, server):
    first_table = round_tables(server)[0][0]
    page.goto(f"/events/{SLUG}/register")
    fill_registration(page, first_name="Dominique", last_name="Lisible", email="dominique.lisible@example.org",
                      tables=[first_table])
    page.locator("form.form-grid button[type=submit]").click()
    page.wait_for_url("**/register/thanks")
    page.goto(server.self_service_path(server.wait_for_mail("dominique.lisible@example.org")[0]))
    check_both_widths(page, "self-service")


def _focused(page) -> dict:
    return page.evaluate("""() => {
        const el = document.activeElement;
        const style = getComputedStyle(el);
        const box = el.getBoundingClientRect();
        return {tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute('name') || '',
                cls: el.className || '', text: (el.innerText || '').trim().slice(0, 60),
                outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
                onscreen: box.width > 0 && box.height > 0 && box.right > 0 && box.bottom > 0
                          && box.left < innerWidth};
    }""")


def test_registration_can_be_completed_with_the_keyboard_alone(page, server):
    tables = [table_id for table_id, _title in round_tables(server)]
    page.goto(f"/events/{SLUG}/register")

    # The first Tab reaches the skip link, visible when focused; Enter moves the focus into the main content.
    page.keyboard.press("Tab")
    skip = _focused(page)
    assert "skip-link" in skip["cls"] and skip["onscreen"] and skip["outline"], skip
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    # Tab from the main content through the form: every stop is visibly focused, in reading order.
    order = []
    for _ in range(40):
        page.keyboard.press("Tab")
        here = _focused(page)
        assert here["outline"] and here["onscreen"], f"focus not visible on {here}"
        order.append(here["id"] or here["name"] or here["text"])
        if here["tag"] == "button":
            break
    expected = ["first_name", "last_name", "email", "organisation", "job_title", "category",
                *[f"sessions-{t}" for t in tables], "dietary", "accessibility", "consent_privacy",
                "consent_listing"]
    fields = [stop for stop in order if stop in expected]
    assert fields == expected, order

    # Now fill it in, with the keyboard only.
    page.locator("#main").focus()
    typed = {"first_name": "Claude", "last_name": "Clavier", "email": "claude.clavier@example.org",
             "organisation": "Inserm", "job_title": "Ingénieur"}
    for stop in order:
        page.keyboard.press("Tab")
        if stop in typed:
            page.keyboard.type(typed[stop])
        elif stop == "category":
            page.keyboard.press("ArrowDown")
        elif stop in (f"sessions-{tables[0]}", "consent_privacy"):
            page.keyboard.press("Space")
    assert _focused(page)["tag"] == "button"
    page.keyboard.press("Enter")
    page.wait_for_url("**/register/thanks")
    page.goto(server.self_service_path(server.wait_for_mail("claude.clavier@example.org")[0]))
    assert "Claude Clavier" in page.locator("p.lead").inner_text()


# Pages the menus do not reach (the badges page is linked from nowhere yet), and pages behind a click.
STAFF_PAGES = {
    "admin-badges": f"/admin/events/{SLUG}/badges/",
    "checkin-desk": f"/checkin/{SLUG}",
    "admin-organisations": f"/admin/events/{SLUG}/organisations",
    "admin-press-contacts": f"/admin/events/{SLUG}/press-contacts",
    "admin-category-form": f"/admin/events/{SLUG}/categories/new",
    "admin-organisation-form": f"/admin/events/{SLUG}/organisations/new",
    "admin-press-contact-form": f"/admin/events/{SLUG}/press-contacts/new",
    "admin-event-form": f"/admin/events/{SLUG}/edit",
    "admin-new-session": f"/admin/events/{SLUG}/sessions/new",
}


def test_back_office_pages_have_no_serious_axe_violations(page, server):
    """Every page reachable from the staff menus (read from the dashboard's navigation, so that a page added to
    a menu is checked without editing this test), and the ones behind a click, at both widths."""
    from tests.e2e.test_staff_journeys import sign_in

    sign_in(page, server, "organiser")
    session_id = round_tables(server)[0][0]
    page.goto(f"/admin/events/{SLUG}/")
    menus = page.locator("nav.staff-nav a[href^='/'], nav.event-staff-nav a[href^='/']")
    linked = {f"menu {href}": href for href in menus.evaluate_all("links => links.map(a => a.getAttribute('href'))")}
    assert len(linked) >= 10, linked
    with server.app.app_context():
        from seminar.events.models import Room
        from seminar.extensions import db

        room_id = db.session.scalar(db.select(Room.id).order_by(Room.id))
        db.session.remove()
    pages = {**linked, **STAFF_PAGES, "admin-session-form": f"/admin/events/{SLUG}/sessions/{session_id}",
             "admin-room-delete": f"/admin/events/{SLUG}/rooms/{room_id}/delete"}
    failures = []
    for name, path in pages.items():
        page.set_viewport_size(DESKTOP)
        page.goto(path)
        try:  # every page is checked and shot, then all their violations are reported together
            check_both_widths(page, name.replace("menu /", "menu-").replace("/", "-").strip("-"))
        except AssertionError as failure:
            failures.append(str(failure))
    assert not failures, "\n".join(failures)
