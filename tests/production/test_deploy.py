"""The deploy/ samples agree with the application."""

from __future__ import annotations

import os
import re
import runpy
from pathlib import Path

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

from seminar import config as default_config
from seminar import create_app

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _gunicorn_settings(monkeypatch, **env) -> dict:
    for name in ("SEMINAR_WORKERS", "SEMINAR_THREADS", "SEMINAR_BIND"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))


def test_gunicorn_workers_follow_the_cpu_count(monkeypatch):
    settings = _gunicorn_settings(monkeypatch)
    cores = len(os.sched_getaffinity(0))
    assert settings["workers"] == min(2 * cores + 1, 12)
    assert settings["threads"] == 1 and settings["worker_class"] == "sync"
    assert settings["bind"] == "127.0.0.1:8000"
    assert settings["accesslog"] == "-"


def test_a_gunicorn_worker_freezes_the_loaded_application_out_of_garbage_collection(monkeypatch):
    import gc

    settings = _gunicorn_settings(monkeypatch)
    assert gc.get_freeze_count() == 0
    try:
        settings["post_worker_init"](None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_gunicorn_settings_from_the_environment(monkeypatch):
    settings = _gunicorn_settings(monkeypatch, SEMINAR_WORKERS="3", SEMINAR_THREADS="4", SEMINAR_BIND="0.0.0.0:9000")
    assert (settings["workers"], settings["threads"], settings["worker_class"]) == (3, 4, "gthread")
    assert settings["bind"] == "0.0.0.0:9000"


def test_nginx_body_limit_matches_max_content_length():
    size = re.search(r"client_max_body_size (\d+)m;", (DEPLOY / "nginx.conf").read_text())
    assert int(size.group(1)) * 1024 * 1024 == default_config.MAX_CONTENT_LENGTH


@pytest.mark.parametrize(("unit", "command"), [
    ("seminar-web.service", 'gunicorn --config deploy/gunicorn.conf.py "seminar:create_app()"'),
    ("seminar-outbox.service", "flask --app seminar outbox deliver --watch"),
    ("seminar-worker.service", "flask --app seminar worker"),
])
def test_systemd_units_run_the_documented_commands(unit, command):
    text = (DEPLOY / unit).read_text()
    assert re.search(rf"^ExecStart=\S+/\.venv/bin/{re.escape(command)}$", text, re.M)
    assert "EnvironmentFile=/etc/seminar/seminar.env" in text


def _read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, value = line.split("=", 1)
            values[name] = value.strip('"')
    return values


def test_example_environment_configures_a_production_app(tmp_path, monkeypatch):
    values = _read_env_file(DEPLOY / "seminar.env.example")
    assert all(name.startswith("SEMINAR_") for name in values)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SEMINAR_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert app.config["RATELIMIT_STORAGE_URI"].startswith("redis://")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["TRUSTED_HOSTS"] == ["seminaire.example.org"]
    assert app.config["MAIL_DELIVER_AFTER_COMMIT"] is False
    assert isinstance(app.wsgi_app, ProxyFix)
    assert (app.wsgi_app.x_for, app.wsgi_app.x_proto, app.wsgi_app.x_host) == (1, 1, 1)
