"""End-to-end fixtures: the app served by a real `flask run` process on 127.0.0.1 with its own temporary
SQLite database and instance folder, seeded and migrated through the CLI as an operator would, and
Debian's Chromium driven by Playwright. Without /usr/bin/chromium (or Playwright) every browser test skips.

The test process opens the same SQLite file (`server.app`) only to arrange a situation that a journey
needs (a nearly full round table) or to read what the server did (the outbox); every step a person takes
goes through the browser.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.e2e.helpers import Server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SECRET_KEY = "e2e-secret-key-not-for-production"
STAFF_PASSWORD = "Correct-Horse-Battery-42"
STAFF = {"organiser": "organiser@e2e.example.org", "checkin": "volunteer@e2e.example.org"}
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _flask(env: dict, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "seminar", *args], env=env, input=stdin,
        capture_output=True, text=True, timeout=120,
    )
    if result.returncode:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the e2e server exited:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own 127.0.0.1 server)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the e2e server did not answer {url}:\n{log.read_text(errors='replace')}")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed and "server" in getattr(item, "funcargs", {}):
        log = item.funcargs["server"].log
        if log is not None and log.exists():  # what the server said, for a failure seen only in CI
            report.sections.append(("e2e server log (tail)", log.read_text(errors="replace")[-6000:]))
    return report


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not CHROMIUM.exists():
        pytest.skip(f"end-to-end browser tests skipped: Chromium not found at {CHROMIUM} "
                    "(apt-get install chromium; .ci/run does it)")
    pytest.importorskip("playwright", reason="end-to-end browser tests skipped: Playwright is not installed")
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def server(chromium_path, tmp_path_factory):
    """One real server for every journey: migrated, seeded (the seminar moved 60 days ahead, so that it is
    upcoming), with an organiser and a check-in volunteer account; a `flask worker` process runs background
    jobs when that command exists, and the web process delivers mail to .eml files right after each commit."""
    root = tmp_path_factory.mktemp("e2e")
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    database = f"sqlite:///{root / 'e2e.sqlite'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SEMINAR_", "FLASK_"))}
    env.update({
        "SEMINAR_SECRET_KEY": SECRET_KEY,
        "SEMINAR_SQLALCHEMY_DATABASE_URI": database,
        "SEMINAR_INSTANCE_PATH": str(root / "instance"),
        "SEMINAR_BASE_URL": base_url,
        # The limiter stays on (it is part of what is served), with room for a whole test run from one address.
        "SEMINAR_RATELIMIT_REGISTRATION_PER_IP": "1000 per minute",
        "SEMINAR_RATELIMIT_REGISTRATION_PER_EMAIL": "1000 per minute",
        "SEMINAR_LOGIN_RATE_LIMIT": "1000 per minute",
        # Calendar updates after a programme change are held back this long (coalescing quick edits): for the
        # whole run, so the organiser journey finds its update in the outbox and no delivery lands mid-journey.
        "SEMINAR_ICAL_UPDATE_DELAY": "3600",
        "PYTHONUNBUFFERED": "1",
    })
    _flask(env, "db", "upgrade")
    _flask(env, "seed", "--date", (date.today() + timedelta(days=60)).isoformat())
    for role, email in STAFF.items():
        _flask(env, "create-user", email, "--role", role, stdin=f"{STAFF_PASSWORD}\n{STAFF_PASSWORD}\n")

    server = Server(base_url, root / "instance", database, SECRET_KEY)
    processes = []
    log = root / "server.log"
    with log.open("w") as out:
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "seminar", "run", "--host", "127.0.0.1", "--port", str(port),
             "--no-reload", "--no-debugger", "--with-threads"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        ))
    try:
        _wait_until_up(f"{base_url}/healthz", processes[0], log)
        if "worker" in server.app.cli.commands:
            worker_log = (root / "worker.log").open("w")
            processes.append(subprocess.Popen([sys.executable, "-m", "flask", "--app", "seminar", "worker"],
                                              env=env, stdout=worker_log, stderr=subprocess.STDOUT))
        server.log = log
        yield server
    finally:
        for process in reversed(processes):
            _stop(process)
        server.close()


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _context(browser, server, viewport, locale):
    context = browser.new_context(base_url=server.base_url, viewport=viewport, locale=locale,
                                  accept_downloads=True)
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def page(browser, server):
    """A desktop page in a fresh browser context (no cookies), French like most of the audience.
    Fails the test if the page logs a JavaScript error or a Content-Security-Policy violation."""
    context = _context(browser, server, DESKTOP, "fr-FR")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not [e for e in errors if "Failed to load resource" not in e], errors


@pytest.fixture
def phone_page(browser, server):
    """A 375×812 touch page, as on a phone."""
    context = browser.new_context(base_url=server.base_url, viewport=PHONE, locale="fr-FR", is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()
