from seminar.events.seed import SLUG

PAGES = ["", "programme", "speakers", "venue"]


def test_home_lists_events_when_none_is_upcoming(client, app):
    from seminar.events.seed import SEMINAR_DATE, seed_anniversary_seminar

    with app.app_context():
        title = seed_anniversary_seminar(SEMINAR_DATE)[0].title  # the historical seminar, long over
    response = client.get("/")
    assert response.status_code == 200
    assert title in response.text


def test_home_redirects_to_featured_upcoming_event(client, app):
    from datetime import date, timedelta

    from seminar.events.seed import seed_anniversary_seminar

    with app.app_context():
        seed_anniversary_seminar(date.today() + timedelta(days=30))
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/events/{SLUG}/")


def test_public_pages_answer_in_french_by_default(client, seeded):
    for page in PAGES:
        response = client.get(f"/events/{SLUG}/{page}")
        assert response.status_code == 200, page
        assert '<html lang="fr">' in response.text
    assert "Tables rondes" in client.get(f"/events/{SLUG}/").text


def test_language_switch_turns_pages_into_english_and_back(client, seeded):
    english = client.get(f"/events/{SLUG}/programme?lang=en")
    assert '<html lang="en">' in english.text
    assert "Times are indicative" in english.text
    # the choice is remembered for the following pages
    assert "Who is invited" in client.get(f"/events/{SLUG}/").text
    french = client.get(f"/events/{SLUG}/programme?lang=fr")
    assert "Les horaires sont indicatifs" in french.text


def test_accept_language_is_respected(client, seeded):
    response = client.get(f"/events/{SLUG}/venue", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert "Getting there" in response.text


def test_programme_shows_themes_moderators_panellists_and_places(client, seeded):
    text = client.get(f"/events/{SLUG}/programme").text
    assert "optimiser l&#39;impact des actions structurantes des cancéropôles" in text
    assert "Modérateur·rice" in text
    assert "Cancéropôle Grand Ouest" in text
    assert "120 places restantes" in text


def test_venue_page_links_to_openstreetmap_without_embedding_a_map(client, seeded):
    text = client.get(f"/events/{SLUG}/venue").text
    assert "17 rue de l&#39;Aubrac" in text
    assert "https://www.openstreetmap.org/" in text
    assert "<iframe" not in text


def test_pages_load_nothing_from_third_parties(client, seeded):
    import re

    for page in PAGES:
        text = client.get(f"/events/{SLUG}/{page}").text
        for attr in re.findall(r'(?:src|href)="([^"]+)"', text):
            if attr.startswith(("http://", "https://", "//")):
                # only plain outbound links (<a href>) may point elsewhere, never assets
                assert re.search(rf'<a [^>]*href="{re.escape(attr)}"', text), attr


def test_unknown_event_gives_styled_404(client, seeded):
    response = client.get("/events/does-not-exist/programme")
    assert response.status_code == 404
    assert "Page introuvable" in response.text
    assert "site.css" in response.text


def test_server_error_gives_styled_500_without_traceback(app, client, seeded):
    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("secret internals")

    response = client.get("/boom-for-test")
    assert response.status_code == 500
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    assert "Une erreur est survenue" in response.text
