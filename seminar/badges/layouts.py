"""Badge formats and the sheet layouts that place them, in millimetres measured from the sheet's top left.

A layout is exact to the millimetre: a badge slot is where the cutter or the label sheet expects it.
When badges fill the sheet edge to edge (A6 and A7 on A4), the crop marks lie on the cut lines at the
sheet edges, so that the cut removes them.
"""

from __future__ import annotations

from dataclasses import dataclass

MM_TO_PT = 72 / 25.4
A4 = (210.0, 297.0)


@dataclass(frozen=True)
class BadgeFormat:
    """The size of one badge; `orientation` selects the design (portrait or landscape).

    `qr` is the QR code's square (left, top, side), which static/badges/badge.css leaves free.
    """

    name: str
    width: float
    height: float
    qr: tuple[float, float, float]

    @property
    def orientation(self) -> str:
        return "portrait" if self.height > self.width else "landscape"


@dataclass(frozen=True)
class Slot:
    x: float
    y: float


@dataclass(frozen=True)
class CropMark:
    """A line from (x1, y1) to (x2, y2)."""

    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class Layout:
    name: str
    badge: BadgeFormat
    sheet_width: float
    sheet_height: float
    slots: tuple[Slot, ...]
    crop_marks: tuple[CropMark, ...] = ()
    description: str = ""

    @property
    def per_sheet(self) -> int:
        return len(self.slots)


A6 = BadgeFormat("a6", 105.0, 148.0, qr=(71.0, 104.0, 27.0))
A7_LANDSCAPE = BadgeFormat("a7", 105.0, 74.0, qr=(75.0, 38.5, 24.0))
CARD_90X54 = BadgeFormat("card-90x54", 90.0, 54.0, qr=(66.5, 26.5, 19.0))

CROP_MARK_LENGTH = 6.0


def grid(columns: int, rows: int, badge: BadgeFormat, left: float, top: float) -> tuple[Slot, ...]:
    """Slots row by row, without gutters (each sheet is cut on shared edges)."""
    return tuple(
        Slot(left + column * badge.width, top + row * badge.height) for row in range(rows) for column in range(columns)
    )


def edge_crop_marks(columns: int, rows: int, badge: BadgeFormat, left: float, top: float,
                    sheet: tuple[float, float]) -> tuple[CropMark, ...]:
    """Short marks at the sheet edges on every inner cut line, plus the outer cuts where a margin is left."""
    width, height = sheet
    marks: list[CropMark] = []
    for column in range(columns + 1):
        x = left + column * badge.width
        if 0 < x < width:
            marks += [CropMark(x, 0, x, CROP_MARK_LENGTH), CropMark(x, height - CROP_MARK_LENGTH, x, height)]
    for row in range(rows + 1):
        y = top + row * badge.height
        if 0 < y < height:
            marks += [CropMark(0, y, CROP_MARK_LENGTH, y), CropMark(width - CROP_MARK_LENGTH, y, width, y)]
    return tuple(marks)


def _layout_on_a4(name: str, badge: BadgeFormat, columns: int, rows: int, *, crop_marks: bool,
                  description: str) -> Layout:
    # Centred: A4 is 297 mm tall and two A6 or four A7 take 296 mm, so 0.5 mm is left above and below.
    left = (A4[0] - columns * badge.width) / 2
    top = (A4[1] - rows * badge.height) / 2
    marks = edge_crop_marks(columns, rows, badge, left, top, A4) if crop_marks else ()
    return Layout(name, badge, *A4, grid(columns, rows, badge, left, top), marks, description)


LAYOUTS: dict[str, Layout] = {
    "a6": Layout("a6", A6, A6.width, A6.height, (Slot(0, 0),), (), "One A6 badge (105 × 148 mm) per A6 page."),
    "a4-4": _layout_on_a4(
        "a4-4", A6, 2, 2, crop_marks=True,
        description="Four A6 badges per A4 sheet (2 × 2), crop marks on the cut lines.",
    ),
    "a4-8": _layout_on_a4(
        "a4-8", A7_LANDSCAPE, 2, 4, crop_marks=True,
        description="Eight A7 badges (105 × 74 mm, landscape) per A4 sheet (2 × 4), crop marks on the cut lines.",
    ),
    # The common 10-up A4 sheet of micro-perforated 90 × 54 mm cards, the insert size of standard badge
    # holders: 2 columns × 5 rows, no gutter, 15 mm margins left and right, 13.5 mm top and bottom.
    "label-90x54": _layout_on_a4(
        "label-90x54", CARD_90X54, 2, 5, crop_marks=False,
        description="Ten 90 × 54 mm cards per A4 label sheet (2 × 5, margins 15 mm left/right, 13.5 mm top/bottom).",
    ),
}

DEFAULT_LAYOUT = "a4-4"


def get_layout(name: str) -> Layout:
    try:
        return LAYOUTS[name]
    except KeyError:
        raise ValueError(f"unknown badge layout {name!r}; choose one of {', '.join(LAYOUTS)}") from None
