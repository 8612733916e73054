"""Compiles the message catalogues (.po → .mo) into the wheel, so `pip install .` serves both languages."""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CompileCatalogues(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version, build_data):
        root = Path(self.root)
        for po_path in root.glob("seminar/**/translations/*/LC_MESSAGES/messages.po"):
            mo_path = po_path.with_suffix(".mo")
            with po_path.open("rb") as po_file:
                catalogue = read_po(po_file)
            with mo_path.open("wb") as mo_file:
                write_mo(mo_file, catalogue)
            build_data["force_include"][str(mo_path)] = str(mo_path.relative_to(root))
