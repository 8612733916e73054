"""The programme and speaker pages run a bounded number of queries whatever the programme's size."""

from datetime import timedelta

from seminar.events.models import Session, SessionKind, SessionSpeaker, Speaker, SpeakerRole
from seminar.events.seed import SLUG
from seminar.extensions import db
from tests.queries import count_queries


def _grow_programme(sessions: int):
    from seminar.events.services import get_event

    event = get_event(SLUG)
    start = event.sessions[-1].ends_at
    for i in range(sessions):
        session = Session(event=event, kind=SessionKind.round_table, title=f"Atelier {i}",
                          starts_at=start + timedelta(minutes=10 * i), ends_at=start + timedelta(minutes=10 * i + 5),
                          capacity=20)
        for j in range(3):
            speaker = Speaker(event=event, name=f"Intervenant {i}-{j}", affiliation="Labo")
            session.speaker_links.append(SessionSpeaker(speaker=speaker, role=SpeakerRole.panellist, position=j))
        db.session.add(session)
    db.session.commit()


def _queries_for(app, client, path):
    with app.app_context(), count_queries() as statements:
        assert client.get(path).status_code == 200
    return len(statements)


def test_programme_and_speakers_query_count_does_not_grow(app, client, seeded):
    small = {p: _queries_for(app, client, f"/events/{SLUG}/{p}") for p in ("programme", "speakers")}
    with app.app_context():
        _grow_programme(40)
    large = {p: _queries_for(app, client, f"/events/{SLUG}/{p}") for p in ("programme", "speakers")}
    assert large == small
    assert max(large.values()) <= 20
