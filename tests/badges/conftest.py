"""Badge test helpers: registrants written straight into the seeded event, and ways to read a PDF back."""

from __future__ import annotations

import secrets
import shutil
import subprocess
from dataclasses import dataclass
from io import BytesIO

import pytest
from sqlalchemy import select

from seminar.events.models import Event
from seminar.events.seed import SLUG
from seminar.extensions import db, utcnow
from seminar.registration.models import Registration, RegistrationStatus, SeatStatus, SessionSeat
from seminar.registration.tokens import hash_token

PEOPLE = [
    ("Élodie", "Lefèvre-Brûlé", "Cancéropôle Île-de-France"),
    ("Αλέξανδρος", "Παπαδόπουλος", "Πανεπιστήμιο Αθηνών"),
    ("Жанна", "Кузнецова", "Институт рака"),
    ("Łukasz", "Żółć", "Uniwersytet Warszawski"),
]


@dataclass
class Person:
    id: int
    token: str
    first_name: str
    last_name: str


def add_registrant(app, first_name: str, last_name: str, organisation: str = "", *,
                   status: RegistrationStatus = RegistrationStatus.confirmed, round_tables: int = 1,
                   category_index: int = 0, email: str | None = None) -> Person:
    """A registrant of the seeded event with a confirmed seat in its first `round_tables` round tables."""
    token = secrets.token_urlsafe(32)
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == SLUG))
        registration = Registration(
            event_id=event.id, first_name=first_name, last_name=last_name, organisation=organisation,
            email=email or f"{secrets.token_hex(6)}@example.org", status=status,
            category_id=event.categories[category_index].id, token_hash=hash_token(token),
            consent_privacy_at=utcnow(),
        )
        registration.email_key = registration.email.casefold()
        tables = [session for session in event.sessions if session.takes_registrations][:round_tables]
        registration.seats = [SessionSeat(session_id=session.id, status=SeatStatus.confirmed)
                              for session in tables]
        db.session.add(registration)
        db.session.commit()
        return Person(registration.id, token, first_name, last_name)


@pytest.fixture
def people(app, seeded) -> list[Person]:
    return [add_registrant(app, first, last, organisation, category_index=index)
            for index, (first, last, organisation) in enumerate(PEOPLE)]


def pdf_text(pdf: bytes) -> str:
    from pdfminer.high_level import extract_text

    return extract_text(BytesIO(pdf))


def text_boxes(pdf: bytes) -> list[tuple[int, str, tuple[float, float, float, float]]]:
    """(page number, text, bbox in mm from the page's top left: x0, top, x1, bottom) of each text line,
    including the text inside Form XObjects (each badge is one)."""
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTFigure, LTTextContainer, LTTextLine

    mm = 25.4 / 72
    lines = []

    def walk(number, height, element):
        if isinstance(element, LTTextLine):
            x0, y0, x1, y1 = element.bbox
            lines.append((number, element.get_text().strip(), (x0 * mm, (height - y1) * mm, x1 * mm,
                                                               (height - y0) * mm)))
        elif isinstance(element, (LTTextContainer, LTFigure)):
            for child in element:
                walk(number, height, child)

    for number, page in enumerate(extract_pages(BytesIO(pdf), laparams=LAParams(all_texts=True)), start=1):
        for element in page:
            walk(number, page.height, element)
    return lines


def rasterise(pdf: bytes, tmp_path, *, dpi: int = 200, page: int = 1):
    """A page as a PIL image, through poppler's pdftoppm."""
    from PIL import Image

    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed: cannot rasterise the PDF to decode its QR code")
    source = tmp_path / "page.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile",
                    str(source), str(tmp_path / "page")], check=True)
    return Image.open(tmp_path / "page.png")
