"""Make the badge fonts that no Python package ships: static/badges/fonts/.

Needs the Debian packages fonts-noto-core (Noto Sans Hebrew) and fonts-noto-cjk (Noto Sans CJK), and
fontTools (a WeasyPrint dependency). Run from the repository root:

    apt-get install fonts-noto-core fonts-noto-cjk
    .venv/bin/python scripts/subset_badge_fonts.py

Noto Sans Hebrew is copied whole (it is small). Noto Sans CJK SC, regular and bold, is cut down to the
characters listed by `cjk_characters` (see README.md, "Badges"): the full fonts weigh 20 MB each.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

NOTO_CORE = Path("/usr/share/fonts/truetype/noto")
NOTO_CJK = Path("/usr/share/fonts/opentype/noto")
OUTPUT = Path(__file__).resolve().parent.parent / "static" / "badges" / "fonts"
CJK_FACE = "Noto Sans CJK SC"  # one face of the collection: Simplified Chinese glyph forms for the shared Han
HEBREW = ("NotoSansHebrew-Regular.ttf", "NotoSansHebrew-Bold.ttf")
CJK = {"NotoSansCJK-Regular.ttc": "NotoSansCJKsc-Badge-Regular.otf",
       "NotoSansCJK-Bold.ttc": "NotoSansCJKsc-Badge-Bold.otf"}


def _double_byte_block(codec: str, first_lead: int, last_lead: int, last_trail: int = 0xFE) -> set[str]:
    """The characters a double-byte (EUC) codec maps from rows `first_lead`..`last_lead`, cells A1..FE."""
    characters = set()
    for lead in range(first_lead, last_lead + 1):
        for trail in range(0xA1, (last_trail if lead == last_lead else 0xFE) + 1):
            try:
                characters.add(bytes((lead, trail)).decode(codec))
            except UnicodeDecodeError:
                continue
    return characters


def cjk_characters() -> set[str]:
    """What the CJK subset covers: see the README's list."""
    characters = set()
    characters |= _double_byte_block("gb2312", 0xB0, 0xD7, 0xF9)  # GB 2312 level 1: 3,755 common hanzi
    characters |= _double_byte_block("euc_jp", 0xB0, 0xCF, 0xD3)  # JIS X 0208 level 1: 2,965 kanji
    characters |= _double_byte_block("euc_kr", 0xB0, 0xC8)  # KS X 1001: the 2,350 precomposed Hangul
    ranges = [
        (0x20, 0x7E),  # ASCII
        (0x3000, 0x303F),  # CJK symbols and punctuation
        (0x3040, 0x309F),  # Hiragana
        (0x30A0, 0x30FF),  # Katakana
        (0x31F0, 0x31FF),  # Katakana phonetic extensions
        (0x3130, 0x318F),  # Hangul compatibility jamo
        (0xFF01, 0xFF60),  # fullwidth ASCII forms and brackets
        (0xFF61, 0xFF9F),  # halfwidth CJK punctuation and Katakana
    ]
    for first, last in ranges:
        characters |= {chr(code) for code in range(first, last + 1)}
    return characters


def subset_cjk(source: Path, target: Path, characters: set[str]) -> None:
    collection = TTCollection(source, recalcTimestamp=False)  # the same bytes each run: no cache invalidated
    font = next(face for face in collection.fonts if face["name"].getDebugName(1) == CJK_FACE)
    options = subset.Options()
    options.layout_features = ["kern", "palt", "halt"]  # no locl/vert closure: it would pull in other glyphs
    options.hinting = False  # printed at 300 dpi and more; hints only add bytes
    options.name_IDs = ["*"]  # keep copyright, licence and names
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes={ord(char) for char in characters})
    subsetter.subset(font)
    font.save(target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    for name in HEBREW:
        shutil.copyfile(NOTO_CORE / name, args.output / name)
    characters = cjk_characters()
    for source, target in CJK.items():
        subset_cjk(NOTO_CJK / source, args.output / target, characters)
    for path in sorted(args.output.iterdir()):
        print(f"{path.name}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
