"""Issue 17, every script on the badge: names in Latin, Greek, Cyrillic, Arabic, Hebrew, Devanagari, Chinese,
Japanese and Korean print with the shipped fonts (no .notdef box, no font of the machine), right-to-left
names right to left."""

from __future__ import annotations

import shutil
import subprocess
from io import BytesIO

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import ContentStream

from seminar.badges import render
from seminar.badges.layouts import LAYOUTS
from seminar.badges.pool import render_badges
from tests.badges.conftest import text_boxes
from tests.badges.test_render import make_badge

# (script, given name, family name, organisation)
NAMES = [
    ("Latin", "Élodie", "Lefèvre", "Université Paris Cité"),
    ("Greek", "Αλέξανδρος", "Παπαδόπουλος", "Πανεπιστήμιο Αθηνών"),
    ("Cyrillic", "Жанна", "Кузнецова", "Институт рака"),
    ("Arabic", "محمد", "العربي", "جامعة القاهرة"),
    ("Hebrew", "דוד", "כהן", "האוניברסיטה העברית"),
    ("Devanagari", "अनुष्का", "शर्मा", "दिल्ली"),
    ("Chinese", "王小明", "北京大学", "中国科学院"),
    ("Japanese", "山田 花子", "東京大学", "さくら病院"),
    ("Korean", "김민준", "서울대학교", "한국"),
]
# The PDF font of each family the badges declare (WeasyPrint names a font by family and weight).
OUR_FONTS = {name.replace(" ", "-") + suffix for name in (render.FONT_FAMILY, *render.SCRIPT_FONT_FILES)
             for suffix in ("", "-Bold")}
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e"))


@pytest.fixture(scope="module")
def pdf() -> bytes:
    """One A6 badge per script."""
    badges = [make_badge(number, given, family, organisation)
              for number, (_, given, family, organisation) in enumerate(NAMES, start=1)]
    return render_badges(badges, "a6", workers=1)


def _forms(reader: PdfReader):
    """Every Form XObject of every page, nested ones included (each badge part is one)."""
    pending = [page for page in reader.pages]
    while pending:
        holder = pending.pop()
        for xobject in holder.get("/Resources", {}).get("/XObject", {}).values():
            xobject = xobject.get_object()
            if xobject.get("/Subtype") == "/Form":
                yield xobject
                pending.append(xobject)


def _shown_glyphs(reader: PdfReader) -> dict[str, list[int]]:
    """The glyph ids drawn with each font (by BaseFont, subset tag removed). The badge fonts are CID fonts
    with Identity-H encoding: two bytes per glyph, and glyph 0 is .notdef."""
    shown: dict[str, list[int]] = {}
    for form in _forms(reader):
        fonts = {str(key): str(font.get_object()["/BaseFont"]).split("+")[-1]
                 for key, font in form.get("/Resources", {}).get("/Font", {}).items()}
        current = None
        for operands, operator in ContentStream(form, reader).operations:
            if operator == b"Tf":
                current = fonts[str(operands[0])]
            elif operator in (b"Tj", b"TJ"):
                strings = operands[0] if operator == b"TJ" else [operands[0]]
                for string in strings:
                    if isinstance(string, bytes | str):  # not a TJ kerning number
                        raw = string if isinstance(string, bytes) else string.get_original_bytes()
                        shown.setdefault(current, []).extend(
                            int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2))
    return shown


def _pdftotext(pdf: bytes, tmp_path, *pages: int) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    source = tmp_path / "badges.pdf"
    source.write_bytes(pdf)
    options = ["-f", str(pages[0]), "-l", str(pages[-1])] if pages else []
    return subprocess.run(["pdftotext", *options, str(source), "-"], check=True, capture_output=True,
                          text=True).stdout.translate(BIDI_CONTROLS)


def test_badge_fonts_have_a_glyph_for_every_name():
    cmaps = [TTFont(path, lazy=True).getBestCmap() for path in render.font_files()]
    for script, *texts in NAMES:
        missing = {char for text in texts for char in text if char != " "
                   if not any(ord(char) in cmap for cmap in cmaps)}
        assert not missing, f"no shipped font draws {missing} ({script})"


def test_names_in_every_script_print_without_notdef_glyphs(pdf):
    shown = _shown_glyphs(PdfReader(BytesIO(pdf)))
    assert shown and all(glyphs for glyphs in shown.values())
    notdef = {font: glyphs.count(0) for font, glyphs in shown.items() if 0 in glyphs}
    assert not notdef, f".notdef glyphs drawn: {notdef}"


