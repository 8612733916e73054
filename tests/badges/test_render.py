"""The pure renderer: layouts (page count, page size, badge positions), glyphs, QR codes, safety, cache."""

from __future__ import annotations

import math
from io import BytesIO

import pytest
import zxingcpp
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from seminar.badges import render
from seminar.badges.codes import make_code_for_id, verify_checkin_code
from seminar.badges.data import BadgeData, RoundTable
from seminar.badges.layouts import LAYOUTS, MM_TO_PT
from seminar.badges.pool import PARALLEL_THRESHOLD, render_badges
from seminar.badges.render import ResourceRefused, StaticFilesFetcher
from tests.badges.conftest import PEOPLE, pdf_text, rasterise, text_boxes

SECRET = "renderer-test-secret"


def make_badge(number: int, first_name: str = "Camille", last_name: str = "Durand", organisation: str = "Inserm",
               **overrides) -> BadgeData:
    values = dict(
        registration_id=number, locale="fr", event_title="20 ans des cancéropôles : bilan, enjeux, perspectives",
        event_date="28 novembre 2023", first_name=first_name, last_name=last_name, organisation=organisation,
        category_label="Cancéropôle", category_colour="#1d4e89",
        checkin_code=make_code_for_id(number, secret_key=SECRET), round_tables_heading="Tables rondes",
        round_tables=(RoundTable("14:00", "Table ronde 1 : optimiser l'impact des actions structurantes"),),
    )
    values.update(overrides)
    return BadgeData(**values)


def numbered(count: int) -> list[BadgeData]:
    return [make_badge(n, first_name=f"Prénom{n}", last_name=f"Nom{n}") for n in range(1, count + 1)]


@pytest.mark.parametrize(("layout", "per_sheet", "size_mm"), [
    ("a6", 1, (105, 148)), ("a4-4", 4, (210, 297)), ("a4-8", 8, (210, 297)), ("label-90x54", 10, (210, 297)),
])
def test_layout_page_count_and_size_per_layout(layout, per_sheet, size_mm):
    count = 11
    reader = PdfReader(BytesIO(render_badges(numbered(count), layout, workers=1)))
    assert len(reader.pages) == math.ceil(count / per_sheet)
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert width == pytest.approx(size_mm[0] * MM_TO_PT, abs=0.01)
        assert height == pytest.approx(size_mm[1] * MM_TO_PT, abs=0.01)


# Slot origins (mm from the sheet's top left), written out by hand from the layouts' definitions.
EXPECTED_SLOTS = {
    "a4-4": [(0, 0.5), (105, 0.5), (0, 148.5), (105, 148.5)],
    "a4-8": [(0, 0.5), (105, 0.5), (0, 74.5), (105, 74.5), (0, 148.5), (105, 148.5), (0, 222.5), (105, 222.5)],
    "label-90x54": [(15 + 90 * column, 13.5 + 54 * row) for row in range(5) for column in range(2)],
}
# Where the given name starts inside a badge (the badge's left padding), per badge format.
NAME_LEFT = {"a4-4": 7, "a4-8": 6, "label-90x54": 4.5}


@pytest.mark.parametrize("layout", list(EXPECTED_SLOTS))
def test_layout_places_each_badge_in_its_slot(layout):
    slots = EXPECTED_SLOTS[layout]
    badges = numbered(len(slots))
    assert [(slot.x, slot.y) for slot in LAYOUTS[layout].slots] == slots
    boxes = text_boxes(render_badges(badges, layout, workers=1))
    width, height = LAYOUTS[layout].badge.width, LAYOUTS[layout].badge.height
    for badge, (left, top) in zip(badges, slots, strict=True):
        (page, _, (x0, y0, x1, y1)), = [box for box in boxes if box[1] == badge.first_name]
        assert page == 1
        assert x0 == pytest.approx(left + NAME_LEFT[layout], abs=0.6)
        assert left <= x0 < x1 <= left + width and top <= y0 < y1 <= top + height


