"""Both languages complete: every user-facing string (msgids are English) is in the catalogues and has a
French translation, none is fuzzy, one msgid reads the same in every area's catalogue, and compiled
catalogues come from the setup (`make catalogues`), not from the repository."""

from __future__ import annotations

import shutil
import subprocess
from collections import defaultdict

import pytest
from babel.messages.pofile import read_po

from seminar.catalogues import PACKAGE, ROOT, extracted_ids, untranslated


def _catalogues(locale: str):
    for po_path in sorted(PACKAGE.glob(f"**/translations/{locale}/LC_MESSAGES/messages.po")):
        with po_path.open("rb") as f:
            yield po_path.relative_to(ROOT), read_po(f, locale=locale)


def _key(message) -> str:
    return message.id[0] if isinstance(message.id, tuple) else message.id


def test_translations_every_extracted_string_is_in_a_french_catalogue():
    known = {_key(m) for _path, catalogue in _catalogues("fr") for m in catalogue if m.id}
    missing = sorted(extracted_ids() - known)
    assert not missing, ("strings marked for translation but absent from the catalogues "
                         f"(run `python -m seminar.catalogues update`, then fill the French): {missing}")


def test_translations_french_has_no_untranslated_or_fuzzy_entry():
    missing = untranslated("fr")
    assert not missing, "French entries without a translation (or fuzzy):\n" + "\n".join(
        f"{where}: {msgid!r}" for where, msgid in missing)


def test_translations_a_msgid_reads_the_same_in_every_catalogue():
    # Flask-Babel merges the areas' catalogues into one: when two areas translate a msgid differently, the
    # last area wins on every page, e.g. the back office's plural "Confirmées" on an attendee's own page.
    for locale in ("fr", "en"):
        readings: dict[tuple, dict[str, object]] = defaultdict(dict)
        for path, catalogue in _catalogues(locale):
            for message in catalogue:
                if message.id and message.string and not message.fuzzy:
                    readings[(message.id, message.context)][str(path.parts[1])] = message.string
        conflicts = {key[0]: areas for key, areas in readings.items() if len(set(map(str, areas.values()))) > 1}
        assert not conflicts, f"msgids translated differently across {locale} catalogues " \
                              "(align them, or give one a pgettext context):\n" + "\n".join(
            f"{msgid!r}: {areas}" for msgid, areas in sorted(conflicts.items(), key=lambda kv: str(kv[0])))


def test_translations_compiled_catalogues_are_not_committed():
    if not shutil.which("git") or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(["git", "ls-files", "*.mo"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert tracked.stdout.strip() == "", f".mo files are built by `make catalogues`, not committed:\n{tracked.stdout}"
