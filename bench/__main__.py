"""`make bench` / `python -m bench`: runs every benchmark module in bench/ and prints one table.

A benchmark module is any `bench/<name>.py` exposing `run() -> list[dict]`. Each row is
{"benchmark": str, "metric": str, "value": number, "baseline": number | None, "ratio": number | None,
 "note": str (optional)}: `baseline` is a comparable figure measured in the same run (e.g. a trivial
endpoint's throughput), so that `ratio` can be read on a noisy or slower machine. Rows in another shape
are shown too: their first numeric field becomes the metric, the rest goes into the note.

`python -m bench pages ical` runs only the named modules. A module that fails is reported as a row and
does not stop the others.
"""

from __future__ import annotations

import datetime
import importlib
import os
import pkgutil
import platform
import sys
import time
import traceback
from pathlib import Path

COLUMNS = ("benchmark", "metric", "value", "baseline", "ratio")


def benchmark_modules(names: list[str]) -> list[str]:
    found = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_"))
    if unknown := set(names) - set(found):
        raise SystemExit(f"no benchmark module named {', '.join(sorted(unknown))} (found: {', '.join(found)})")
    return names or found


def normalise(module: str, row: dict) -> dict:
    if "metric" in row and "value" in row:
        out = {key: row.get(key) for key in COLUMNS}
        out["benchmark"] = out["benchmark"] or module
        out["note"] = str(row.get("note") or "")
        return out
    numbers = [(k, v) for k, v in row.items() if isinstance(v, int | float) and not isinstance(v, bool)]
    metric, value = numbers[0] if numbers else ("-", None)
    rest = [f"{k}={v}" for k, v in row.items() if k not in ("benchmark", metric, "note")]
    note = "; ".join(filter(None, [str(row.get("note") or ""), ", ".join(rest)]))
    return {"benchmark": row.get("benchmark", module), "metric": metric, "value": value, "baseline": None,
            "ratio": None, "note": note}


def run_module(name: str) -> list[dict]:
    started = time.perf_counter()
    try:
        module = importlib.import_module(f"bench.{name}")
        if not callable(getattr(module, "run", None)):
            return []
        rows = [normalise(name, row) for row in module.run()]
    except Exception as error:  # one broken benchmark must not hide the others
        traceback.print_exc(file=sys.stderr)
        return [{"benchmark": name, "metric": "error", "value": None, "baseline": None, "ratio": None,
                 "note": f"{type(error).__name__}: {error}"[:200]}]
    print(f"  {name}: {len(rows)} rows in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return rows


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def format_table(rows: list[dict]) -> str:
    """A Markdown table, as the README reproduces it."""
    header = [*COLUMNS, "note"]
    cells = [[_cell(row.get(column)) for column in header] for row in rows]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(header)]
    numeric = {"value", "baseline", "ratio"}

    def line(values):
        padded = [v.rjust(w) if h in numeric else v.ljust(w) for v, w, h in zip(values, widths, header, strict=True)]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":" if h in numeric else "-" * (w + 2)) for w, h in zip(widths, header,
                                                                                                   strict=True)) + "|"
    return "\n".join([line(header), rule, *(line(c) for c in cells)])


def machine() -> str:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    return (f"{datetime.date.today().isoformat()}, {cores} cores ({platform.machine()}), "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}")


def main(argv: list[str]) -> int:
    names = benchmark_modules(argv)
    print(f"Running {', '.join(names)}…", file=sys.stderr, flush=True)
    rows = [row for name in names for row in run_module(name)]
    print(f"Machine: {machine()}\n")
    print(format_table(rows))
    return 1 if any(row["metric"] == "error" for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
