"""An organiser writes the event in French and in English, with the organiser's logo; visitors read it in
their language."""

from __future__ import annotations

import io
import re

from PIL import Image
from playwright.sync_api import expect

from tests.e2e.helpers import SLUG, screenshot
from tests.e2e.test_staff_journeys import sign_in


def _logo(tmp_path):
    path = tmp_path / "logo-inca.png"
    image = Image.new("RGBA", (240, 96), (0, 0, 0, 0))
    image.paste((29, 78, 137, 255), (20, 20, 220, 76))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


def test_organiser_edits_the_event_in_both_languages_and_visitors_read_their_own(page, server, tmp_path):
    sign_in(page, server, "organiser")
    page.goto(f"/admin/events/{SLUG}/")
    page.get_by_role("navigation", name="Cet événement").get_by_role("link", name="Détails").click()
    page.wait_for_url(f"**/admin/events/{SLUG}/edit")
    page.get_by_label("Sous-titre", exact=True).fill("Bilan de vingt ans de recherche en région")
    page.get_by_label("Sous-titre en anglais").fill("Twenty years of cancer research in the regions")
    screenshot(page, "admin-event-form-bilingual")
    page.locator("main form button[type=submit]").first.click()
    without = page.get_by_role("button", name="Enregistrer sans prévenir")
    if without.count():  # people are registered: the organiser is asked whether to tell them
        without.click()
    page.wait_for_url(f"**/admin/events/{SLUG}/edit")
    expect(page.get_by_label("Sous-titre en anglais")).to_have_value("Twenty years of cancer research in the regions")

    # The logo has a form of its own, below the details.
    page.locator("#logo input[type=file]").set_input_files(str(_logo(tmp_path)))
    page.get_by_role("button", name="Enregistrer le logo").click()
    page.wait_for_url(f"**/admin/events/{SLUG}/edit#logo")
    expect(page.locator("img.organiser-logo")).to_be_visible()

    page.goto(f"/events/{SLUG}/")
    expect(page.locator(".lead").first).to_have_text("Bilan de vingt ans de recherche en région")
    logo = page.locator("img.brand-logo")
    assert logo.evaluate("img => img.complete && img.naturalWidth") == 240
    page.locator(".lang-switch a[hreflang=en]").click()
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    expect(page.locator(".lead").first).to_have_text("Twenty years of cancer research in the regions")
    expect(page.locator("h1")).to_contain_text("20 years of the cancéropôles")
    screenshot(page, "event-page-english")

    page.goto(f"/events/{SLUG}/programme")
    body = page.locator("main").inner_text()
    assert "Round table 1: making the most of structuring actions" in body
    assert not re.search(r"November \d", body)  # en-GB: the day before the month
    assert not re.search(r"\d:\d\d:\d\d", body)  # no seconds anywhere
