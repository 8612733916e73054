"""Signed check-in codes: compact, verified offline, refused when forged, altered or malformed."""

from __future__ import annotations

import segno

from seminar.badges.codes import make_checkin_code, make_code_for_id, verify_checkin_code
from tests.badges.conftest import add_registrant


def test_checkin_code_round_trips_to_the_registration_id(ctx):
    code = make_code_for_id(1234)
    assert verify_checkin_code(code) == 1234
    assert verify_checkin_code(f"  {code.lower()}\n") == 1234  # scanners and typists vary


def test_checkin_code_is_compact_enough_for_a_small_qr_code(ctx):
    code = make_code_for_id(987654)
    qr = segno.make(code, error="m")
    assert len(code) <= 30 and qr.mode == "alphanumeric" and qr.version <= 2


def test_checkin_code_tampered_is_refused(ctx):
    code = make_code_for_id(41)
    prefix, number, signature = code.split("-")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    assert verify_checkin_code(f"{prefix}-{number}-{flipped}") is None
    assert verify_checkin_code(f"{prefix}-42-{signature}") is None  # another registrant, same signature
    assert verify_checkin_code(f"{prefix}-041-{signature}") is None


def test_checkin_code_malformed_is_refused(ctx):
    for code in ("", "SEM1", "SEM1-1-", "SEM1-0-AAAAAAAAAAAAAAAA", "SEM2-1-AAAAAAAAAAAAAAAA", "x" * 500,
                 "SEM1-1-AAAAAAAAAAAAAAAA-extra", "SEM1--1-AAAAAAAAAAAAAAAA", None, 42):
        assert verify_checkin_code(code) is None


def test_checkin_code_from_another_secret_is_refused(ctx):
    forged = make_code_for_id(7, secret_key="someone-else's-secret")
    assert verify_checkin_code(forged) is None
    assert verify_checkin_code(make_code_for_id(7)) == 7


def test_checkin_code_does_not_open_the_self_service_page(app, seeded, client):
    person = add_registrant(app, "Camille", "Durand")
    with app.app_context():
        from seminar.extensions import db
        from seminar.registration.models import Registration

        code = make_checkin_code(db.session.get(Registration, person.id))
    for url in (f"/registrations/{code}", f"/registrations/{code}/badge.pdf"):
        assert client.get(url).status_code == 404
    assert client.get(f"/registrations/{person.token}/badge.pdf").status_code == 200
    with app.app_context():
        assert verify_checkin_code(person.token) is None  # nor is a token a check-in code
