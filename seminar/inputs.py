"""What a request may carry, checked before any view runs: ids within the database's range, no NUL bytes,
JSON of a sane depth.

PostgreSQL refuses NUL characters in text and integers beyond its `integer` column; SQLite accepts both. Either
way such input can only come from a hostile or broken client, so it is refused at the door (400, or 404 for an
id in a path) instead of reaching a query and failing there as a 500.
"""

from __future__ import annotations

from flask import Request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

# The largest value of an `integer` column (PostgreSQL's int4), which every primary key here is.
MAX_ID = 2**31 - 1
# Deeper JSON than any client of ours sends; Python's parser would raise RecursionError long before 10,000.
MAX_JSON_DEPTH = 32


def parse_id(value: object) -> int | None:
    """An id from a form or JSON value: a positive int, or a string of ASCII digits, within `MAX_ID`;
    anything else (including "²", which `str.isdigit()` accepts and `int()` does not) is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()) or len(value) > len(str(MAX_ID)):
            return None
        value = int(value)
    if not isinstance(value, int) or not 0 < value <= MAX_ID:
        return None
    return value


class BoundedIntConverter(IntegerConverter):
    """The app's `int` URL converter: `/…/2147483648/…` matches no route (404) instead of reaching a query."""

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def refuse_hostile_input(request: Request) -> None:
    """Raise BadRequest for a NUL byte in the path, query string or form, or JSON that is too deep or holds one."""
    if "\x00" in request.path or _holds_nul(request.args):
        raise BadRequest("NUL byte in the address")
    if _holds_nul(request.form):
        raise BadRequest("NUL byte in a form value")
    if request.is_json:
        try:
            body = request.get_json(silent=True)
        except RecursionError:
            raise BadRequest("JSON nested too deeply") from None
        if not _plain_json(body, MAX_JSON_DEPTH):
            raise BadRequest("JSON nested too deeply or holding a NUL byte")


def _holds_nul(values) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in values.items(multi=True))


def _plain_json(value: object, depth: int) -> bool:
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, dict | list):
        if depth == 0:
            return False
        items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
        return all(_plain_json(item, depth - 1) for item in items)
    return True
