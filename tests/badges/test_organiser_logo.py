"""The organiser's logo on the badges, from the event's back-office page."""

from __future__ import annotations

import io

from PIL import Image
from pypdf import PdfReader

from seminar.events.models import Event
from seminar.events.programme import prepare_photo
from seminar.extensions import db
from tests.badges.conftest import add_registrant


def _images(pdf: bytes) -> list:
    return [image for page in PdfReader(io.BytesIO(pdf)).pages for image in page.images]


def test_badge_shows_the_organisers_logo_once_the_event_has_one(app, seeded, client):
    person = add_registrant(app, "Zoë", "L'Hôpital", "CHU de Lyon")
    before = client.get(f"/registrations/{person.token}/badge.pdf")
    assert before.status_code == 200
    logo = Image.new("RGBA", (240, 96), (0, 0, 0, 0))
    logo.paste((29, 78, 137, 255), (20, 20, 220, 76))
    upload = io.BytesIO()
    logo.save(upload, "PNG")
    with app.app_context():
        event = db.session.get(Event, seeded.id)
        event.organiser_logo, event.organiser_logo_mimetype = prepare_photo(upload.getvalue())
        db.session.commit()
    after = client.get(f"/registrations/{person.token}/badge.pdf")
    assert after.status_code == 200
    sizes = {(image.image.width, image.image.height) for image in _images(after.data)}
    assert (240, 96) in sizes  # the logo, drawn from its own pixels (a new badge, not the cached one)
    assert (240, 96) not in {(i.image.width, i.image.height) for i in _images(before.data)}
