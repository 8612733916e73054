"""Creating the app loads no output library: WeasyPrint, pypdf, segno, icalendar, openpyxl and Pillow are
imported by the code that writes a badge, a calendar, a spreadsheet or an image, when it first runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

OUTPUT_LIBRARIES = ("weasyprint", "pypdf", "segno", "icalendar", "openpyxl", "PIL")

CREATE_APP = f"""
import json, sys
from seminar import create_app
create_app()
print(json.dumps(sorted(name for name in {OUTPUT_LIBRARIES!r} if name in sys.modules)))
"""


def test_create_app_imports_no_output_library(tmp_path):
    env = {**os.environ, "SEMINAR_SECRET_KEY": "startup-test", "SEMINAR_INSTANCE_PATH": str(tmp_path),
           "SEMINAR_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/startup.sqlite"}
    env.pop("SEMINAR_RUN_WORKER", None)
    result = subprocess.run([sys.executable, "-c", CREATE_APP], cwd=Path(__file__).resolve().parents[1], env=env,
                            capture_output=True, text=True, check=True)
    assert json.loads(result.stdout.splitlines()[-1]) == []
