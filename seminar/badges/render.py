"""Badges as print-ready PDF: a pure renderer (registrations in, PDF bytes out; it writes no database row).

The pipeline:

1. `badge_data(registration)` gathers everything printed on a badge into a plain, picklable `BadgeData`
   (it needs an app context for the check-in code's secret and the translations);
2. each badge is rendered by WeasyPrint as a one-page PDF of the badge's own size. The HTML template,
   the stylesheets and the fonts are parsed once per process (`_ProcessRenderer`), badges are rendered in
   chunks by worker processes across the cores, and each rendered badge is cached on disk under a hash
   of its `BadgeData`, its format and the design (templates, CSS, fonts, WeasyPrint version), so that a
   second export re-renders only the badges that changed;
3. `seminar.badges.impose` places the badge pages on the sheets of the layout, with crop marks.

WeasyPrint fetches only the project's static files, the font package's files and `data:` URLs
(`StaticFilesFetcher`); names go through Jinja's HTML escaping, and style values are computed numbers or
validated colours, never text people typed.
"""

from __future__ import annotations

import base64
import ctypes.util
import hashlib
import json
import logging
import math
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import font_roboto
import segno
import weasyprint
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from seminar import resource_dir
from seminar.badges.layouts import MM_TO_PT, BadgeFormat, Layout, Slot, get_layout
from seminar.badges.pdf import MAGIC, Fragment, impose, page_fragments
from seminar.badges.pool import process_pool

log = logging.getLogger(__name__)
# Without HarfBuzz-Subset, WeasyPrint subsets fonts with fontTools, which logs a dozen INFO lines per badge:
# in a worker logging at INFO that drowned everything else (and filled a test's unread pipe until it hung).
logging.getLogger("fontTools").setLevel(logging.WARNING)

# Raise to invalidate every cached badge when the rendering changes in a way the hashed files do not show.
RENDER_VERSION = 1
FONT_FAMILY = "Badge Sans"
# Roboto (Apache License 2.0) from the font-roboto package: Latin, Greek and Cyrillic.
FONT_DIR = (Path(font_roboto.__file__).parent / "files").resolve()
FONT_FILES = {400: FONT_DIR / "Roboto-Regular.ttf", 700: FONT_DIR / "Roboto-Bold.ttf"}
STATIC_DIR = resource_dir("static").resolve()
TEMPLATE_DIR = resource_dir("templates").resolve()
STYLESHEET = STATIC_DIR / "badges" / "badge.css"
DESIGN_FILES = (TEMPLATE_DIR / "badges" / "_badge.html", TEMPLATE_DIR / "badges" / "badges.html", STYLESHEET,
                Path(__file__).with_name("pdf.py"))

# Below this many badges to render, worker processes cost more than they save.
PARALLEL_THRESHOLD = 24
MIN_CHUNK, MAX_CHUNK = 8, 30
QR_BORDER = 2  # quiet zone, in modules, inside the QR square
DEFAULT_CATEGORY_COLOUR = "#555555"
COLOUR_PATTERN = re.compile(r"#[0-9a-fA-F]{6}")

# Font sizes in points (largest, smallest) and the width in mm they must fit in, per badge format.
# The widths mirror the boxes of static/badges/badge.css.
FIT_WIDTHS = {
    "a6": {"given": (32, 15, 91), "family": (19, 11, 91), "organisation": (11, 7.5, 91), "band": (11, 7, 91)},
    "a7": {"given": (22, 11, 66), "family": (13, 8, 66), "organisation": (8.5, 6.2, 66), "band": (8.5, 6, 93)},
    "card-90x54": {
        "given": (18, 9, 59.5), "family": (11, 7, 59.5), "organisation": (7.2, 5.5, 59.5), "band": (7.5, 5.5, 81),
    },
}
WEIGHTS = {"given": 700, "family": 400, "organisation": 400, "band": 700}

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class RoundTable:
    time: str
    title: str


