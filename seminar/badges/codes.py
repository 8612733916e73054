"""Signed check-in codes printed as QR codes on badges, verified offline by the check-in desk.

A code reads `SEM1-<registration id>-<signature>`: an HMAC-SHA256 of the prefix and id, truncated to
80 bits and written in base 32. Upper-case letters, digits and '-' keep the QR code in its compact
alphanumeric mode (version 2, 25 × 25 modules). The HMAC key is derived from the app's SECRET_KEY with a
purpose string of its own, so a check-in code is worth nothing anywhere else: in particular it is not a
self-service token (those are random secrets looked up by their SHA-256).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from flask import current_app

PREFIX = "SEM1"
KEY_PURPOSE = b"seminar.badges.checkin-code.v1"
SIGNATURE_BYTES = 10  # 80 bits: forging one takes 2**80 guesses, the QR code stays small
CODE_PATTERN = re.compile(rf"{PREFIX}-([1-9][0-9]{{0,17}})-([A-Z2-7]{{16}})")


def _key(secret_key: str | bytes | None = None) -> bytes:
    secret = current_app.config["SECRET_KEY"] if secret_key is None else secret_key
    if isinstance(secret, str):
        secret = secret.encode()
    return hmac.new(secret, KEY_PURPOSE, hashlib.sha256).digest()


def _signature(registration_id: int, key: bytes) -> str:
    digest = hmac.new(key, f"{PREFIX}-{registration_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:SIGNATURE_BYTES]).decode()


def make_code_for_id(registration_id: int, *, secret_key: str | bytes | None = None) -> str:
    """The check-in code of a registration id (SECRET_KEY of the current app unless given)."""
    if registration_id < 1:
        raise ValueError("a registration id is a positive integer")
    return f"{PREFIX}-{registration_id}-{_signature(registration_id, _key(secret_key))}"


def make_checkin_code(registration) -> str:
    """The signed check-in code printed on `registration`'s badge."""
    return make_code_for_id(registration.id)


def verify_checkin_code(code: str, *, secret_key: str | bytes | None = None) -> int | None:
    """The registration id a check-in code was made for, or None if it is malformed, altered or forged.

    Surrounding whitespace and letter case are forgiven (scanners and people typing codes vary).
    """
    if not isinstance(code, str) or len(code) > 64:
        return None
    match = CODE_PATTERN.fullmatch(code.strip().upper())
    if match is None:
        return None
    registration_id = int(match[1])
    expected = _signature(registration_id, _key(secret_key))
    return registration_id if hmac.compare_digest(expected, match[2]) else None
