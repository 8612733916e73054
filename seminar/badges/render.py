"""Badges as PDF, by WeasyPrint: the pure renderer (`BadgeData` in, PDF bytes or fragments out; it reads no
model and writes nothing).

The HTML templates, the stylesheets and the fonts are parsed once per process (`_ProcessRenderer`). A badge
is drawn in two parts, each as a page of the badge's size that `seminar.badges.pdf` turns into a fragment:
its background (event, date, category band: what badges of one event and category share) and its
foreground (names, organisation, round tables), with the QR code drawn as PDF operators. `design_fingerprint`
names everything that shapes the output, for the cache keys. Only this module (and the modules that render
through it) imports WeasyPrint: the app starts without it.

WeasyPrint fetches only the project's static files, the font packages' files and `data:` URLs
(`StaticFilesFetcher`); names go through Jinja's HTML escaping, and style values are computed numbers or
validated colours, never text people typed.
"""

from __future__ import annotations

import ctypes.util
import hashlib
import logging
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from unicodedata import bidirectional, east_asian_width
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import font_roboto
import fontpkg_noto_sans_arabic
import fontpkg_noto_sans_devanagari
import segno
import weasyprint
from jinja2 import Environment, FileSystemLoader, select_autoescape
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from seminar import resource_dir
from seminar.badges.data import DEFAULT_CATEGORY_COLOUR
from seminar.badges.layouts import MM_TO_PT, BadgeFormat, Layout, get_layout
from seminar.badges.pdf import Fragment, page_fragments
from seminar.badges.qr import qr_svg

if TYPE_CHECKING:
    from seminar.badges.data import BadgeData

log = logging.getLogger(__name__)
# Without HarfBuzz-Subset, WeasyPrint subsets fonts with fontTools, which logs a dozen INFO lines per badge:
# in a worker logging at INFO that drowned everything else (and filled a test's unread pipe until it hung).
logging.getLogger("fontTools").setLevel(logging.WARNING)

# Raise to invalidate every cached badge when the rendering changes in a way the hashed files do not show.
RENDER_VERSION = 1
FONT_FAMILY = "Badge Sans"
STATIC_DIR = resource_dir("static").resolve()
# Roboto (Apache License 2.0) from the font-roboto package: Latin, Greek and Cyrillic, the look of every badge.
FONT_DIR = (Path(font_roboto.__file__).parent / "files").resolve()
FONT_FILES = {400: FONT_DIR / "Roboto-Regular.ttf", 700: FONT_DIR / "Roboto-Bold.ttf"}
# Noto (SIL OFL 1.1) for the scripts Roboto lacks, as families of their own after "Badge Sans" in badge.css
# (WeasyPrint tells its PDF fonts apart by family, weight and style, so one family cannot join two files).
# Arabic and Devanagari come from fontpkg packages as variable fonts (one file serves both weights); Hebrew
# and the CJK subset are shipped in static/badges/fonts/ (made by scripts/subset_badge_fonts.py).
ARABIC_FILE = next((fontpkg_noto_sans_arabic.ROOT / "files").glob("NotoSansArabic*.ttf")).resolve()
DEVANAGARI_FILE = next((fontpkg_noto_sans_devanagari.ROOT / "files").glob("NotoSansDevanagari*.ttf")).resolve()
SCRIPT_FONT_DIR = STATIC_DIR / "badges" / "fonts"
SCRIPT_FONT_FILES = {
    "Badge Sans Arabic": {400: ARABIC_FILE, 700: ARABIC_FILE},
    "Badge Sans Hebrew": {400: SCRIPT_FONT_DIR / "NotoSansHebrew-Regular.ttf",
                          700: SCRIPT_FONT_DIR / "NotoSansHebrew-Bold.ttf"},
    "Badge Sans Devanagari": {400: DEVANAGARI_FILE, 700: DEVANAGARI_FILE},
    "Badge Sans CJK": {400: SCRIPT_FONT_DIR / "NotoSansCJKsc-Badge-Regular.otf",
                       700: SCRIPT_FONT_DIR / "NotoSansCJKsc-Badge-Bold.otf"},
}
FONT_ROOTS = (STATIC_DIR, FONT_DIR, ARABIC_FILE.parent, DEVANAGARI_FILE.parent)
TEMPLATE_DIR = resource_dir("templates").resolve()
STYLESHEET = STATIC_DIR / "badges" / "badge.css"
DESIGN_FILES = (TEMPLATE_DIR / "badges" / "_badge.html", TEMPLATE_DIR / "badges" / "badges.html", STYLESHEET,
                Path(__file__).with_name("pdf.py"))

