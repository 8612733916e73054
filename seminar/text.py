"""What a person types, registrant or staff, cleaned one way before it is stored.

Office software pastes line separators that a form does not show (Word's Shift+Enter is U+000B); they break
e-mail headers and spreadsheet files. A one-line text gets them as spaces; a text that keeps its line breaks
(descriptions, notes, bios) gets them as LF. The invisible characters that web pages and word processors paste
inside words (soft hyphen, zero-width space, word joiner, byte-order mark) are dropped: asking someone to find a
character they cannot see would only stop them. Any other control or format character is refused (the
direction overrides among them can make a name read differently from what it holds), except the joiners that
Arabic, Indic scripts and emoji need. `header_line` is the last defence where text leaves
(e-mail headers): it never refuses.
"""

from __future__ import annotations

import re
import unicodedata

from flask_babel import lazy_gettext as _l

LINE_SEPARATORS = "\r\n\v\f\x85\u2028\u2029"
JOINERS = "\u200c\u200d"  # ZWNJ, ZWJ
INVISIBLE = "\u00ad\u200b\u2060\ufeff"  # soft hyphen, zero-width space, word joiner, BOM: dropped
_DROPPED = str.maketrans(dict.fromkeys(INVISIBLE))
_AS_SPACE = str.maketrans(dict.fromkeys(LINE_SEPARATORS + "\t", " "))
_AS_NEWLINE = str.maketrans(dict.fromkeys(LINE_SEPARATORS, "\n"))
_SPACES = re.compile(" {2,}")


class RefusedText(ValueError):
    """A text that cannot be kept: `character` is the first refused character, or '' when the text is longer
    than `max_length`."""

    def __init__(self, *, character: str = "", max_length: int = 0):
        super().__init__(f"refused character U+{ord(character):04X}" if character else f"longer than {max_length}")
        self.character, self.max_length = character, max_length

    def message(self, field_label) -> str:
        """The refusal for the person who typed it, naming the field."""
        if self.character:
            return str(_l("%(field)s: remove the invisible character %(code)s (it often comes with pasted text).",
                          field=field_label, code=f"U+{ord(self.character):04X}"))
        return str(_l("%(field)s: at most %(max)d characters, please.", field=field_label, max=self.max_length))


def fold(text: str | None) -> str:
    """Lower case without accents, for matching what people type against names ("helene" finds "Hélène").
    In SQL: `seminar.database.folded`."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def one_line(value: str | None) -> str:
    """Line separators and tabs as spaces, runs of spaces as one, trimmed (no-break spaces are kept)."""
    return _SPACES.sub(" ", (value or "").translate(_AS_SPACE)).strip()


def header_line(value: str | None) -> str:
    """`one_line` with every other control character dropped: what an e-mail header may carry, whatever
    was stored (the last defence where text leaves; it never refuses)."""
    return "".join(char for char in one_line(value) if unicodedata.category(char) != "Cc")


def with_line_breaks(value: str | None) -> str:
    """CRLF, CR and the other line separators as LF, trimmed."""
    return (value or "").replace("\r\n", "\n").translate(_AS_NEWLINE).strip()


def refused_character(value: str, *, multiline: bool = False) -> str | None:
    """The first control, format, surrogate, private-use or unassigned character, if any (the joiners are
    allowed, and in a multi-line text LF and tab)."""
    allowed = "\n\t" if multiline else ""
    for char in value:
        if char in allowed or char in JOINERS:
            continue
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            return char
    return None


def clean_text(value: str | None, *, multiline: bool = False, max_length: int | None = None) -> str:
    """`value` as stored: one line (or with LF line breaks when `multiline`), trimmed; raises RefusedText when
    it is longer than `max_length` or holds a character that has no place in a text."""
    text = (with_line_breaks(value) if multiline else one_line(value)).translate(_DROPPED)
    if max_length is not None and len(text) > max_length:
        raise RefusedText(max_length=max_length)
    character = refused_character(text, multiline=multiline)
    if character is not None:
        raise RefusedText(character=character)
    return text
