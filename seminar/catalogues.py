"""Message catalogues, one per domain area: extract, update, compile, check.

    python -m seminar.catalogues update    # extract msgids and merge them into fr/en .po files
    python -m seminar.catalogues compile   # .po -> .mo (run by `make run` / `make test`)
    python -m seminar.catalogues check     # list untranslated French entries
    python -m seminar.catalogues fill AREA < fr.json   # set French msgstrs from {"msgid": "msgstr"|[sg, pl]}

Msgids are English; the French catalogue translates every entry, the English one may leave
msgstr empty (the msgid is shown).
"""

from __future__ import annotations

import sys
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "seminar"
TEMPLATES = ROOT / "templates"
LOCALES = ("fr", "en")
METHOD_MAP = [("**.py", "python"), ("**.html", "jinja2"), ("**.txt", "jinja2")]  # .txt: e-mails
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
            "pgettext": ((1, "c"), 2), "lazy_ngettext": (1, 2)}


def areas() -> dict[str, list[Path]]:
    """Each area's sources: its package and its template folder. The core area ('') takes the rest."""
    found: dict[str, list[Path]] = {}
    for package in sorted(p for p in PACKAGE.iterdir() if (p / "__init__.py").exists()):
        found[package.name] = [package, TEMPLATES / package.name]
    core_templates = [p for p in TEMPLATES.iterdir() if p.name not in found]
    found[""] = [p for p in PACKAGE.glob("*.py")] + core_templates
    return found


def translations_dir(area: str) -> Path:
    return (PACKAGE / area / "translations") if area else (PACKAGE / "translations")


def _extract(paths: list[Path]) -> Catalog:
    catalogue = Catalog(project="seminar", msgid_bugs_address=None)
    for path in paths:
        if path.is_dir():
            messages = extract_from_dir(str(path), METHOD_MAP, keywords=KEYWORDS, comment_tags=("NOTE:",))
            for filename, lineno, message, comments, context in messages:
                where = str((path / filename).relative_to(ROOT))
                catalogue.add(message, None, [(where, lineno)], auto_comments=comments, context=context)
        elif path.suffix in (".py", ".html"):
            method = "python" if path.suffix == ".py" else "jinja2"
            for lineno, message, comments, context in extract_from_file(
                method, str(path), keywords=KEYWORDS, comment_tags=("NOTE:",)
            ):
                catalogue.add(message, None, [(str(path.relative_to(ROOT)), lineno)],
                              auto_comments=comments, context=context)
    return catalogue


def update() -> None:
    for area, paths in areas().items():
        template = _extract([p for p in paths if p.exists()])
        if not len(template):
            continue
        for locale in LOCALES:
            po_path = translations_dir(area) / locale / "LC_MESSAGES" / "messages.po"
            if po_path.exists():
                with po_path.open("rb") as f:
                    catalogue = read_po(f, locale=locale)
            else:
                po_path.parent.mkdir(parents=True, exist_ok=True)
                catalogue = Catalog(locale=locale, project="seminar")
            created = catalogue.creation_date
            catalogue.update(template, no_fuzzy_matching=True)
            catalogue.obsolete.clear()
            catalogue.creation_date = created  # keep files unchanged when no message changed
            buffer = BytesIO()
            write_po(buffer, catalogue, width=100, omit_header=False, sort_output=True, include_lineno=False)
            if not po_path.exists() or po_path.read_bytes() != buffer.getvalue():
                po_path.write_bytes(buffer.getvalue())


def compile_all() -> None:
    for po_path in PACKAGE.glob("**/translations/*/LC_MESSAGES/messages.po"):
        with po_path.open("rb") as f:
            catalogue = read_po(f)
        with po_path.with_suffix(".mo").open("wb") as f:
            write_mo(f, catalogue, use_fuzzy=False)


def untranslated(locale: str = "fr") -> list[tuple[str, str]]:
    """(catalogue, msgid) pairs with no translation (or a fuzzy one) in `locale`."""
    missing = []
    for po_path in sorted(PACKAGE.glob(f"**/translations/{locale}/LC_MESSAGES/messages.po")):
        with po_path.open("rb") as f:
            catalogue = read_po(f)
        for message in catalogue:
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if message.fuzzy or not all(strings):
                missing.append((str(po_path.relative_to(ROOT)), str(message.id)))
    return missing


def extracted_ids() -> set[str]:
    ids: set[str] = set()
    for paths in areas().values():
        for message in _extract([p for p in paths if p.exists()]):
            if message.id:
                ids.add(message.id if isinstance(message.id, str) else message.id[0])
    return ids


def fill(area: str, translations: dict, locale: str = "fr") -> int:
    """Set translations in an area's catalogue; plural msgids are keyed by their singular form."""
    po_path = translations_dir(area) / locale / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as f:
        catalogue = read_po(f, locale=locale)
    changed = 0
    for message in catalogue:
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        if key in translations:
            value = translations[key]
            if isinstance(message.id, tuple):
                forms = list(value)
                # Pad to the locale's plural count (CLDR gives French a third, "many", form).
                value = tuple(forms + forms[-1:] * (catalogue.num_plurals - len(forms)))
            message.string = value
            message.flags.discard("fuzzy")
            changed += 1
    buffer = BytesIO()
    write_po(buffer, catalogue, width=100, sort_output=True, include_lineno=False)
    po_path.write_bytes(buffer.getvalue())
    return changed


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "compile"
    if command == "update":
        update()
    elif command == "compile":
        compile_all()
    elif command == "fill":
        import json

        print(f"{fill(argv[2] if len(argv) > 2 else '', json.load(sys.stdin))} entries set")
    elif command == "check":
        missing = untranslated("fr")
        for where, msgid in missing:
            print(f"{where}: {msgid!r}")
        return 1 if missing else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
