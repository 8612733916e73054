"""The check-in QR code: drawn on the badges, and as an image for screens and e-mails (the same signed code,
`seminar.badges.codes`, for an attendee who shows it on a phone at the door)."""

from __future__ import annotations

import io

from markupsafe import Markup

from seminar.badges.codes import make_checkin_code

# Quiet zone around the code, in modules: 2 is enough on a screen; scanners need some white around it.
BORDER = 2


def _qr(code: str):
    import segno  # only where a code is drawn: the app starts without it

    return segno.make(code, error="m", micro=False)


def qr_svg(code: str, *, light: str | None = None) -> Markup:
    """The QR code of a check-in code as inline SVG: one path, black (on `light`, else transparent)."""
    svg = _qr(code).svg_inline(scale=1, border=BORDER, omitsize=True, dark="#000", light=light)
    return Markup(svg)  # noqa: S704  (made by segno from the signed code: letters, digits and '-')


def qr_png(code: str, *, scale: int = 8) -> bytes:
    """The QR code of a check-in code as a PNG (e-mails: clients show no SVG), `scale` pixels a module."""
    output = io.BytesIO()
    _qr(code).save(output, kind="png", scale=scale, border=BORDER)
    return output.getvalue()


def checkin_qr_svg(registration) -> Markup:
    return qr_svg(make_checkin_code(registration), light="#fff")


def checkin_qr_png(registration) -> bytes:
    return qr_png(make_checkin_code(registration))
