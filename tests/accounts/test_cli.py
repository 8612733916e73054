"""`flask create-user` (piped password) and the first admin created by `flask bootstrap`."""

import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from seminar.accounts.models import Role, User
from seminar.accounts.passwords import password_problems, verify_password
from seminar.extensions import db
from tests.conftest import PG_URL, make_app


def _user(app, email):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        db.session.expunge_all()
        return user


def test_create_user_reads_the_password_twice_from_a_pipe(app, backend, tmp_path):
    url = PG_URL if backend == "postgresql" else f"sqlite:///{tmp_path / 'test.sqlite'}"
    env = {**os.environ, "SEMINAR_SQLALCHEMY_DATABASE_URI": url, "SEMINAR_SECRET_KEY": "x",
           "SEMINAR_INSTANCE_PATH": str(tmp_path / "instance")}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "seminar", "create-user", "desk@example.org", "--role", "checkin"],
        input="Door-keeper-2023\nDoor-keeper-2023\n", capture_output=True, text=True, env=env, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    user = _user(app, "desk@example.org")
    assert user.role is Role.checkin and verify_password(user.password_hash, "Door-keeper-2023")


def test_create_user_refuses_a_weak_password(app, runner):
    result = runner.invoke(args=["create-user", "a@example.org", "--role", "admin"], input="password\npassword\n")
    assert result.exit_code == 1
    assert "au moins 12 caractères" in result.output
    assert _user(app, "a@example.org") is None


def test_create_user_refuses_two_different_passwords(app, runner):
    result = runner.invoke(args=["create-user", "a@example.org", "--role", "organiser"],
                           input="Long-enough-pass-1\nLong-enough-pass-2\n")
    assert result.exit_code == 1 and "differ" in result.output
    assert _user(app, "a@example.org") is None


def test_create_user_refuses_an_unknown_role(runner):
    result = runner.invoke(args=["create-user", "a@example.org", "--role", "boss"], input="x\nx\n")
    assert result.exit_code == 2


def test_bootstrap_creates_the_first_admin_once_and_prints_the_password_once(app, runner):
    first = runner.invoke(args=["bootstrap"])
    assert first.exit_code == 0, first.output
    line = next(line for line in first.output.splitlines() if line.startswith("First admin account"))
    password = line.split("password: ")[1].split()[0]
    user = _user(app, "admin@localhost")
    assert user.role is Role.admin and verify_password(user.password_hash, password)
    assert password_problems(password, user.email) == []
    assert password not in user.password_hash
    second = runner.invoke(args=["bootstrap"])
    assert "First admin" not in second.output


@pytest.fixture
def english_runner(backend, tmp_path):
    app = make_app(backend, tmp_path, LANGUAGES=("en", "fr"))  # the CLI speaks the first language
    yield app, app.test_cli_runner()
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("weak", ["Password1234", "aaaaaaaaaaa1", " " * 12 + "a"])
def test_create_user_refuses_a_guessable_password_and_says_why(english_runner, weak):
    app, runner = english_runner
    result = runner.invoke(args=["create-user", "a@example.org", "--role", "admin"], input=f"{weak}\n{weak}\n")
    assert result.exit_code == 1
    assert "Error: Too easy to guess: " in result.output
    assert _user(app, "a@example.org") is None


def test_create_user_refuses_a_hostile_email_address(english_runner):
    app, runner = english_runner
    passphrase = "lantern orbit cactus mosaic"
    result = runner.invoke(args=["create-user", "<svg onload=alert(1)>@x.org", "--role", "admin"],
                           input=f"{passphrase}\n{passphrase}\n")
    assert result.exit_code == 1 and "Enter a valid e-mail address." in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
