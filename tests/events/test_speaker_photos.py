"""Speaker photos: checked and re-encoded when uploaded or imported (pixel limit, size, orientation, no
metadata, transparency kept); served with their type, cache header and ETag; shown on the speakers page."""

from __future__ import annotations

import base64
import re
import struct
import zlib
from io import BytesIO

import pytest
from PIL import ExifTags, Image
from sqlalchemy import select

from seminar.events import programme, transfer
from seminar.events.models import Event, Speaker
from seminar.events.seed import SLUG
from seminar.extensions import db
from tests.queries import count_queries


def _png() -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (12, 12), "blue").save(buffer, "PNG")
    return buffer.getvalue()


def _encoded(image: Image.Image, kind: str, **options) -> bytes:
    buffer = BytesIO()
    image.save(buffer, kind, **options)
    return buffer.getvalue()


def _camera_photo(size: tuple[int, int]) -> bytes:
    """A JPEG as a camera writes it: a picture (a gradient), EXIF with the camera and a GPS position."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhotoCam"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({
        ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (48.0, 50.0, 4.0),
        ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (2.0, 23.0, 1.0),
    })
    picture = Image.linear_gradient("L").resize(size).convert("RGB")
    return _encoded(picture, "JPEG", exif=exif, comment=b"secret comment", xmp=b"<x:xmpmeta>secret xmp</x:xmpmeta>")


def _with_png_size(png: bytes, width: int, height: int) -> bytes:
    """The PNG with the size in its header changed (and the header's checksum fixed): a claim, not pixels."""
    header = b"IHDR" + struct.pack(">II", width, height) + png[24:29]
    return png[:12] + header + struct.pack(">I", zlib.crc32(header)) + png[33:]


def _png_text(key: str, value: str):
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text(key, value)
    return info


def _stored(app, speaker_id) -> tuple[bytes, str]:
    with app.app_context():
        return db.session.execute(select(Speaker.photo, Speaker.photo_mimetype).where(Speaker.id == speaker_id)).one()


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
    speaker_id = _speaker(app, seeded.id, "Dr Photo", photo=_png())
    stored, mimetype = _stored(app, speaker_id)
    response = client.get(_url(speaker_id))
    assert response.status_code == 200 and response.data == stored
    assert response.mimetype == mimetype == "image/jpeg"  # re-encoded: no transparency
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
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
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


@pytest.mark.parametrize(("size", "stored_size"), [
    ((3000, 2000), (1024, 683)), ((2000, 3000), (683, 1024)), ((6000, 4000), (1024, 683)), ((300, 200), (300, 200)),
])
def test_speaker_photo_is_stored_at_most_1024_pixels_on_its_long_side(app, seeded, size, stored_size):
    speaker_id = _speaker(app, seeded.id, "Dr Camera", photo=_camera_photo(size))
    stored, mimetype = _stored(app, speaker_id)
    with Image.open(BytesIO(stored)) as image:
        assert (image.format, mimetype, image.size) == ("JPEG", "image/jpeg", stored_size)
        assert image.getpixel((0, 0))[0] < 20 < 235 < image.getpixel((0, image.height - 1))[0]  # the gradient


@pytest.mark.parametrize("photo", [
    _encoded(Image.new("1", (6000, 6000)), "PNG"),  # 4.4 KB, 36 megapixels
    _with_png_size(_encoded(Image.new("1", (8, 8)), "PNG"), 100_000, 100_000),  # beyond Pillow's own limit
], ids=["6000x6000-1-bit", "header-claims-10-gigapixels"])
def test_speaker_photo_with_too_many_pixels_is_refused(app, seeded, photo):
    assert len(photo) < 5000
    with app.app_context(), pytest.raises(programme.ProgrammeError) as refused:
        programme.save_speaker(seeded.id, programme.SpeakerDetails(name="Dr Bomb"), photo=photo)
    assert "24 mégapixels" in refused.value.problems["photo"]
    with app.app_context():
        assert db.session.scalar(select(Speaker).where(Speaker.name == "Dr Bomb")) is None


def test_speaker_photo_is_turned_upright_as_its_exif_orientation_says(app, seeded):
    picture = Image.new("RGB", (300, 200), "blue")
    picture.paste((255, 0, 0), (0, 0, 150, 200))  # left half red
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # shown turned a quarter clockwise: the left half on top
    speaker_id = _speaker(app, seeded.id, "Dr Portrait", photo=_encoded(picture, "JPEG", exif=exif))
    with Image.open(BytesIO(_stored(app, speaker_id)[0])) as image:
        assert image.size == (200, 300)
        top, bottom = image.getpixel((100, 50)), image.getpixel((100, 250))
        assert top[0] > 200 > top[2] and bottom[2] > 200 > bottom[0]
        assert ExifTags.Base.Orientation not in image.getexif()  # not turned a second time by the browser


def test_speaker_photo_loses_its_metadata(app, seeded):
    photo = _camera_photo((1200, 800))
    assert b"Exif" in photo and b"secret" in photo and b"PhotoCam" in photo
    speaker_id = _speaker(app, seeded.id, "Dr Private", photo=photo)
    stored = _stored(app, speaker_id)[0]
    assert b"Exif" not in stored and b"secret" not in stored and b"PhotoCam" not in stored
    with Image.open(BytesIO(stored)) as image:
        assert not image.getexif() and not {"comment", "xmp", "exif", "icc_profile"} & set(image.info)
    text = _encoded(Image.new("RGB", (40, 40), "red"), "PNG", pnginfo=_png_text("Author", "secret author"))
    assert b"secret" not in _stored(app, _speaker(app, seeded.id, "Dr Text", photo=text))[0]


def test_speaker_photo_with_transparency_stays_transparent(app, seeded):
    picture = Image.new("RGBA", (1600, 800), (0, 0, 0, 0))
    picture.paste((200, 0, 0, 255), (800, 0, 1600, 800))  # right half opaque red, left half transparent
    speaker_id = _speaker(app, seeded.id, "Dr Clear", photo=_encoded(picture, "PNG"))
    stored, mimetype = _stored(app, speaker_id)
    with Image.open(BytesIO(stored)) as image:
        assert (image.format, mimetype, image.mode, image.size) == ("PNG", "image/png", "RGBA", (1024, 512))
        assert image.getpixel((100, 100))[3] == 0 and image.getpixel((900, 100)) == (200, 0, 0, 255)


def test_animated_speaker_photo_keeps_its_first_frame(app, seeded):
    frames = [Image.new("RGB", (64, 64), colour) for colour in ("red", "lime", "blue")]
    animated = _encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    stored, mimetype = _stored(app, _speaker(app, seeded.id, "Dr Animated", photo=animated))
    with Image.open(BytesIO(stored)) as image:
        assert mimetype == "image/jpeg" and getattr(image, "n_frames", 1) == 1
        red, green, blue = image.getpixel((32, 32))
        assert red > 200 and green < 50 and blue < 50


def test_imported_speaker_photo_is_checked_and_re_encoded_as_on_upload(app, seeded):
    with app.app_context():
        document = transfer.export_event(SLUG)
    speaker = document["tables"]["speaker"][0]
    speaker["photo"], speaker["photo_mimetype"] = base64.b64encode(_camera_photo((3000, 2000))).decode(), "image/gif"
    with app.app_context():
        transfer.import_event(document, replace=True)
    stored, mimetype = _stored(app, speaker["id"])
    with Image.open(BytesIO(stored)) as image:
        assert (mimetype, image.size) == ("image/jpeg", (1024, 683)) and b"Exif" not in stored

    speaker["photo"] = base64.b64encode(_encoded(Image.new("1", (6000, 6000)), "PNG")).decode()
    with app.app_context(), pytest.raises(transfer.TransferError, match=r"speaker #1, photo: .*24 megapixels"):
        transfer.import_event(document, replace=True)