QR_BORDER = 2  # quiet zone, in modules, inside the QR square
COLOUR_PATTERN = re.compile(r"#[0-9a-fA-F]{6}")

# Font sizes in points (largest, smallest) and the width in mm they must fit in, per badge format.
# The widths mirror the boxes of static/badges/badge.css.
FIT_WIDTHS = {
    "a6": {"given": (32, 15, 91), "family": (19, 11, 91), "job": (10, 7, 91), "organisation": (11, 7.5, 91),
           "band": (11, 7, 91)},
    "a7": {"given": (22, 11, 66), "family": (13, 8, 66), "job": (7.5, 6, 66), "organisation": (8.5, 6.2, 66),
           "band": (8.5, 6, 93)},
    "card-90x54": {
        "given": (18, 9, 59.5), "family": (11, 7, 59.5), "job": (6.8, 5.5, 59.5), "organisation": (7.2, 5.5, 59.5),
        "band": (7.5, 5.5, 81),
    },
}
WEIGHTS = {"given": 700, "family": 400, "job": 400, "organisation": 400, "band": 700}

_design_fingerprint: str | None = None


def design_fingerprint() -> str:
    """A hash of what shapes every badge: templates, CSS, fonts, WeasyPrint's version, RENDER_VERSION."""
    global _design_fingerprint
    if _design_fingerprint is None:
        digest = hashlib.sha256(f"{RENDER_VERSION}:{weasyprint.__version__}".encode())
        for path in (*DESIGN_FILES, *font_files()):
            digest.update(path.name.encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        _design_fingerprint = digest.hexdigest()
    return _design_fingerprint


def font_files() -> list[Path]:
    """Every font file the badges use, each once."""
    files = [*FONT_FILES.values(), *(path for faces in SCRIPT_FONT_FILES.values() for path in faces.values())]
    return list(dict.fromkeys(files))


# --- Loading resources -----------------------------------------------------------------------------------


class ResourceRefused(ValueError):
    """A badge asked for something other than the project's static files or inlined data."""


class StaticFilesFetcher(URLFetcher):
    """Serves `data:` URLs and files under static/ (and the font packages); refuses everything else,
    in particular `file:` paths elsewhere and every network URL."""

    def __init__(self, roots: Iterable[Path] = FONT_ROOTS):
        super().__init__(allowed_protocols=("data", "file"))
        self.roots = tuple(Path(root).resolve() for root in roots)

    def fetch(self, url: str, headers=None):
        scheme = url.partition(":")[0].lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            parts = urlsplit(url)
            path = Path(url2pathname(unquote(parts.path))).resolve()
            if parts.netloc in ("", "localhost") and path.is_file() and any(
                path.is_relative_to(root) for root in self.roots
            ):
                return URLFetcherResponse(path.as_uri(), path.read_bytes())
        raise ResourceRefused(f"badges load only static files and data: URLs, not {url[:200]!r}")


def harfbuzz_subset_available() -> bool:
    """WeasyPrint subsets fonts with libharfbuzz-subset when present, and is much slower without it."""
    return ctypes.util.find_library("harfbuzz-subset") is not None


def log_harfbuzz_subset_status() -> None:
    if not harfbuzz_subset_available():
        log.warning(
            "libharfbuzz-subset is missing: badge rendering falls back to a slower font subsetter "
            "(install it: apt-get install libharfbuzz-subset0)"
        )


# --- Fitting text -------------------------------------------------------------------------------------


class _FontMetrics:
    """Advance widths of the badge fonts, to pick the largest size at which a line fits its box: Roboto's,
    then, for the characters Roboto lacks, those of the Noto face that draws them (in badge.css's order)."""

    def __init__(self):
        self.advances = {weight: self._advances(path, weight) for weight, path in FONT_FILES.items()}
        for files in SCRIPT_FONT_FILES.values():
            for weight, path in files.items():
                for codepoint, advance in self._advances(path, weight).items():
                    self.advances[weight].setdefault(codepoint, advance)

    @staticmethod
    def _advances(path: Path, weight: int) -> dict[int, float]:
        """Advance widths in em by code point; a variable font's at the `weight` instance."""
        from fontTools.ttLib import TTFont

        with TTFont(path, lazy=True) as font:
            units = font["head"].unitsPerEm
            cmap = font.getBestCmap()
            if "fvar" in font:
                glyphs = font.getGlyphSet(location={"wght": weight})
                return {codepoint: glyphs[glyph].width / units for codepoint, glyph in cmap.items()}
            metrics = font["hmtx"].metrics
            return {codepoint: metrics[glyph][0] / units for codepoint, glyph in cmap.items()}

    def width_em(self, text: str, weight: int) -> float:
        advances = self.advances[weight]
        return sum(advances.get(ord(char), 1.0 if east_asian_width(char) in "WF" else 0.6) for char in text)


def fit_font_size(metrics: _FontMetrics, text: str, weight: int, largest: float, smallest: float,
                  width_mm: float) -> float:
    """The largest size (pt, to 0.25) at which `text` fits on one line; the smallest one if it must wrap."""
    width_em = metrics.width_em(text, weight)
    if width_em <= 0:
        return largest
    fitting = width_mm * 72 / 25.4 / width_em * 0.97  # a little room for kerning and rounding
    return max(smallest, min(largest, math.floor(fitting * 4) / 4))


def text_direction(text: str) -> str:
    """The HTML `dir` of a line: "rtl" when its first strong character is right-to-left (Arabic, Hebrew),
    else "auto". WeasyPrint ignores `dir="auto"` and lays every paragraph out left to right, so the
    renderer finds the direction itself, as a browser does for "auto"."""
    for char in text or "":
        kind = bidirectional(char)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            break
    return "auto"


def band_colours(colour: str) -> tuple[str, str]:
    """A valid band colour and the text colour that contrasts best with it (WCAG relative luminance)."""
    colour = colour if COLOUR_PATTERN.fullmatch(colour or "") else DEFAULT_CATEGORY_COLOUR

    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(colour[i:i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    contrast_white = 1.05 / (luminance + 0.05)
    contrast_black = (luminance + 0.05) / 0.05
    return colour.lower(), "#ffffff" if contrast_white >= contrast_black else "#111111"


# --- Rendering ----------------------------------------------------------------------------------------


def qr_operations(code: str, badge_format: BadgeFormat) -> bytes:
    """PDF operators drawing the QR code of `code` in the badge format's QR square (badge coordinates)."""
    matrix = segno.make(code, error="m", micro=False).matrix
    modules = len(matrix) + 2 * QR_BORDER
    left, top, side = (value * MM_TO_PT for value in badge_format.qr)
    module = side / modules
    height = badge_format.height * MM_TO_PT
    operations = ["q 0 0 0 rg"]
    for row_index, row in enumerate(matrix):
        y = height - top - (row_index + QR_BORDER + 1) * module
        column = 0
        while column < len(row):
            if not row[column]:
                column += 1
                continue
            start = column
            while column < len(row) and row[column]:
                column += 1
            x = left + (start + QR_BORDER) * module
            operations.append(f"{x:.3f} {y:.3f} {(column - start) * module:.3f} {module:.3f} re")
    operations.append("f Q")
    return "\n".join(operations).encode()


class _ProcessRenderer:
    """What each process parses once: the fonts, the stylesheets, the templates."""

    def __init__(self):
        self.fetcher = StaticFilesFetcher()
        self.font_config = FontConfiguration()
        self.metrics = _FontMetrics()
        faces = "\n".join(
            f'@font-face {{ font-family: "{family}"; src: url("{path.as_uri()}"); font-weight: {weight}; }}'
            for family, files in [(FONT_FAMILY, FONT_FILES), *SCRIPT_FONT_FILES.items()]
            for weight, path in files.items()
        )
        self._common = [
            weasyprint.CSS(string=faces, font_config=self.font_config, url_fetcher=self.fetcher),
            weasyprint.CSS(filename=str(STYLESHEET), font_config=self.font_config, url_fetcher=self.fetcher),
        ]
        self._page_css: dict[tuple[float, float], weasyprint.CSS] = {}
        env = Environment(loader=FileSystemLoader(str(TEMPLATE_DIR)), autoescape=select_autoescape(default=True))
        self.document_template = env.get_template("badges/badges.html")
        self.sheets_template = env.get_template("badges/sheets.html")

    def stylesheets(self, width_mm: float, height_mm: float) -> list[weasyprint.CSS]:
        size = (width_mm, height_mm)
        if size not in self._page_css:
            self._page_css[size] = weasyprint.CSS(
                string=f"@page {{ size: {width_mm}mm {height_mm}mm; margin: 0; }}", font_config=self.font_config
            )
        return [*self._common, self._page_css[size]]

    def badge_context(self, badge: BadgeData, badge_format: BadgeFormat, *, with_qr: bool = False) -> dict:
        fits = FIT_WIDTHS[badge_format.name]
        texts = {"given": badge.first_name, "family": badge.last_name, "job": badge.job_title,
                 "organisation": badge.organisation, "band": badge.category_label}
        look = {part: fit_font_size(self.metrics, texts[part], WEIGHTS[part], *fits[part]) for part in fits}
        look["band_colour"], look["band_ink"] = band_colours(badge.category_colour)
        look["dir"] = {part: text_direction(texts[part]) for part in ("given", "family", "job", "organisation")}
        return {"badge": badge, "look": look, "qr_svg": qr_svg(badge.checkin_code) if with_qr else ""}

    def _write_pdf(self, html: str, width_mm: float, height_mm: float) -> bytes:
        document = weasyprint.HTML(string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=self.fetcher)
        return document.write_pdf(
            stylesheets=self.stylesheets(width_mm, height_mm), font_config=self.font_config,
        )

    def render_pages(self, badges: Sequence[BadgeData], badge_format: BadgeFormat, parts: str) -> bytes:
        """One document, one page per badge, drawing `parts`: "background" or "foreground" (see _badge.html)."""
        html = self.document_template.render(
            items=[self.badge_context(badge, badge_format) for badge in badges], fmt=badge_format, parts=parts,
            locale=badges[0].locale,
        )
        return self._write_pdf(html, badge_format.width, badge_format.height)

    def render_foregrounds(self, badges: Sequence[BadgeData], badge_format: BadgeFormat) -> list[Fragment]:
        """The badges' own parts (names, organisation, round tables, QR code) as fragments."""
        pdf = self.render_pages(badges, badge_format, "foreground")
        return page_fragments(pdf, [qr_operations(badge.checkin_code, badge_format) for badge in badges])

    def render_background(self, badge: BadgeData, badge_format: BadgeFormat) -> Fragment:
        """What badges of one event and category share (event title and date, category band)."""
        return page_fragments(self.render_pages([badge], badge_format, "background"))[0]

    def render_sheets(self, badges: Sequence[BadgeData], layout: Layout) -> bytes:
        items = [self.badge_context(badge, layout.badge, with_qr=True) for badge in badges]
        sheets = [
            list(zip(layout.slots, items[start:start + layout.per_sheet], strict=False))
            for start in range(0, len(items), layout.per_sheet)
        ]
        html = self.sheets_template.render(sheets=sheets, layout=layout, title="Badges",
                                           locale=badges[0].locale if badges else "fr")
        return self._write_pdf(html, layout.sheet_width, layout.sheet_height)


_renderer: _ProcessRenderer | None = None


def process_renderer() -> _ProcessRenderer:
    """This process's renderer, made on first use (each worker process makes its own)."""
    global _renderer
    if _renderer is None:
        _renderer = _ProcessRenderer()
    return _renderer


def render_single_document(badges: Sequence[BadgeData], layout: str | Layout = "a4-4") -> bytes:
    """The whole set as one WeasyPrint document, sheet by sheet, QR codes as SVG, no cache, one process.

    The straightforward way, and the reference that bench/badges.py measures `render_badges` against.
    """
    layout = get_layout(layout) if isinstance(layout, str) else layout
    return process_renderer().render_sheets(badges, layout)
