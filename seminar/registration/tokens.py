"""Self-service tokens: random, URL-safe, stored only as a SHA-256 hash, compared in constant time.

A registration keeps a random salt (`new_token()`, 256 bits) and the hash of its current token. The token
itself is HMAC-SHA256(app secret, salt + registration id): the server can write the same link into every
e-mail it sends (confirmation, promotion, reminders, calendar feeds stay valid) without storing it, while
the database alone (a leaked backup) reveals no usable link. `reissue` draws a new salt, which revokes the
previous link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from flask import current_app

TOKEN_BYTES = 32  # 256 bits, above the 128 required
# What a token can look like (base64url without padding); anything else is refused before any lookup.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{32,64}")


def new_token() -> str:
    """A fresh random URL-safe secret (256 bits)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a token: the only form in which tokens are stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def tokens_match(token: str, token_hash: str) -> bool:
    """Constant-time comparison of a presented token with a stored hash."""
    return hmac.compare_digest(hash_token(token), token_hash or "")


def looks_like_token(token: str) -> bool:
    return bool(TOKEN_PATTERN.fullmatch(token or ""))


def derive_token(salt: str, registration_id: int) -> str:
    """The registration's token, from its stored salt and the app secret."""
    key = hashlib.sha256(f"seminar.registration-link:{current_app.config['SECRET_KEY']}".encode()).digest()
    digest = hmac.new(key, f"{registration_id}:{salt}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_link(registration_id: int) -> tuple[str, str, str]:
    """A new link for a registration: (salt, token, token hash); the salt and the hash are what is stored."""
    salt = new_token()
    token = derive_token(salt, registration_id)
    return salt, token, hash_token(token)


def issue_token(registration) -> str:
    """Give a registration a new link (revoking the previous one); it must have an id (flushed)."""
    registration.token_salt, token, registration.token_hash = new_link(registration.id)
    return token


def current_token(registration) -> str:
    """The registration's current link token, re-derived; reissued if it no longer matches the stored hash
    (the app secret changed, or the registration was written without a salt)."""
    if registration.token_salt:
        token = derive_token(registration.token_salt, registration.id)
        if tokens_match(token, registration.token_hash):
            return token
    return issue_token(registration)
