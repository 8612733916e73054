"""Programme code announces its changes (seminar.events.signals) and never calls up into the calendar or registration
areas, not even from inside a function; SEQUENCE is raised in one place."""

import ast
from pathlib import Path

import seminar.events

PROGRAMME = Path(seminar.events.__file__).parent / "programme.py"


def test_programme_imports_no_calendar_or_registration_code():
    tree = ast.parse(PROGRAMME.read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {name for name in imported if name and name.startswith(("seminar.ical", "seminar.registration"))}


def test_programme_raises_sequence_in_one_place():
    assert PROGRAMME.read_text().count("sequence += 1") == 1
