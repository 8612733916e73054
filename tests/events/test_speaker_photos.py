"""Speaker photos on the public site: served with their type, cache header and ETag; shown on the speakers page."""

from __future__ import annotations

import re
from io import BytesIO

from PIL import Image
from sqlalchemy import select

from seminar.events import programme
from seminar.events.models import Event, Speaker
from seminar.events.seed import SLUG
from seminar.extensions import db
from tests.queries import count_queries


def _png() -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (12, 12), "blue").save(buffer, "PNG")
    return buffer.getvalue()


def _speaker(app, event_id, name, photo=None, **columns) -> int:
    """A speaker saved through the back-office service (photo checked as on upload), or with raw columns."""
    with app.app_context():
        speaker = programme.save_speaker(event_id, programme.SpeakerDetails(name=name), photo=photo)
        for column, value in columns.items():
            setattr(speaker, column, value)
        db.session.commit()
        return speaker.id


def _url(speaker_id, slug=SLUG) -> str:
    return f"/events/{slug}/speakers/{speaker_id}/photo"


def test_speaker_photo_is_served_with_type_cache_header_and_etag(app, client, seeded):
    image = _png()
    speaker_id = _speaker(app, seeded.id, "Dr Photo", photo=image)
    response = client.get(_url(speaker_id))
    assert response.status_code == 200 and response.data == image
    assert response.mimetype == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age=" in response.headers["Cache-Control"] and "public" in response.headers["Cache-Control"]
    etag = response.headers["ETag"]
    again = client.get(_url(speaker_id), headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""


def test_speaker_photo_etag_changes_with_the_photo(app, client, seeded):
    speaker_id = _speaker(app, seeded.id, "Dr Photo", photo=_png())
    first = client.get(_url(speaker_id)).headers["ETag"]
    with app.app_context():
        buffer = BytesIO()
        Image.new("RGB", (12, 12), "green").save(buffer, "GIF")
        programme.save_speaker(seeded.id, programme.SpeakerDetails(name="Dr Photo"), speaker_id=speaker_id,
                               photo=buffer.getvalue())
    response = client.get(_url(speaker_id), headers={"If-None-Match": first})
    assert response.status_code == 200 and response.mimetype == "image/gif"
    assert response.headers["ETag"] != first


def test_speaker_photo_is_404_without_photo_elsewhere_or_of_unaccepted_type(app, client, seeded):
    without = _speaker(app, seeded.id, "Dr Sans Photo")
    odd = _speaker(app, seeded.id, "Dr Odd", photo=_png(), photo_mimetype="text/html")
    with app.app_context():
        other = Event(slug="autre", title="Autre", starts_at=seeded.starts_at, ends_at=seeded.ends_at)
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    elsewhere = _speaker(app, other_id, "Dr Ailleurs", photo=_png())
    assert client.get(_url(without)).status_code == 404
    assert client.get(_url(odd)).status_code == 404
    assert client.get(_url(elsewhere)).status_code == 404  # a speaker of another event
    assert client.get(_url(elsewhere, "autre")).status_code == 200
    assert client.get(_url(999999)).status_code == 404
    assert client.get(_url(elsewhere, "no-such-event")).status_code == 404


def test_speakers_page_shows_photos_with_the_speakers_name_as_alt_text(app, client, seeded):
    with_photo = _speaker(app, seeded.id, "Dr <Photo> & Co", photo=_png())
    without = _speaker(app, seeded.id, "Dr Sans Photo")
    page = client.get(f"/events/{SLUG}/speakers").get_data(as_text=True)
    [img] = re.findall(r"<img [^>]*>", page)
    assert f'src="{_url(with_photo)}"' in img and 'alt="Dr &lt;Photo&gt; &amp; Co"' in img
    assert 'class="speaker-photo"' in img and "style=" not in img
    assert _url(without) not in page


def test_speakers_page_does_not_load_the_photos(app, client, seeded):
    for n in range(3):
        _speaker(app, seeded.id, f"Dr Photo {n}", photo=_png())
    with app.app_context(), count_queries() as statements:
        assert client.get(f"/events/{SLUG}/speakers").status_code == 200
    assert not [s for s in statements if re.search(r"speaker\.photo\b(?!_)", s)]
    with app.app_context():  # the photos are really there, only deferred
        assert len(db.session.scalars(select(Speaker.id).where(Speaker.photo.is_not(None))).all()) == 3
