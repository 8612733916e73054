"""`pip install .` (not only -e) must give a package that serves its templates, static files,
migrations and compiled French catalogues."""

import subprocess
import sys
import zipfile


def test_wheel_contains_templates_static_migrations_and_compiled_catalogues(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), "."],
        check=True, capture_output=True,
    )
    (wheel,) = tmp_path.glob("seminar-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "seminar/templates/base.html",
        "seminar/templates/events/programme.html",
        "seminar/static/css/site.css",
        "seminar/migrations/env.py",
        "seminar/migrations/versions/0001_initial_schema.py",
        "seminar/translations/fr/LC_MESSAGES/messages.mo",
        "seminar/events/translations/fr/LC_MESSAGES/messages.mo",
        "seminar/registration/translations/fr/LC_MESSAGES/messages.mo",
    ):
        assert expected in names, expected
