"""A Seminar app with one tiny rate-limited route, served in its own process by the Redis tests
(`gunicorn "tests.production.limited_app:create_limited_app()"`). Limits in one process share
Flask-Limiter's single storage, so only separate processes show whether a limit holds across instances.

Environment: LIMITED_STORAGE_URI (the limiter's storage), LIMITED_KEY (the counter's key, unique per
test), LIMITED_INSTANCE (a temporary instance folder)."""

from __future__ import annotations

import os

from seminar import create_app
from seminar.extensions import limiter

LIMIT = "3 per minute"


def create_limited_app():
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "INSTANCE_PATH": os.environ["LIMITED_INSTANCE"],
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{os.environ['LIMITED_INSTANCE']}/db.sqlite",
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": os.environ["LIMITED_STORAGE_URI"],
    })
    key = os.environ["LIMITED_KEY"]

    @app.get("/limited-for-test")
    @limiter.limit(LIMIT, key_func=lambda: key)
    def limited():
        return f"served by {os.getpid()}\n"

    return app
