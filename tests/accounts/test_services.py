"""Account services: which e-mail addresses and passwords an account may have, and signing out."""

import pytest

from seminar.accounts import services
from seminar.accounts.models import Role, User
from seminar.extensions import db
from tests.accounts.factories import PASSWORD


@pytest.fixture
def app_config():
    return {"LANGUAGES": ("en", "fr")}  # messages read in English, whatever the French catalogue holds


@pytest.mark.parametrize("email", ["<svg onload=alert(1)>@x.org", "jane@", "@example.org", "jane doe@example.org",
                                   "jane@example", "jane@x.local", "jane@[127.0.0.1]", '"<b>"@example.org',
                                   "jane@localhost.evil>", "a" * 250 + "@example.org"])
def test_create_user_refuses_a_malformed_email_address(ctx, email):
    with pytest.raises(services.AccountError) as refused:
        services.create_user(email, PASSWORD, Role.organiser)
    assert refused.value.field == "email"
    assert refused.value.problems == ["Enter a valid e-mail address."]
    assert db.session.query(User).count() == 0


@pytest.mark.parametrize("email", ["admin@localhost", "Jane.Doe+seminar@Example.ORG", "élise@université.fr"])
def test_create_user_accepts_a_well_formed_email_address(ctx, email):
    user = services.create_user(email, PASSWORD, Role.admin)
    assert user.email == email.lower()


@pytest.mark.parametrize("weak", ["Password1234", "aaaaaaaaaaa1", " " * 12 + "a"])
def test_create_user_refuses_a_guessable_password_and_says_why(ctx, weak):
    with pytest.raises(services.AccountError) as refused:
        services.create_user("jane@example.org", weak, Role.organiser)
    assert refused.value.field == "password"
    assert refused.value.problems[0].startswith("Too easy to guess: ")
    assert db.session.query(User).count() == 0


def test_sign_out_renews_the_session_nonce(ctx):
    user = services.create_user("jane@example.org", PASSWORD, Role.organiser)
    before = user.get_id()
    services.sign_out(user)
    db.session.expire_all()
    assert db.session.get(User, user.id).get_id() != before