def test_names_in_every_script_use_only_the_shipped_fonts(pdf):
    fonts = set(_shown_glyphs(PdfReader(BytesIO(pdf))))
    # No fallback to the machine's fonts (DejaVu, its own Noto...): every font is one the badges declare,
    # and each script's Noto face is there, in both weights (given name bold, family name regular).
    assert fonts <= OUR_FONTS, fonts - OUR_FONTS
    assert fonts == OUR_FONTS


def test_names_in_every_script_come_back_from_the_pdf_text(pdf, tmp_path):
    # A .notdef glyph has no Unicode mapping: a name drawn with one would not come back. Arabic letters
    # are shaped into contextual forms that pdftotext sometimes splits with spaces, hence the comparison
    # without whitespace; the names come back in logical order only if they were drawn right to left.
    for page, (script, given, family, _) in enumerate(NAMES, start=1):
        text = _pdftotext(pdf, tmp_path, page)
        words = "".join(text.split())
        assert "".join(given.split()) in words and family in words, (script, text)


def test_right_to_left_names_are_laid_out_right_to_left(pdf, tmp_path):
    # pdftotext puts the glyphs back in reading order: drawn left to right, "האוניברסיטה העברית" would read
    # "העברית האוניברסיטה", and محمد would come back reversed.
    assert "האוניברסיטה העברית" in _pdftotext(pdf, tmp_path, 5)
    assert "محمد" in _pdftotext(pdf, tmp_path, 4)
    # Right-to-left paragraphs start at the right edge of the name box (A6: 7 mm to 98 mm), others at the left.
    # (pdfminer gives the characters in drawing order: the Hebrew line is found by its letters.)
    boxes = {text: (x0, x1) for _, text, (x0, _, x1, _) in text_boxes(pdf)}
    latin, hebrew = boxes["Élodie"], next(box for text, box in boxes.items() if set("האוניברסיטה") <= set(text))
    assert latin[0] == pytest.approx(7, abs=0.5) and latin[1] < 60
    assert hebrew[1] == pytest.approx(98, abs=0.5) and hebrew[0] > 40


def test_text_direction_follows_the_first_strong_character():
    assert render.text_direction("דוד כהן") == "rtl"
    assert render.text_direction("محمد العربي") == "rtl"
    assert render.text_direction("(2) מכון") == "rtl"
    assert render.text_direction("Élodie") == "auto"
    assert render.text_direction("IBM ישראל") == "auto"
    assert render.text_direction("") == "auto"


def _given_name_lines(badge) -> tuple[float, list[float]]:
    """The given name's font size and the width (mm) of each line WeasyPrint lays it out on, in an A6 badge."""
    import weasyprint

    renderer = render.process_renderer()
    badge_format = LAYOUTS["a6"].badge
    context = renderer.badge_context(badge, badge_format)
    html = renderer.document_template.render(items=[context], fmt=badge_format, parts="foreground", locale="fr")
    document = weasyprint.HTML(string=html, base_url=render.STATIC_DIR.as_uri() + "/", url_fetcher=renderer.fetcher)
    page = document.render(stylesheets=renderer.stylesheets(badge_format.width, badge_format.height),
                           font_config=renderer.font_config).pages[0]
    pending = [page._page_box]
    while pending:
        box = pending.pop()
        if box.element_tag == "p" and "badge-given" in (box.element.get("class") or ""):
            widths = [(max(text.position_x + text.width for text in line.children)
                       - min(text.position_x for text in line.children)) * 25.4 / 96 for line in box.children]
            return context["look"]["given"], widths
        pending.extend(getattr(box, "children", ()))
    raise AssertionError("no given name in the badge")


@pytest.mark.parametrize(("script", "given"), [(script, given) for script, given, *_ in NAMES])
def test_long_names_in_every_script_shrink_to_one_line(script, given):
    # The size comes from the metrics of the face that draws each character: a name too long for the largest
    # size gets the size at which it just holds on one line (metrics too small would make it wrap, metrics too
    # large, e.g. a guessed width per character, would leave it needlessly small).
    metrics = render.process_renderer().metrics
    largest, smallest, width_mm = render.FIT_WIDTHS["a6"]["given"]
    repeats = 1
    while metrics.width_em(" ".join([given] * repeats), render.WEIGHTS["given"]) * largest < width_mm * 72 / 25.4:
        repeats += 1
    size, widths = _given_name_lines(make_badge(1, " ".join([given] * repeats)))
    assert smallest < size < largest, script
    assert len(widths) == 1, (script, size)
    # Devanagari conjuncts (consonant, virama, consonant) shape narrower than the sum of their characters.
    fill = 0.75 if script == "Devanagari" else 0.85
    assert fill * width_mm < widths[0] <= width_mm, (script, size, widths)
