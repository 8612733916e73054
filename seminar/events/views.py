"""Public pages of an event: home, programme, speakers, venue, and the JSON API."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request, url_for
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from seminar.events import services
from seminar.events.api import event_to_json
from seminar.events.lists import ORGANISATION_KIND_LABELS
from seminar.events.models import Event, OrganisationKind, SessionKind
from seminar.extensions import db
from seminar.registration.occupancy import event_occupancy

bp = Blueprint("events", __name__)


def _event_or_404(slug: str, *parts: str) -> Event:
    event = services.get_event(slug, *parts)
    if event is None:
        abort(404)
    return event


@bp.get("/")
def index():
    featured = services.featured_event()
    if featured is not None:
        return redirect(url_for("events.event_page", slug=featured.slug))
    return render_template("events/index.html", events=services.list_events())


@bp.get("/events/<slug>/")
def event_page(slug: str):
    event = _event_or_404(slug, "venue", "sessions", "organisations", "press_contacts")
    organisations: dict[OrganisationKind, list] = {}
    for org in event.organisations:
        organisations.setdefault(org.kind, []).append(org)
    return render_template(
        "events/event.html", event=event, occupancy=event_occupancy(event), organisations=organisations,
        round_tables=[s for s in event.sessions if s.kind is SessionKind.round_table],
        kind_labels=ORGANISATION_KIND_LABELS,
    )


@bp.get("/events/<slug>/programme")
def programme(slug: str):
    event = _event_or_404(slug, "venue", "programme")
    return render_template("events/programme.html", event=event, occupancy=event_occupancy(event))


@bp.get("/events/<slug>/speakers")
def speakers(slug: str):
    event = _event_or_404(slug, "speakers")
    people = [s for s in event.speakers if not s.is_organisation]
    organisations = [s for s in event.speakers if s.is_organisation]
    return render_template("events/speakers.html", event=event, people=people, organisations=organisations)


@bp.get("/events/<slug>/speakers/<int:speaker_id>/photo")
def speaker_photo(slug: str, speaker_id: int):
    return _image(services.speaker_photo(slug, speaker_id))


@bp.get("/events/<slug>/logo")
def organiser_logo(slug: str):
    return _image(services.organiser_logo(slug))


def _image(found: tuple[bytes, str] | None) -> Response:
    if found is None:
        abort(404)
    image, mimetype = found
    response = Response(image, mimetype=mimetype)
    # A replaced photo keeps its URL: cached briefly, then revalidated with the ETag (304 when unchanged).
    response.headers["Cache-Control"] = "public, max-age=600"
    response.set_etag(hashlib.sha256(image).hexdigest())
    return response.make_conditional(request)


@bp.get("/events/<slug>/venue")
def venue(slug: str):
    event = _event_or_404(slug, "rooms")
    return render_template("events/venue.html", event=event)


@bp.get("/api/events/<slug>")
def api_event(slug: str):
    event = _event_or_404(slug, "venue", "programme")
    return jsonify(event_to_json(event, event_occupancy(event)))


HEALTH_HEADERS = {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@bp.get("/healthz")
def healthz():
    """For load balancers and benchmarks: "ok" when the database answers, 503 otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        current_app.logger.exception("Health check: the database does not answer")
        db.session.rollback()
        return "database unavailable\n", 503, HEALTH_HEADERS
    return "ok\n", 200, HEALTH_HEADERS
