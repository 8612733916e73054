"""Wires configuration, extensions, blueprints, error pages and CLI into an app."""

from __future__ import annotations

import importlib
import logging
import secrets
from collections.abc import Callable
from pathlib import Path

from flask import Flask, g, has_request_context, render_template, request, session, url_for
from flask_babel import get_locale
from werkzeug.exceptions import Gone, HTTPException, NotFound

from seminar import resource_dir
from seminar.database import configure_engine
from seminar.extensions import babel, csrf, db, limiter, login_manager, migrate
from seminar.mail import outbox

log = logging.getLogger(__name__)

# Every domain area keeps its own message catalogue, so that areas evolve independently.
TRANSLATION_AREAS = ("", "events", "registration", "accounts", "admin", "ical", "badges", "checkin", "mail", "audit",
                     "invitations")


def configure(app: Flask) -> None:
    import seminar.models  # noqa: F401  (the whole schema, for create_all and migrations)

    _check_secret_key(app)
    _configure_database(app)
    _configure_proxy(app)
    from seminar.security import init_security

    init_security(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(resource_dir("migrations")))
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    outbox.init_app(app)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(
        str(Path(app.root_path) / area / "translations") for area in TRANSLATION_AREAS
    )
    babel.init_app(app, locale_selector=select_locale)

    with app.app_context():
        configure_engine(db.engine)

    _register_converters(app)
    _register_blueprints(app)
    _subscribe_to_domain_events()
    _register_error_pages(app)
    _register_template_helpers(app)
    _register_cli(app)
    _start_embedded_worker(app)


def _check_secret_key(app: Flask) -> None:
    if app.config.get("SECRET_KEY"):
        return
    if app.debug or app.testing:
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        return
    raise RuntimeError(
        "SECRET_KEY is not set: put SECRET_KEY in instance/config.py or set SEMINAR_SECRET_KEY "
        "(`make run` writes one for you)."
    )


def _configure_database(app: Flask) -> None:
    uri = app.config.get("SQLALCHEMY_DATABASE_URI")
    if not uri:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        uri = f"sqlite:///{Path(app.instance_path) / 'seminar.sqlite'}"
        app.config["SQLALCHEMY_DATABASE_URI"] = uri
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if uri.startswith("sqlite"):
        options.setdefault("connect_args", {}).setdefault("timeout", 30)
    else:
        options.setdefault("pool_pre_ping", True)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _configure_proxy(app: Flask) -> None:
    counts = {k: int(app.config.get(f"PROXY_FIX_X_{k.upper()}", 0) or 0) for k in ("for", "proto", "host")}
    if any(counts.values()):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=counts["for"], x_proto=counts["proto"], x_host=counts["host"])


def select_locale() -> str:
    languages = current_languages()
    if not has_request_context():  # CLI, worker threads: the default language (e-mails force their own)
        return languages[0]
    asked = request.args.get("lang")
    if asked in languages:
        session["lang"] = asked
        return asked
    if session.get("lang") in languages:
        return session["lang"]
    return request.accept_languages.best_match(languages) or languages[0]


def current_languages() -> tuple[str, ...]:
    from flask import current_app

    return tuple(current_app.config["LANGUAGES"])


def _register_converters(app: Flask) -> None:
    """Before any route is added: `<int:…>` stops at the database's integer range (see seminar.inputs)."""
    from seminar.inputs import BoundedIntConverter

    app.url_map.converters["int"] = BoundedIntConverter


