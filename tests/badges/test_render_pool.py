"""The render pool dies with its owner: a process killed with SIGKILL while its workers render badges leaves
no forkserver, worker or resource tracker behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import suppress
from pathlib import Path

import pytest

from seminar.badges.pool import PARALLEL_THRESHOLD
from tests.waiting import wait_for

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from Linux's /proc")

# Enough badges for several chunks per worker: the owner is killed while the workers are still rendering.
RENDER_MANY = f"""
from seminar.badges.data import BadgeData
from seminar.badges.pool import render_badges
badges = [BadgeData(registration_id=n, locale="fr", event_title="Séminaire", event_date="28 novembre 2023",
                    first_name=f"Prénom{{n}}", last_name=f"Nom{{n}}", organisation="Inserm",
                    category_label="Cancéropôle", category_colour="#1d4e89", checkin_code=f"CODE-{{n}}")
          for n in range({PARALLEL_THRESHOLD * 2})]
render_badges(badges, "a4-4", workers=2, progress=lambda done, total: print("rendered", done, flush=True))
"""


def _processes() -> dict[int, tuple[int, str]]:
    """pid → (parent pid, start time) of every process, from /proc/<pid>/stat."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # ended meanwhile
                continue
            fields = stat[stat.rindex(")") + 2:].split()  # after "pid (command) "
            found[int(entry.name)] = (int(fields[1]), fields[19])
    return found


def _descendants(root: int) -> dict[int, str]:
    """pid → start time of every process below `root` (the start time tells a reused pid apart)."""
    processes = _processes()
    below, frontier = {}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, started) in processes.items():
            if ppid == parent and pid not in below:
                below[pid] = started
                frontier.append(pid)
    return below


def _alive(pid: int, started: str) -> bool:
    """Still running: the same process (same start time), and not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = stat[stat.rindex(")") + 2:].split()
    return fields[19] == started and fields[0] not in ("Z", "X")


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_render_pool_dies_with_the_process_that_started_it(tmp_path):
    log = tmp_path / "render.log"
    with log.open("wb") as output:
        owner = subprocess.Popen([sys.executable, "-c", RENDER_MANY], stdout=output, stderr=subprocess.STDOUT,
                                 cwd=Path(__file__).resolve().parents[2])
    started: dict[int, str] = {}

    def survivors() -> dict[int, str]:
        return {pid: _command(pid) for pid, when in started.items() if _alive(pid, when)}

    try:
        def rendering() -> bool:
            assert owner.poll() is None, log.read_text(errors="replace")
            return any(line.startswith("rendered ") and line != "rendered 0" for line in log.read_text().splitlines())

        wait_for(rendering, "the first chunk of badges from the pool")
        started = _descendants(owner.pid)
        pool = [pid for pid in started if "multiprocessing.forkserver" in _command(pid)]
        assert len(pool) >= 3, {pid: _command(pid) for pid in started}  # the forkserver and both workers
        os.kill(owner.pid, signal.SIGKILL)  # the owner alone, as the OOM killer would: not its process group
        owner.wait()
        with suppress(AssertionError):
            wait_for(lambda: not survivors(), "every process the owner started to end", deadline=10)
        assert not survivors()
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
        for pid, when in started.items():  # a failed run leaves no stray processes behind
            if _alive(pid, when):
                os.kill(pid, signal.SIGKILL)
