from datetime import datetime

from seminar.events.models import SessionKind
from seminar.events.seed import SLUG


def test_api_shape_matches_the_contract_for_the_seed(client, seeded):
    data = client.get(f"/api/events/{SLUG}").get_json()
    assert {"slug", "title", "starts_at", "ends_at", "timezone", "venue", "registration", "sessions"} <= data.keys()
    assert data["slug"] == SLUG
    assert data["title"] == "20 ans des cancéropôles : bilan, enjeux, perspectives"
    assert data["timezone"] == "Europe/Paris"
    assert data["venue"].items() >= {"name": "Salons de l'Aveyron", "address": "17 rue de l'Aubrac",
                                     "postal_code": "75012", "city": "Paris", "country": "France"}.items()
    registration = data["registration"]
    assert registration["open"] is True
    assert registration["capacity"] == 300 and registration["seats_left"] == 300
    assert registration["confirmed"] == 0 and registration["waitlisted"] == 0

    assert len(data["sessions"]) == len(seeded.sessions)
    kinds = {s["kind"] for s in data["sessions"]}
    assert kinds <= {"plenary", "round_table", "break", "other"}
    round_tables = [s for s in data["sessions"] if s["kind"] == "round_table"]
    assert len(round_tables) == 3
    for session in data["sessions"]:
        assert {"id", "kind", "title", "description", "starts_at", "ends_at", "room", "capacity",
                "seats_left", "confirmed", "waitlisted", "speakers"} <= session.keys()
        assert isinstance(session["id"], int)
        for speaker in session["speakers"]:
            assert {"id", "name", "affiliation", "role"} <= speaker.keys()
            assert speaker["role"] in {"moderator", "panellist", "speaker", "chair"}
    by_id = {s.id: s for s in seeded.sessions}
    for session in data["sessions"]:
        model = by_id[session["id"]]
        assert datetime.fromisoformat(session["starts_at"]) == model.starts_at
        assert session["seats_left"] == session["capacity"]
        assert (session["kind"] == "round_table") == (model.kind is SessionKind.round_table)


def test_api_times_carry_their_utc_offset(client, seeded):
    data = client.get(f"/api/events/{SLUG}").get_json()
    day = seeded.local(seeded.starts_at).date()  # a 28 November: Paris is on UTC+1
    assert data["starts_at"] == f"{day.isoformat()}T09:00:00+01:00"
    for session in data["sessions"]:
        assert datetime.fromisoformat(session["starts_at"]).utcoffset() is not None


def test_api_unknown_event_is_a_json_404(client, seeded):
    response = client.get("/api/events/nope")
    assert response.status_code == 404
    assert response.get_json()["status"] == 404
