"""The focus indicator stands out (WCAG 1.4.11, 3:1) on every background the stylesheets paint: it has two rings,
and on each background at least one of them reaches 3:1, while the two rings differ from each other by 3:1 too."""

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parent.parent / "static"
SHEETS = [STATIC / "css" / "site.css", STATIC / "css" / "admin.css", STATIC / "checkin" / "checkin.css"]
CSS = "\n".join(sheet.read_text() for sheet in SHEETS)
VARIABLES = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", CSS))


def _colour(value: str) -> str:
    value = value.strip()
    return VARIABLES[value[6:-1]] if value.startswith("var(") else value


def _luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


BACKGROUNDS = sorted({_colour(value) for value in re.findall(
    r"background(?:-color)?:\s*(#[0-9a-fA-F]{6}|var\(--[\w-]+\))", CSS)} | {"#ffffff"})


def test_focus_style_has_a_dark_ring_inside_a_yellow_one():
    rule = re.search(r"^:focus-visible \{([^}]*)\}", CSS, re.M).group(1)
    assert "outline: 3px solid var(--focus-ring)" in rule and "box-shadow: 0 0 0 6px var(--focus)" in rule
    assert contrast(VARIABLES["focus-ring"], VARIABLES["focus"]) >= 3


@pytest.mark.parametrize("background", BACKGROUNDS)
def test_focus_style_reaches_3_to_1_on_every_background(background):
    rings = (VARIABLES["focus-ring"], VARIABLES["focus"])
    assert max(contrast(ring, background) for ring in rings) >= 3, [round(contrast(r, background), 2) for r in rings]


def test_the_former_yellow_ring_alone_failed_on_white():
    assert contrast("#ffbf47", "#ffffff") < 3  # 1.64:1, what the audit found