@dataclass(frozen=True)
class BadgeData:
    """Everything a badge shows, as plain text: what the cache key is computed from."""

    registration_id: int
    locale: str
    event_title: str
    event_date: str
    first_name: str
    last_name: str
    organisation: str
    category_label: str
    category_colour: str
    checkin_code: str
    round_tables_heading: str = ""
    round_tables: tuple[RoundTable, ...] = field(default_factory=tuple)
    organiser_logo: str = ""  # a data: URL, or empty

    def cache_key(self, badge_format: BadgeFormat) -> str:
        """The hash of everything on this badge, its format and the design: its name in the cache."""
        return _digest("badge", asdict(self), badge_format.name)

    def background_key(self, badge_format: BadgeFormat) -> str:
        """The hash of the part badges share: event, category, language, format and design."""
        return _digest("background", [self.locale, self.event_title, self.event_date, self.category_label,
                                      self.category_colour, self.organiser_logo], badge_format.name)


def _digest(*parts) -> str:
    payload = json.dumps([*parts, design_fingerprint()], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


_design_fingerprint: str | None = None


def design_fingerprint() -> str:
    """A hash of what shapes every badge: templates, CSS, fonts, WeasyPrint's version, RENDER_VERSION."""
    global _design_fingerprint
    if _design_fingerprint is None:
        digest = hashlib.sha256(f"{RENDER_VERSION}:{weasyprint.__version__}".encode())
        for path in (*DESIGN_FILES, *FONT_FILES.values()):
            digest.update(path.name.encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        _design_fingerprint = digest.hexdigest()
    return _design_fingerprint


# --- Loading resources -----------------------------------------------------------------------------------


class ResourceRefused(ValueError):
    """A badge asked for something other than the project's static files or inlined data."""


class StaticFilesFetcher(URLFetcher):
    """Serves `data:` URLs and files under static/ (and the font package); refuses everything else,
    in particular `file:` paths elsewhere and every network URL."""

    def __init__(self, roots: Iterable[Path] = (STATIC_DIR, FONT_DIR)):
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
    """Advance widths of the badge font, to pick the largest size at which a line fits its box."""

    def __init__(self):
        from fontTools.ttLib import TTFont

        self.advances: dict[int, dict[int, float]] = {}
        for weight, path in FONT_FILES.items():
            font = TTFont(path, lazy=True)
            units = font["head"].unitsPerEm
            metrics = font["hmtx"].metrics
            self.advances[weight] = {
                codepoint: metrics[glyph][0] / units for codepoint, glyph in font.getBestCmap().items()
            }
            font.close()

    def width_em(self, text: str, weight: int) -> float:
        advances = self.advances[weight]
        return sum(advances.get(ord(char), 0.6) for char in text)


def fit_font_size(metrics: _FontMetrics, text: str, weight: int, largest: float, smallest: float,
                  width_mm: float) -> float:
    """The largest size (pt, to 0.25) at which `text` fits on one line; the smallest one if it must wrap."""
    width_em = metrics.width_em(text, weight)
    if width_em <= 0:
        return largest
    fitting = width_mm * 72 / 25.4 / width_em * 0.97  # a little room for kerning and rounding
    return max(smallest, min(largest, math.floor(fitting * 4) / 4))


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


def qr_svg(code: str) -> Markup:
    """The QR code of a check-in code as inline SVG: one path, a quiet zone of 2 modules."""
    svg = segno.make(code, error="m", micro=False).svg_inline(scale=1, border=2, omitsize=True, dark="#000")
    return Markup(svg)  # noqa: S704  (made by segno from the signed code: letters, digits and '-')


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
            f'@font-face {{ font-family: "{FONT_FAMILY}"; src: url("{path.as_uri()}"); font-weight: {weight}; }}'
            for weight, path in FONT_FILES.items()
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
        texts = {"given": badge.first_name, "family": badge.last_name, "organisation": badge.organisation,
                 "band": badge.category_label}
        look = {part: fit_font_size(self.metrics, texts[part], WEIGHTS[part], *fits[part]) for part in fits}
        look["band_colour"], look["band_ink"] = band_colours(badge.category_colour)
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


def _process_renderer() -> _ProcessRenderer:
    global _renderer
    if _renderer is None:
        _renderer = _ProcessRenderer()
    return _renderer


def render_badge_pdf(badge: BadgeData, badge_format: BadgeFormat | str = "a6", *,
                     cache_dir: str | os.PathLike | None = None) -> bytes:
    """One badge alone on a page of its own size (a reprint at the desk, a registrant's own badge)."""
    if isinstance(badge_format, str):
        badge_format = get_layout(badge_format).badge
    page = Layout(badge_format.name, badge_format, badge_format.width, badge_format.height, (Slot(0, 0),))
    return render_badges([badge], page, cache_dir=cache_dir, workers=1)


def render_single_document(badges: Sequence[BadgeData], layout: str | Layout = "a4-4") -> bytes:
    """The whole set as one WeasyPrint document, sheet by sheet, QR codes as SVG, no cache, one process.

    The straightforward way, and the reference that bench/badges.py measures `render_badges` against.
    """
    layout = get_layout(layout) if isinstance(layout, str) else layout
    return _process_renderer().render_sheets(badges, layout)


def _render_chunk(badges: list[BadgeData], badge_format: BadgeFormat) -> list[bytes]:
    """Worker-process entry point: a chunk of badges, with this process's parsed resources."""
    return [fragment.to_bytes() for fragment in _process_renderer().render_foregrounds(badges, badge_format)]


def _warm_up() -> None:
    _process_renderer()


class BadgeCache:
    """Rendered badge parts on disk, one file per content hash; written atomically, safe to share."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)

    def path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.frag"

    def get(self, key: str) -> bytes | None:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            return None

    def __contains__(self, key: str) -> bool:
        """Whether the part is here; an export asks before using it, which marks it used now (see `prune`)."""
        try:
            os.utime(self.path(key))
        except FileNotFoundError:
            return False
        return True

    def put(self, key: str, data: bytes) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as handle:
            handle.write(data)
        os.replace(handle.name, path)

    def prune(self, unused_since: float) -> int:
        """Delete the parts (and left-over temporary files) last used before `unused_since` (a timestamp);
        returns how many files went. An export under way has just marked the parts it uses."""
        removed = 0
        for path in [*self.directory.glob("*/*.frag"), *self.directory.glob("*/.tmp-*")]:
            try:
                if path.stat().st_mtime < unused_since:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:  # another clean-up took it
                continue
        return removed


class _MemoryCache(BadgeCache):
    def __init__(self):
        self.entries: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.entries.get(key)

    def __contains__(self, key: str) -> bool:
        return key in self.entries

    def put(self, key: str, data: bytes) -> None:
        self.entries[key] = data


def _chunks(items: list, size: int) -> list[list]:
    return [items[start:start + size] for start in range(0, len(items), size)]


def _render_foregrounds(badges: list[BadgeData], badge_format: BadgeFormat, *, workers: int,
                        on_rendered: Callable[[list[BadgeData], list[bytes]], None]) -> None:
    if workers <= 1 or len(badges) < PARALLEL_THRESHOLD:
        for chunk in _chunks(badges, MAX_CHUNK):
            on_rendered(chunk, _render_chunk(chunk, badge_format))
        return
    # Chunks share one WeasyPrint document (and font subset); small enough to keep both workers busy
    # and the progress bar moving. Workers start with this module already imported.
    size = max(MIN_CHUNK, min(MAX_CHUNK, math.ceil(len(badges) / (workers * 3))))
    with process_pool(workers, preload=[__name__], initializer=_warm_up) as pool:
        futures = {pool.submit(_render_chunk, chunk, badge_format): chunk for chunk in _chunks(badges, size)}
        for future in as_completed(futures):
            on_rendered(futures[future], future.result())


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover  (not Linux)
        return max(1, os.cpu_count() or 1)


def render_badges(
    badges: Sequence[BadgeData],
    layout: str | Layout = "a4-4",
    *,
    cache_dir: str | os.PathLike | None = None,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> bytes:
    """The badges on the sheets of `layout`, in order, as PDF bytes.

    Badges found in `cache_dir` are not rendered again; the others are rendered in chunks across
    `workers` processes (default: every core) and stored there. `progress(done, total)` is called as
    badges are ready. Identical badges are rendered once.
    """
    layout = get_layout(layout) if isinstance(layout, str) else layout
    badge_format = layout.badge
    cache = BadgeCache(cache_dir) if cache_dir is not None else _MemoryCache()
    keys = [badge.cache_key(badge_format) for badge in badges]
    counts = Counter(keys)
    missing = {key: badge for key, badge in zip(keys, badges, strict=True) if key not in cache}
    total = len(badges)
    done = sum(count for key, count in counts.items() if key not in missing)
    if progress:
        progress(done, total)

    def on_rendered(chunk: list[BadgeData], fragments: list[bytes]) -> None:
        nonlocal done
        for badge, fragment in zip(chunk, fragments, strict=True):
            key = badge.cache_key(badge_format)
            cache.put(key, badge.background_key(badge_format).encode() + fragment)
            done += counts[key]
        if progress:
            progress(done, total)

    if missing:
        _render_foregrounds(list(missing.values()), badge_format, workers=workers or default_workers(),
                            on_rendered=on_rendered)
    _render_backgrounds(badges, badge_format, cache)

    def load(key: str) -> Fragment:
        entry = cache.get(key)
        if entry is None:  # removed while we were working (a cache clean-up): too late to render it again
            raise RuntimeError(f"badge {key} vanished from the cache during the export")
        # A badge entry starts with the key of its background (64 hex digits); a background has none.
        return Fragment.from_bytes(entry[64:] if entry[:4] != MAGIC else entry)

    layers = [[badge.background_key(badge_format), key] for badge, key in zip(badges, keys, strict=True)]
    return impose(layers, layout, load)


def _render_backgrounds(badges: Sequence[BadgeData], badge_format: BadgeFormat, cache: BadgeCache) -> None:
    """Renders the shared backgrounds the cache lacks (a handful per event), here in this process."""
    for badge in {badge.background_key(badge_format): badge for badge in badges}.values():
        key = badge.background_key(badge_format)
        if key not in cache:
            cache.put(key, _process_renderer().render_background(badge, badge_format).to_bytes())


# --- From the database --------------------------------------------------------------------------------


def badge_data(registration, *, locale: str | None = None) -> BadgeData:
    """Everything `registration`'s badge shows (needs an app context: secret key and translations).

    The round tables are those in which the registrant holds a confirmed seat.
    """
    from flask import current_app
    from flask_babel import force_locale, gettext

    from seminar.badges.codes import make_checkin_code
    from seminar.events.models import SessionKind
    from seminar.formatting import local_date, local_time
    from seminar.registration.models import SeatStatus

    locale = locale or current_app.config.get("BABEL_DEFAULT_LOCALE", "fr")
    event = registration.event
    seats = [
        seat for seat in registration.seats
        if seat.status is SeatStatus.confirmed and seat.session.kind is SessionKind.round_table
    ]
    seats.sort(key=lambda seat: (seat.session.starts_at, seat.session.position))
    tables = tuple(
        RoundTable(local_time(seat.session.starts_at, event.timezone, locale), seat.session.text("title", locale))
        for seat in seats
    )
    category = registration.category
    with force_locale(locale):
        heading = gettext("Round tables") if tables else ""
    return BadgeData(
        registration_id=registration.id,
        locale=locale,
        event_title=event.text("title", locale),
        event_date=local_date(event.starts_at, event.timezone, "long", locale),
        first_name=registration.first_name.strip(),
        last_name=registration.last_name.strip(),
        organisation=(registration.organisation or "").strip(),
        category_label=category.label_for(locale) if category else "",
        category_colour=category.colour if category else DEFAULT_CATEGORY_COLOUR,
        checkin_code=make_checkin_code(registration),
        round_tables_heading=heading,
        round_tables=tables,
        organiser_logo=_logo_url(event),
    )


def _logo_url(event) -> str:
    """The organiser's logo as a data: URL (badges load nothing from the network), made once per event."""
    if not event.organiser_logo_mimetype:
        return ""
    cached = _LOGO_URLS.get(event.id)
    if cached is None or cached[0] != event.updated_at:
        encoded = base64.b64encode(event.organiser_logo or b"").decode("ascii")
        cached = _LOGO_URLS[event.id] = (event.updated_at, f"data:{event.organiser_logo_mimetype};base64,{encoded}")
    return cached[1]


_LOGO_URLS: dict[int, tuple] = {}