def test_layout_a4_4_has_crop_marks_on_the_cut_lines():
    import re

    reader = PdfReader(BytesIO(render_badges(numbered(4), "a4-4", workers=1)))
    content = reader.pages[0].get_contents().get_data().decode()
    lines = {
        tuple(round(float(value) / MM_TO_PT, 1) for value in match)
        for match in re.findall(r"([\d.]+) ([\d.]+) m ([\d.]+) ([\d.]+) l S", content)
    }
    # (x1, y1, x2, y2) in mm from the bottom left: the middle cuts, at each edge of the sheet.
    assert {(105.0, 297.0, 105.0, 291.0), (105.0, 6.0, 105.0, 0.0), (0.0, 148.5, 6.0, 148.5),
            (204.0, 148.5, 210.0, 148.5)} <= lines


def test_pdf_text_holds_accented_greek_and_cyrillic_names():
    badges = [make_badge(n, first, last, organisation) for n, (first, last, organisation) in
              enumerate(PEOPLE, start=1)]
    pdf = render_badges(badges, "a4-4", workers=1)
    text = pdf_text(pdf)
    for first, last, organisation in PEOPLE:
        assert first in text and last in text and organisation in text
    # Every character has a glyph in the shipped font (no .notdef box), and only that font is embedded.
    for weight, path in render.FONT_FILES.items():
        cmap = TTFont(path).getBestCmap()
        missing = {char for person in PEOPLE for char in "".join(person) if char != " " and ord(char) not in cmap}
        assert not missing, f"Roboto {weight} lacks {missing}"
    # Only the badge font (Roboto, declared as "Badge Sans") is embedded: no fallback from the host.
    fonts = {font for page in PdfReader(BytesIO(pdf)).pages for font in _base_fonts(page)}
    assert fonts and all(font.split("+")[-1].startswith("Badge-Sans") for font in fonts)


def _base_fonts(page) -> set[str]:
    found = set()
    for xobject in page["/Resources"]["/XObject"].values():
        for font in xobject.get_object()["/Resources"].get("/Font", {}).values():
            found.add(str(font.get_object()["/BaseFont"]))
    return found


def test_long_names_shrink_and_stay_inside_the_badge():
    long_badge = make_badge(
        1, "Maria-Magdalena Alexandrina Konstantinopolitanische", "von Hohenzollern-Sigmaringen-Wittelsbach "
        "de la Tour d'Auvergne", "Établissement français du sang, Centre de lutte contre le cancer Léon-Bérard, "
        "Université Claude Bernard Lyon 1, Hospices civils de Lyon",
    )
    short_badge = make_badge(2, "Li", "Wu")
    for layout, slots in EXPECTED_SLOTS.items():
        fmt = LAYOUTS[layout].badge
        renderer = render.process_renderer()
        assert renderer.badge_context(long_badge, fmt)["look"]["given"] < \
            renderer.badge_context(short_badge, fmt)["look"]["given"]
        boxes = text_boxes(render_badges([long_badge], layout, workers=1))
        left, top = slots[0]
        for _, text, (x0, y0, x1, y1) in boxes:
            assert left - 0.1 <= x0 and x1 <= left + fmt.width + 0.1, (layout, text)
            assert top - 0.1 <= y0 and y1 <= top + fmt.height + 0.1, (layout, text)


def test_qr_code_decodes_to_a_code_the_checkin_verifies(tmp_path):
    badge = make_badge(42)
    # The same content, drawn directly by segno ...
    import segno

    segno.make(badge.checkin_code, error="m").save(tmp_path / "qr.png", scale=8, border=4)
    from PIL import Image

    (direct,) = zxingcpp.read_barcodes(Image.open(tmp_path / "qr.png"))
    assert direct.text == badge.checkin_code
    # ... and end to end, from the printed badge.
    pdf = render_badges([badge], "a6", workers=1)
    decoded = [result.text for result in zxingcpp.read_barcodes(rasterise(pdf, tmp_path))]
    assert decoded == [badge.checkin_code]
    assert verify_checkin_code(decoded[0], secret_key=SECRET) == 42


