"""Images for e-mails: small PNGs that every mail client shows inline (an e-mail travels in full to each
attendee, so a logo is scaled to what the message shows)."""

from __future__ import annotations

import hashlib
import io

# The logo's height in the e-mails' header, in pixels, twice what is shown (sharp on high-density screens).
LOGO_HEIGHT = 96

_SCALED: dict[str, bytes] = {}
_SCALED_MAX = 32


def scaled_png(image: bytes, height: int = LOGO_HEIGHT) -> bytes:
    """`image` (any format Pillow reads) as a PNG at most `height` pixels high; remembered per process."""
    key = f"{hashlib.sha256(image).hexdigest()}:{height}"
    if key not in _SCALED:
        from PIL import Image  # only where an e-mail is written: the app starts without it

        with Image.open(io.BytesIO(image)) as source:
            picture = source.convert("RGBA")
        picture.thumbnail((height * 8, height))
        output = io.BytesIO()
        picture.save(output, "PNG", optimize=True)
        if len(_SCALED) >= _SCALED_MAX:
            _SCALED.clear()
        _SCALED[key] = output.getvalue()
    return _SCALED[key]
