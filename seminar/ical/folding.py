"""Serialising icalendar components: the same bytes as `Component.to_ical(sorted=False)`, faster.

icalendar folds each content line character by character, which is about 60% of the cost of a
200-session feed; `fold` gives the same output working on the UTF-8 bytes with slices.
"""

from __future__ import annotations

from icalendar import vText


def to_ical(component) -> bytes:
    """`component.to_ical(sorted=False)` (properties in the order written), byte for byte.

    Each line is what `Contentline.from_parts` makes of a property (the value's and the parameters'
    own `to_ical`), kept in UTF-8 bytes instead of decoded and encoded again.
    """
    return b"".join([fold(_content_line(name, value)) for name, value in component.property_items(sorted=False)])


def _content_line(name: str, value) -> bytes:
    data = value.to_ical() if hasattr(value, "to_ical") else vText(value).to_ical()
    if isinstance(data, str):
        data = data.encode("utf-8")
    elif data.startswith(_BOM):  # from_parts decodes as utf-8-sig, which drops a leading BOM
        data = data[len(_BOM):]
    params = getattr(value, "params", None)
    if params:
        encoded = params.to_ical(sorted=False)
        if encoded:  # some parameters are left out when serialised
            encoded = encoded.encode("utf-8") if isinstance(encoded, str) else encoded
            return b"%s;%s:%s" % (name.encode("utf-8"), encoded, data)
    return b"%s:%s" % (name.encode("utf-8"), data)


_BOM = "\ufeff".encode()


def fold(data: bytes) -> bytes:
    """One content line (UTF-8), folded as `icalendar.parser.string._foldline` does it, with its CRLF.

    Segments of at most 74 octets (a continuation line adds its leading space), never splitting a
    UTF-8 sequence, and a segment never ends with a backslash or caret that starts an escape
    (icalendar issue #1501) unless it is the segment's only character.
    """
    if len(data) <= _FOLD_AT:
        return data + b"\r\n"
    segments = []
    start, size = 0, len(data)
    while size - start > _FOLD_AT:
        end = start + _FOLD_AT
        while data[end] & 0xC0 == 0x80:  # inside a multi-byte character: cut before it
            end -= 1
        if data[end - 1] in _ESCAPE_STARTS and end - 1 > start:
            end -= 1
        segments.append(data[start:end])
        start = end
    segments.append(data[start:])
    return b"\r\n ".join(segments) + b"\r\n"


_FOLD_AT = 74
_ESCAPE_STARTS = b"\\^"
