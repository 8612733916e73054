"""The organiser's identity in the back-office: texts in both languages and the logo shown on the pages."""

from __future__ import annotations

import html
import io

from PIL import Image

from seminar.events.models import Event
from seminar.events.seed import SLUG
from seminar.extensions import db
from tests.forms import browser_form

EDIT = f"/admin/events/{SLUG}/edit"
LOGO = f"/admin/events/{SLUG}/logo"


def _png(size=(300, 120), colour=(29, 78, 137, 128)) -> bytes:  # translucent: kept as a PNG
    output = io.BytesIO()
    Image.new("RGBA", size, colour).save(output, "PNG")
    return output.getvalue()


def _post(organiser, fields: dict):
    return organiser.post(EDIT, data={name: values[0] if len(values) == 1 else values
                                      for name, values in fields.items()})


def _send_logo(organiser, content: bytes | None, filename: str = "logo.png", **extra):
    data = {"csrf_token": "", **extra}
    if content is not None:
        data["logo"] = (io.BytesIO(content), filename)
    return organiser.post(LOGO, data=data, content_type="multipart/form-data", follow_redirects=True)


def test_event_edited_in_both_languages_shows_each_to_its_readers(app, client, seeded, organiser):
    fields = browser_form(organiser.get(EDIT).get_data(as_text=True))
    fields["title_en"] = ["Twenty years of the cancéropôles"]
    fields["organiser_en"] = ["French National Cancer Institute"]
    assert _post(organiser, fields).status_code in (302, 303)
    english = html.unescape(client.get(f"/events/{SLUG}/?lang=en").get_data(as_text=True))
    assert "Twenty years of the cancéropôles" in english and "French National Cancer Institute" in english
    french = html.unescape(client.get(f"/events/{SLUG}/?lang=fr").get_data(as_text=True))
    assert seeded.title in french and "Twenty years" not in french


def test_logo_uploaded_is_shown_on_the_pages_and_can_be_removed(app, client, seeded, organiser):
    page = _send_logo(organiser, _png()).get_data(as_text=True)
    assert f'src="/events/{SLUG}/logo"' in page  # the Details page shows it
    assert f'src="/events/{SLUG}/logo"' in client.get(f"/events/{SLUG}/").get_data(as_text=True)
    logo = client.get(f"/events/{SLUG}/logo")
    assert logo.status_code == 200 and logo.mimetype == "image/png"
    assert Image.open(io.BytesIO(logo.data)).size == (300, 120)

    removal = browser_form(page, f"/admin/events/{SLUG}/logo")
    assert "remove" in removal
    organiser.post(LOGO, data={name: values[0] for name, values in removal.items()})
    assert client.get(f"/events/{SLUG}/logo").status_code == 404
    assert f"/events/{SLUG}/logo" not in client.get(f"/events/{SLUG}/").get_data(as_text=True)


def test_a_file_that_is_not_an_image_is_refused_and_the_logo_kept(app, client, seeded, organiser):
    _send_logo(organiser, _png())
    page = html.unescape(_send_logo(organiser, b"%PDF-1.4 not an image", "logo.pdf").get_data(as_text=True))
    assert "JPEG, PNG" in page  # said on the page it comes back to
    assert client.get(f"/events/{SLUG}/logo").status_code == 200  # the logo before the mistake is still there
    nothing = html.unescape(_send_logo(organiser, None).get_data(as_text=True))
    assert "Choisissez d'abord un fichier image." in nothing
    assert client.get(f"/events/{SLUG}/logo").status_code == 200


def test_saving_the_details_after_being_asked_whether_to_notify_keeps_everything_typed(app, seeded, organiser):
    """The save stops to ask (people are registered): what was typed comes back, and is saved after the choice."""
    from tests.admin.conftest import register

    register(app, seeded.id, 1)
    fields = browser_form(organiser.get(EDIT).get_data(as_text=True))
    fields["title_en"] = ["A new English title"]
    asked = _post(organiser, fields)
    assert asked.status_code == 200
    fields = browser_form(asked.get_data(as_text=True))
    assert fields["title_en"] == ["A new English title"]
    assert _post(organiser, {**fields, "notify": ["0"]}).status_code in (302, 303)
    with app.app_context():
        assert db.session.get(Event, seeded.id).title_en == "A new English title"
