"""Password hashing and the strength rule staff passwords must meet."""

from __future__ import annotations

import secrets
import string
import threading
from functools import cache

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

MIN_LENGTH = 12
# zxcvbn's score: 3 is "safely unguessable: moderate protection from offline slow-hash scenario" (10^8+ guesses).
MIN_SCORE = 3
# zxcvbn refuses longer input; the first 72 characters decide (a weak start is rarely saved by its tail).
ESTIMATED_LENGTH = 72
HASH_METHOD = "scrypt"
# zxcvbn keeps the caller's words in a module-level dictionary while it estimates: one estimate at a time.
_ESTIMATING = threading.Lock()
# Words of this site that a guesser would try first.
SITE_WORDS = ("seminar", "seminaire", "séminaire")

@cache
def _dummy_hash() -> str:
    """Checked against when the address is unknown, so that such a login attempt costs as much as one for a known
    address; hashed when first needed, not when the app starts."""
    return generate_password_hash("not-a-real-password", method=HASH_METHOD)


RULE = _l(
    "At least 12 characters, hard to guess (a few uncommon words, for instance), "
    "and not containing your e-mail address."
)

# zxcvbn's feedback comes in English only: its sentences, marked here so that our catalogues translate them.
ZXCVBN_FEEDBACK = (
    _l("Use a few words, avoid common phrases."),
    _l("No need for symbols, digits, or uppercase letters."),
    _l("Add another word or two. Uncommon words are better."),
    _l("Straight rows of keys are easy to guess."),
    _l("Short keyboard patterns are easy to guess."),
    _l("Use a longer keyboard pattern with more turns."),
    _l('Repeats like "aaa" are easy to guess.'),
    _l('Repeats like "abcabcabc" are only slightly harder to guess than "abc".'),
    _l("Avoid repeated words and characters."),
    _l('Sequences like "abc" or "6543" are easy to guess.'),
    _l("Avoid sequences."),
    _l("Recent years are easy to guess."),
    _l("Avoid recent years."),
    _l("Avoid years that are associated with you."),
    _l("Dates are often easy to guess."),
    _l("Avoid dates and years that are associated with you."),
    _l("This is a top-10 common password."),
    _l("This is a top-100 common password."),
    _l("This is a very common password."),
    _l("This is similar to a commonly used password."),
    _l("A word by itself is easy to guess."),
    _l("Names and surnames by themselves are easy to guess."),
    _l("Common names and surnames are easy to guess."),
    _l("Capitalization doesn't help very much."),
    _l("All-uppercase is almost as easy to guess as all-lowercase."),
    _l("Reversed words aren't much harder to guess."),
    _l("Predictable substitutions like '@' instead of 'a' don't help very much."),
)


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=HASH_METHOD)


def verify_password(password_hash: str | None, password: str) -> bool:
    return check_password_hash(password_hash or _dummy_hash(), password) and password_hash is not None


def password_problems(password: str, email: str = "") -> list[str]:
    """Why a password is refused (empty when it is acceptable): too short, too easy to guess according to
    zxcvbn (with zxcvbn's explanation, translated), or containing the e-mail address."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(str(_l("The password must have at least %(num)d characters.", num=MIN_LENGTH)))
    email = email.strip().casefold()
    local_part = email.partition("@")[0]
    guessable = _guessability(password, [email, local_part, *SITE_WORDS])
    if guessable is not None:
        problems.append(str(_l("Too easy to guess: %(reason)s", reason=guessable)))
    folded = password.casefold()
    if email and (email in folded or (len(local_part) >= 4 and local_part in folded)):
        problems.append(str(_l("The password must not contain the e-mail address.")))
    return problems


def _guessability(password: str, user_inputs: list[str]) -> str | None:
    """zxcvbn's reasons when `password` scores below MIN_SCORE, else None."""
    with _ESTIMATING:
        estimate = zxcvbn(password[:ESTIMATED_LENGTH], user_inputs=[word for word in user_inputs if word])
    if estimate["score"] >= MIN_SCORE:
        return None
    feedback = estimate["feedback"]
    sentences = [feedback["warning"], *feedback["suggestions"]] if feedback["warning"] else feedback["suggestions"]
    # Translated through ZXCVBN_FEEDBACK's msgids; a sentence of a newer zxcvbn is shown in English.
    return " ".join(gettext(sentence) for sentence in sentences)


def generate_password() -> str:
    """A random password of 20 letters and digits (about 119 bits), far above the rule (first admin account)."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(20))