@pytest.mark.parametrize("layout", ["a4-8", "label-90x54"])
def test_qr_codes_decode_on_small_layouts(tmp_path, layout):
    badges = numbered(2)
    image = rasterise(render_badges(badges, layout, workers=1), tmp_path, dpi=300)
    decoded = sorted(result.text for result in zxingcpp.read_barcodes(image))
    assert decoded == sorted(badge.checkin_code for badge in badges)


def test_url_fetcher_refuses_files_outside_static_and_network_urls():
    fetcher = StaticFilesFetcher()
    for url in ("file:///etc/passwd", f"{render.STATIC_DIR.as_uri()}/../../../../etc/passwd",
                "http://example.org/logo.png", "https://127.0.0.1/x.css", "ftp://example.org/x"):
        with pytest.raises(ResourceRefused):
            fetcher.fetch(url)
    assert fetcher.fetch((render.STATIC_DIR / "badges" / "badge.css").as_uri()).read().startswith(b"/*")
    assert fetcher.fetch("data:text/plain,hello").read() == b"hello"


def test_url_fetcher_blocks_an_image_in_raw_html():
    import weasyprint

    pdf = weasyprint.HTML(string='<p>x</p><img src="file:///etc/passwd"><img src="http://127.0.0.1:9/x.png">',
                          url_fetcher=StaticFilesFetcher()).write_pdf()
    assert b"/Image" not in pdf and b"root:" not in pdf


def test_name_with_html_and_css_is_printed_as_text():
    name = '<img src="file:///etc/passwd"><style>*{color:red}</style>'
    pdf = render_badges([make_badge(1, name, "Durand</p>", "<b>Org</b>")], "a6", workers=1)
    text = pdf_text(pdf).replace("\n", "")
    assert '<img src="file:///etc/passwd">' in text
    assert "<style>" in text and "Durand</p>" in text and "<b>Org</b>" in text
    assert b"/Image" not in pdf and b"root:" not in pdf


def test_category_colour_that_is_not_a_colour_is_replaced():
    assert render.band_colours("red;} body{display:none") == ("#555555", "#ffffff")
    assert render.band_colours("#FFEE00")[1] == "#111111"


def test_cache_second_export_renders_only_changed_badges(tmp_path):
    cache = tmp_path / "cache"
    badges = numbered(6)
    first = render_badges(badges, "a4-4", cache_dir=cache, workers=1)
    # A part written again is a new file (written aside, then renamed over): its inode changes. (Its time does
    # not tell: an export marks each part it finds as used, see BadgeCache.prune.)
    entries = {path: path.stat().st_ino for path in cache.rglob("*.frag")}
    assert len(entries) == 6 + 1  # six badges and the background they share
    changed = [*badges[:5], make_badge(6, first_name="Prénom6", last_name="Renamed")]
    calls = []
    second = render_badges(changed, "a4-4", cache_dir=cache, workers=1, progress=lambda d, t: calls.append(d))
    after = {path: path.stat().st_ino for path in cache.rglob("*.frag")}
    assert len(after) == len(entries) + 1
    assert all(after[path] == inode for path, inode in entries.items())
    assert calls[0] == 5 and calls[-1] == 6  # five found in the cache, one rendered
    assert "Renamed" in pdf_text(second) and "Renamed" not in pdf_text(first)


def test_parallel_rendering_matches_serial_rendering(tmp_path):
    badges = numbered(PARALLEL_THRESHOLD + 6)
    parallel = render_badges(badges, "a4-8", workers=2)
    serial = render_badges(badges, "a4-8", workers=1)
    assert pdf_text(parallel) == pdf_text(serial)
    assert len(PdfReader(BytesIO(parallel)).pages) == math.ceil(len(badges) / 8)
