"""App start-up, in fresh interpreters: `create_app()` and `flask --app seminar --help`, against `import flask`
measured in the same run.

    python -m bench startup

Each figure is the median wall time of RUNS processes started one after the other (interpreter start-up
included). The baseline is a process that only imports Flask: what any Flask app pays before its own code.
Creating the app must not load an output library (WeasyPrint, pypdf, segno, icalendar, openpyxl, Pillow:
tests/test_startup.py checks it); the issue's target is `flask --help` under 0.7 s on the 2-core machine.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 7
ROOT = Path(__file__).resolve().parents[1]
FLASK = Path(sys.executable).with_name("flask")
COMMANDS = {
    "baseline": [sys.executable, "-c", "import flask"],
    "create_app()": [sys.executable, "-c", "from seminar import create_app; create_app()"],
    "flask --app seminar --help": [str(FLASK), "--app", "seminar", "--help"],
}


def median_seconds(command: list[str], env: dict[str, str], runs: int = RUNS) -> float:
    """The median wall time of `runs` processes running `command` (which must succeed)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as folder:
        env = {**os.environ, "SEMINAR_SECRET_KEY": "bench", "SEMINAR_INSTANCE_PATH": folder,
               "SEMINAR_SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite"}
        env.pop("SEMINAR_RUN_WORKER", None)
        return {name: median_seconds(command, env) for name, command in COMMANDS.items()}


def rows(figures: dict[str, float]) -> list[dict]:
    baseline = figures["baseline"]
    load = os.getloadavg()[0]
    return [
        {"benchmark": f"startup: {name}", "metric": "median s", "value": round(seconds, 3),
         "baseline": round(baseline, 3), "ratio": round(seconds / baseline, 2),
         "note": f"fresh process, median of {RUNS}; baseline: python -c 'import flask'; load average {load:.1f}"
                 + (f"; target < 0.7 s {'met' if seconds < 0.7 else 'MISSED'}" if "--help" in name else "")}
        for name, seconds in figures.items() if name != "baseline"
    ]


def run() -> list[dict]:
    """Rows for `python -m bench` (bench/__main__.py)."""
    return rows(measure())


if __name__ == "__main__":
    for name, seconds in measure().items():
        print(f"  {name:28} {seconds:6.3f} s")
