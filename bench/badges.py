"""Badge export: 1,000 badges in the a4-4 layout, cold (empty cache) and warm (nothing changed), against a
single-document WeasyPrint rendering of the same badges in the same run; and the seminar's own size (200 and
300 registrants) through the terminal command, process start-up included (`flask --app seminar badges SLUG
-o FILE --layout a4-4`, cold then warm), against the single document of the same badges.

    python -m bench.badges            # prints the figures
    python -m bench badges            # as one part of `make bench`

The export goes through the real service (`seminar.badges.services.export_badges`: database query,
signed codes, parallel rendering, cache, imposition) on a temporary SQLite database. Peak memory is
the largest sum of the proportional set sizes (PSS: shared pages split between the processes sharing
them) of this process and its children (the rendering processes), sampled every 0.25 s (reading PSS
is not free: sampling faster slows the rendering down). Targets (issue 6): cold ≤ 1/3 of the single-document time,
warm < 2 s, < 400 MB.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

COUNT = 1000
CLI_COUNTS = (200, 300)
LAYOUT = "a4-4"
FLASK = Path(sys.executable).with_name("flask")
ROOT = Path(__file__).resolve().parents[1]
NAMES = [
    ("Camille", "Durand"), ("Marie-Hélène", "Lefèvre-Brûlé"), ("Αλέξανδρος", "Παπαδόπουλος"),
    ("Жанна", "Кузнецова"), ("Łukasz", "Żółć"), ("Jean-Baptiste", "de La Rochefoucauld-Montbel"),
    ("Siobhán", "Ní Bhriain"), ("Søren", "Kierkegård"), ("Nguyễn", "Thị Minh Khai"), ("Zoë", "Äppelqvist"),
]
ORGANISATIONS = ["Inserm", "Cancéropôle Grand Ouest", "Institut Curie", "CNRS", "Ligue contre le cancer",
                 "Centre Léon-Bérard, Lyon", "Université de Strasbourg", "Gustave Roussy"]


class PeakMemory:
    """Samples the memory of this process and its descendants (Linux /proc, proportional set size)."""

    def __init__(self, interval: float = 0.25):
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def _tree(pid: int) -> list[int]:
        pids = [pid]
        for task in Path(f"/proc/{pid}/task").glob("*/children"):
            try:
                children = task.read_text().split()
            except OSError:
                continue
            for child in children:
                pids += PeakMemory._tree(int(child))
        return pids

    @staticmethod
    def _pss(pid: int) -> int:
        """Proportional set size: pages shared between processes (forked workers) are counted once in all."""
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, sum(self._pss(pid) for pid in self._tree(os.getpid())))
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def megabytes(self) -> float:
        return self.peak / 1024 / 1024


def _populate(count: int) -> int:
    from sqlalchemy import select

    from seminar.events.models import Event
    from seminar.events.seed import SLUG, seed_anniversary_seminar
    from seminar.extensions import db, utcnow
    from seminar.registration.models import Registration, RegistrationStatus, SeatStatus, SessionSeat
    from seminar.registration.tokens import hash_token

    seed_anniversary_seminar()
    event = db.session.scalar(select(Event).where(Event.slug == SLUG))
    tables = [session for session in event.sessions if session.takes_registrations]
    for number in range(count):
        first, last = NAMES[number % len(NAMES)]
        email = f"person{number}@example.org"
        registration = Registration(
            event_id=event.id, first_name=first, last_name=f"{last} {number}", email=email, email_key=email,
            organisation=ORGANISATIONS[number % len(ORGANISATIONS)], status=RegistrationStatus.confirmed,
            category_id=event.categories[number % len(event.categories)].id,
            token_hash=hash_token(secrets.token_urlsafe(32)), consent_privacy_at=utcnow(),
        )
        registration.seats = [SessionSeat(session_id=table.id, status=SeatStatus.confirmed)
                              for table in tables[: number % (len(tables) + 1)]]
        db.session.add(registration)
    db.session.commit()
    return event.id


def _app(folder: str):
    """The app on a new SQLite database in `folder` (its instance folder too: the badge cache goes there)."""
    from seminar import create_app
    from seminar.extensions import db

    app = create_app({"TESTING": False, "SECRET_KEY": "bench", "INSTANCE_PATH": folder,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite"})
    with app.app_context():
        db.create_all()
    return app


def _single_document(event_id: int, layout: str) -> tuple[float, bytes]:
    """The baseline: the same badges as one WeasyPrint document, in this process; seconds and PDF."""
    from seminar.badges.data import badge_data
    from seminar.badges.render import render_single_document
    from seminar.badges.services import select_registrations

    badges = [badge_data(registration) for registration in select_registrations(event_id)]
    started = time.perf_counter()
    pdf = render_single_document(badges, layout)
    return time.perf_counter() - started, pdf


def measure(count: int = COUNT, layout: str = LAYOUT) -> dict:
    from seminar.badges.render import harfbuzz_subset_available
    from seminar.badges.services import badge_cache_dir, export_badges

    with tempfile.TemporaryDirectory(prefix="bench-badges-") as folder:
        app = _app(folder)
        with app.app_context():
            event_id = _populate(count)
            assert not badge_cache_dir().exists()

            with PeakMemory() as cold_memory:
                started = time.perf_counter()
                cold_pdf, exported = export_badges(event_id, layout=layout)
                cold = time.perf_counter() - started
            assert exported == count

            with PeakMemory() as warm_memory:
                started = time.perf_counter()
                warm_pdf, _ = export_badges(event_id, layout=layout)
                warm = time.perf_counter() - started
            assert len(warm_pdf) == len(cold_pdf)

            with PeakMemory() as naive_memory:
                naive, naive_pdf = _single_document(event_id, layout)
    return {
        "count": count, "layout": layout, "cold": cold, "warm": warm, "naive": naive,
        "load": os.getloadavg()[0],
        "cold_mb": cold_memory.megabytes, "warm_mb": warm_memory.megabytes, "naive_mb": naive_memory.megabytes,
        "pdf_mb": len(cold_pdf) / 1e6, "naive_pdf_mb": len(naive_pdf) / 1e6,
        "harfbuzz_subset": harfbuzz_subset_available(), "cpus": len(os.sched_getaffinity(0)),
    }


def rows(figures: dict) -> list[dict]:
    name = f"badges: {figures['count']:,} {figures['layout']}"
    cold_ratio = figures["cold"] / figures["naive"]
    context = (f"{figures['cpus']} CPUs, load average {figures['load']:.1f}, libharfbuzz-subset "
               f"{'present' if figures['harfbuzz_subset'] else 'MISSING'}")
    return [
        {"benchmark": f"{name} cold", "metric": "s", "value": round(figures["cold"], 2),
         "baseline": round(figures["naive"], 2), "ratio": round(cold_ratio, 2),
         "note": f"baseline: one WeasyPrint document; target ratio ≤ 0.33 "
                 f"{'met' if cold_ratio <= 1 / 3 else 'MISSED'}; {context}; PDF {figures['pdf_mb']:.1f} MB "
                 f"(single document {figures['naive_pdf_mb']:.1f} MB)"},
        {"benchmark": f"{name} warm", "metric": "s", "value": round(figures["warm"], 2),
         "baseline": round(figures["naive"], 2), "ratio": round(figures["warm"] / figures["naive"], 3),
         "note": f"nothing changed; target < 2 s {'met' if figures['warm'] < 2 else 'MISSED'}"},
        {"benchmark": f"{name} peak memory", "metric": "MB", "value": round(figures["cold_mb"]),
         "baseline": round(figures["naive_mb"]), "ratio": round(figures["cold_mb"] / figures["naive_mb"], 2),
         "note": f"cold export, all processes; target < 400 MB {'met' if figures['cold_mb'] < 400 else 'MISSED'}; "
                 f"warm {figures['warm_mb']:.0f} MB"},
    ]


def _cli_export(folder: str, output: Path, layout: str) -> float:
    """Seconds for `flask --app seminar badges` in a new process, from its start to its exit."""
    from seminar.events.seed import SLUG

    env = {**os.environ, "SEMINAR_SECRET_KEY": "bench", "SEMINAR_INSTANCE_PATH": folder,
           "SEMINAR_SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite"}
    env.pop("SEMINAR_RUN_WORKER", None)
    started = time.perf_counter()
    subprocess.run([str(FLASK), "--app", "seminar", "badges", SLUG, "-o", str(output), "--layout", layout],
                   cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def measure_cli(count: int, layout: str = LAYOUT) -> dict:
    """The terminal command on `count` registrants, cold (empty cache) then warm, and the single document."""
    with tempfile.TemporaryDirectory(prefix="bench-badges-cli-") as folder:
        app = _app(folder)
        with app.app_context():
            event_id = _populate(count)
            naive, _ = _single_document(event_id, layout)
        output = Path(folder) / "badges.pdf"
        cold = _cli_export(folder, output, layout)
        warm = _cli_export(folder, output, layout)
    return {"count": count, "layout": layout, "cold": cold, "warm": warm, "naive": naive,
            "load": os.getloadavg()[0]}


def cli_rows(figures: dict) -> list[dict]:
    name = f"badges: {figures['count']:,} {figures['layout']} CLI"
    note = (f"flask badges in a new process, start-up included; baseline: one WeasyPrint document in-process; "
            f"load average {figures['load']:.1f}")
    return [
        {"benchmark": f"{name} {kind}", "metric": "s", "value": round(figures[kind], 2),
         "baseline": round(figures["naive"], 2), "ratio": round(figures[kind] / figures["naive"], 2), "note": note}
        for kind in ("cold", "warm")
    ]


def run() -> list[dict]:
    """Rows for `python -m bench` (bench/__main__.py)."""
    return [*rows(measure()), *(row for count in CLI_COUNTS for row in cli_rows(measure_cli(count)))]


if __name__ == "__main__":
    figures = measure()
    print(f"{figures['count']:,} badges, layout {figures['layout']}, {figures['cpus']} CPUs, "
          f"libharfbuzz-subset {'present' if figures['harfbuzz_subset'] else 'missing'}")
    print(f"  cold (empty cache)      {figures['cold']:6.2f} s   peak {figures['cold_mb']:4.0f} MB")
    print(f"  warm (nothing changed)  {figures['warm']:6.2f} s   peak {figures['warm_mb']:4.0f} MB")
    print(f"  single document         {figures['naive']:6.2f} s   peak {figures['naive_mb']:4.0f} MB")
    print(f"  cold / single document  {figures['cold'] / figures['naive']:6.2f}   (target ≤ 0.33)")
    print(f"  load average {figures['load']:.1f}: other work on the machine slows the parallel export most")
    for count in CLI_COUNTS:
        cli = measure_cli(count)
        print(f"{count} badges by `flask badges` (new process): cold {cli['cold']:.2f} s, warm {cli['warm']:.2f} s; "
              f"single document {cli['naive']:.2f} s")
