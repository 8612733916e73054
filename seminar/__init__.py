"""Seminar: a Flask application for scientific seminars and conferences."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from seminar import config as default_config

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """`templates`, `static` or `migrations`: inside the installed package, or at the project root."""
    installed = PACKAGE_DIR / name
    return installed if installed.is_dir() else PACKAGE_DIR.parent / name


def create_app(test_config: dict | None = None) -> Flask:
    instance_path = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("SEMINAR_INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=instance_path or str(Path.cwd() / "instance"),
        instance_relative_config=True,
        template_folder=str(resource_dir("templates")),
        static_folder=str(resource_dir("static")),
    )
    app.config.from_object(default_config)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("SEMINAR")
    else:
        app.config.from_prefixed_env("SEMINAR")
        app.config.from_mapping(test_config)

    from seminar.wiring import configure

    configure(app)
    return app