def _register_blueprints(app: Flask) -> None:
    import seminar.accounts.auth  # noqa: F401  (registers the user loader)
    from seminar.accounts.views import admin_bp as accounts_admin_bp
    from seminar.accounts.views import bp as accounts_bp
    from seminar.admin.views import bp as admin_bp
    from seminar.audit.views import bp as audit_bp
    from seminar.badges.views import admin_bp as badges_admin_bp
    from seminar.badges.views import bp as badges_bp
    from seminar.checkin.views import bp as checkin_bp
    from seminar.checkin.views import exports_bp as checkin_exports_bp
    from seminar.events.views import bp as events_bp
    from seminar.ical.views import bp as ical_bp
    from seminar.invitations.views import bp as invitations_bp
    from seminar.registration.views import bp as registration_bp

    app.register_blueprint(events_bp)
    app.register_blueprint(registration_bp)
    app.register_blueprint(ical_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(accounts_admin_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(checkin_bp)
    app.register_blueprint(checkin_exports_bp)
    app.register_blueprint(badges_bp)
    app.register_blueprint(badges_admin_bp)
    app.register_blueprint(invitations_bp)


def _subscribe_to_domain_events() -> None:
    """Who reacts to what the domain areas announce: every subscription in one place (blinker signals are
    process-wide; connecting a receiver again is a no-op)."""
    from seminar.events import signals
    from seminar.registration import signals as registration_signals

    for signal, receiver in (
        (signals.capacity_raised, "seminar.registration.services:capacity_changed"),  # waiting lists move up
        (signals.event_loaded, "seminar.registration.ledger:recount"),
        (signals.session_changed, "seminar.ical.notifications:session_changed"),  # updated invites
        (signals.session_deleted, "seminar.ical.notifications:session_deleted"),
        (signals.event_changed, "seminar.ical.notifications:event_changed"),
        (signals.event_cancelled, "seminar.ical.notifications:event_cancelled"),
        (registration_signals.registration_created, "seminar.invitations.services:registration_created"),
    ):
        signal.connect(_receiver(receiver), weak=False)


_RECEIVERS: dict[str, Callable] = {}


def _receiver(path: str) -> Callable:
    """A receiver that calls `module:function` with the signal's values as keyword arguments; the module is
    imported when the signal is first sent (the calendar code is not loaded by every command). One receiver per
    path, so that subscribing again (another app in the process) connects nothing new."""
    if path not in _RECEIVERS:
        def receive(_sender, **values):
            module, _, name = path.partition(":")
            return getattr(importlib.import_module(module), name)(**values)

        _RECEIVERS[path] = receive
    return _RECEIVERS[path]


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
            return {"error": error.name, "status": error.code}, error.code
        # A view's own explanation (abort(404 or 410, description=…), translated) is shown; werkzeug's generic
        # English descriptions, and those of other libraries' errors (CSRF, rate limits, hosts), are not.
        own = type(error) in (NotFound, Gone) and error.description != type(error).description
        message = error.description if own else None
        return render_template("errors/error.html", error=error, message=message), error.code

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        log.exception("Unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        try:
            return render_template("errors/500.html"), 500
        except Exception:  # the error page itself failed: answer plainly, still without a traceback
            log.exception("The error page failed to render")
            return "<!doctype html><title>500</title><h1>Internal error</h1>", 500


def _register_template_helpers(app: Flask) -> None:
    from seminar import formatting
    from seminar.audit.describe import describe_entries
    from seminar.events.models import in_language

    @app.before_request
    def _remember_locale():
        g.locale = str(get_locale())

    app.jinja_env.globals.update(
        current_locale=lambda: str(get_locale()),
        languages=lambda: current_languages(),
        has_endpoint=lambda name: name in app.view_functions,
        language_url=language_url,
        # A bilingual text in the reader's language: {{ tr(session, 'title') }}.
        tr=lambda obj, field: in_language(obj, field, str(get_locale())),
        spans_days=formatting.spans_days,
        # Every list of audit entries (the log, a dashboard, a registration's history) reads them with it.
        audit_entries=describe_entries,
    )
    app.jinja_env.filters.update(
        local_time=formatting.local_time,
        local_date=formatting.local_date,
        local_datetime=formatting.local_datetime,
        day=formatting.day,
        groupby_day=formatting.by_day,
    )


# url_for's own keywords (with every name beginning with "_": _anchor, _method, _scheme, _external): a query
# parameter of that name must not reach it.
_URL_FOR_KEYWORDS = frozenset({"endpoint", "values"})


def language_url(code: str) -> str:
    """The current page in another language (the choice is remembered in the session). The page's query
    parameters are kept, except those that would collide with the view's arguments or url_for's keywords."""
    if not (request.endpoint and request.method == "GET"):
        return url_for("events.index", lang=code)
    view_args = request.view_args or {}
    kept = {name: value for name, value in request.args.items()
            if name not in view_args and name not in _URL_FOR_KEYWORDS and not name.startswith("_")}
    return url_for(request.endpoint, **view_args, **{**kept, "lang": code})


def _register_cli(app: Flask) -> None:
    from seminar.accounts.cli import create_user_command
    from seminar.admin.cli import registrations_cli
    from seminar.badges.cli import badges_command
    from seminar.bootstrap import bootstrap_command
    from seminar.events.cli import export_event_command, import_event_command, seed_command
    from seminar.ical.cli import ics_command
    from seminar.invitations.cli import invitations_cli
    from seminar.jobs.cli import housekeeping_command, worker_command
    from seminar.mail.cli import outbox_group

    app.cli.add_command(seed_command)
    app.cli.add_command(export_event_command)
    app.cli.add_command(import_event_command)
    app.cli.add_command(outbox_group)
    app.cli.add_command(ics_command)
    app.cli.add_command(bootstrap_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(badges_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(housekeeping_command)
    app.cli.add_command(registrations_cli)
    app.cli.add_command(invitations_cli)


def _start_embedded_worker(app: Flask) -> None:
    """`make run` sets SEMINAR_RUN_WORKER=1: one job worker thread inside the development server."""
    import os

    if os.environ.get("SEMINAR_RUN_WORKER") == "1":
        from seminar.jobs.services import start_embedded_worker

        start_embedded_worker(app)
