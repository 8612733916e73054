"""Password hashing and the strength rule staff passwords must meet."""

from __future__ import annotations

import secrets
import string

from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 12
HASH_METHOD = "scrypt"
# Hashed once, so that a login attempt for an unknown address costs as much as one for a known address.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method=HASH_METHOD)

RULE = _l(
    "At least 12 characters, mixing at least two kinds (lower case, upper case, digits, symbols), "
    "and not containing your e-mail address."
)


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=HASH_METHOD)


def verify_password(password_hash: str | None, password: str) -> bool:
    return check_password_hash(password_hash or _DUMMY_HASH, password) and password_hash is not None


def _classes(password: str) -> int:
    kinds = (str.islower, str.isupper, str.isdigit)
    found = {i for ch in password for i, kind in enumerate(kinds) if kind(ch)}
    if any(not (ch.islower() or ch.isupper() or ch.isdigit()) for ch in password):
        found.add(3)
    return len(found)


def password_problems(password: str, email: str = "") -> list[str]:
    """Why a password is refused (empty when it is acceptable)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(str(_l("The password must have at least %(num)d characters.", num=MIN_LENGTH)))
    if password and _classes(password) < 2:
        problems.append(str(_l("The password must mix at least two kinds of characters "
                               "(lower case, upper case, digits, symbols).")))
    folded = password.casefold()
    email = email.strip().casefold()
    local_part = email.partition("@")[0]
    if email and (email in folded or (len(local_part) >= 4 and local_part in folded)):
        problems.append(str(_l("The password must not contain the e-mail address.")))
    return problems


def generate_password() -> str:
    """A random password that meets the rule (for the first admin account)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(20))
        if _classes(candidate) >= 3:
            return candidate
