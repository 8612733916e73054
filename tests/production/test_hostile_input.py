"""Issue 15: no input a stranger or an organiser can send breaks a page. One test per finding; the sweep over
every route is in test_hostile_routes.py."""

from __future__ import annotations

import html
import re

import pytest

from seminar.accounts.models import Role
from seminar.events.seed import SLUG
from seminar.inputs import MAX_ID, parse_id
from tests.accounts.factories import signed_in_client
from tests.registration.conftest import REGISTER_URL, form_data, link_in, outbox, round_table_ids, set_capacity

EVENT = f"/events/{SLUG}/"
LANGUAGE_LINK = re.compile(r'href="([^"]*lang=en[^"]*)"')


@pytest.mark.parametrize("name", ["slug", "endpoint", "values", "_method", "_external", "_anchor", "_scheme"])
def test_language_links_ignore_query_parameters_that_collide_with_url_for(client, seeded, name):
    response = client.get(f"{EVENT}?{name}=POST&page=2")
    assert response.status_code == 200
    link = html.unescape(LANGUAGE_LINK.search(response.text)[1])
    assert link.startswith(EVENT) and "page=2" in link and f"{name}=" not in link and "#" not in link


@pytest.mark.parametrize("url", ["/events/a%00b/", "/api/events/%00", f"{EVENT}?q=%00", f"{EVENT}?a%00=1"])
def test_nul_byte_in_the_address_is_refused(client, seeded, url):
    assert client.get(url).status_code == 400


def test_nul_byte_in_a_form_value_is_refused(client, seeded):
    response = client.post("/login", data={"email": "a\x00@b.c", "password": "x"})
    assert response.status_code == 400


def test_id_beyond_the_integer_column_is_not_found(client, app, seeded):
    organiser = signed_in_client(app, Role.organiser)
    for too_big in (MAX_ID + 1, 99999999999999999999):
        assert client.get(f"{EVENT}speakers/{too_big}/photo").status_code == 404
        assert organiser.get(f"/admin/events/{SLUG}/registrations/{too_big}").status_code == 404
        assert organiser.post(f"/admin/events/{SLUG}/sessions/{too_big}/delete").status_code == 404
    assert client.get(f"{EVENT}speakers/{MAX_ID}/photo").status_code == 404  # in range, no such speaker


@pytest.mark.parametrize("body", [{"code": "x", "session_id": "²"}, {"code": "x", "session_id": str(MAX_ID + 1)}])
def test_checkin_scan_refuses_ids_that_are_not_ascii_digits_in_range(app, seeded, body):
    desk = signed_in_client(app, Role.checkin)
    response = desk.post(f"/checkin/{SLUG}/scan", json=body)
    assert response.status_code == 400 and "session_id" in response.json["error"]


def test_checkin_undo_refuses_a_superscript_registration_id(app, seeded):
    desk = signed_in_client(app, Role.checkin)
    response = desk.post(f"/checkin/{SLUG}/undo", json={"registration_id": "²",
                                                        "checked_in_at": "2026-11-28T09:00:00+01:00"})
    assert response.status_code == 400


def test_leave_waitlist_with_a_superscript_session_id_changes_nothing(client, app, seeded):
    table = round_table_ids(seeded)[0]
    set_capacity(app, sessions={table: 1})
    client.post(REGISTER_URL, data=form_data(seeded))
    client.post(REGISTER_URL, data=form_data(seeded, email="second@example.org"))
    link = link_in(outbox(app)[-1])
    assert client.post(f"{link}/leave-waitlist", data={"session_id": "²"}).status_code == 303
    assert "liste d'attente, position 1" in html.unescape(client.get(link).text)


@pytest.mark.parametrize("body", ["[" * 10_000 + "]" * 10_000, '{"a":' * 100 + "1" + "}" * 100,
                                  '{"code": "a\\u0000b"}'])
def test_checkin_json_too_deep_or_holding_nul_is_refused(app, seeded, body):
    desk = signed_in_client(app, Role.checkin)
    response = desk.post(f"/checkin/{SLUG}/scan", data=body, content_type="application/json")
    assert response.status_code == 400


def test_overlong_host_label_gets_a_plain_400(client, seeded):
    response = client.get(EVENT, headers={"Host": "a" * 64 + ".test"})
    assert response.status_code == 400
    assert response.mimetype == "text/plain" and "Traceback" not in response.text


def test_parse_id_accepts_only_ascii_digits_within_the_integer_range():
    assert [parse_id(v) for v in ("1", "0042", 7, str(MAX_ID), MAX_ID)] == [1, 42, 7, MAX_ID, MAX_ID]
    refused = ("", "0", 0, -1, "-1", "²", "٣", "1.0", " 1", str(MAX_ID + 1), MAX_ID + 1, True, 1.0, None, [1])
    assert [parse_id(v) for v in refused] == [None] * len(refused)


def test_registrant_filters_ignore_ids_beyond_the_integer_column(app, seeded):
    organiser = signed_in_client(app, Role.organiser)
    query = "category=99999999999999999999&session=2147483648"
    for page in ("registrations", "registrations/export", "mailing"):
        assert organiser.get(f"/admin/events/{SLUG}/{page}?{query}").status_code == 200
