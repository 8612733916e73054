"""The password rule."""

import pytest

from seminar.accounts.passwords import generate_password, password_problems


@pytest.mark.parametrize("password", ["short1A", "alllowercaseletters", "ABCDEFGHIJKLMNOP", "123456789012345",
                                      "xxjane.doe@example.orgxx", "Jane.Doe-2024!!"])
def test_password_problems_refuse_weak_passwords(password):
    assert password_problems(password, "jane.doe@example.org")


@pytest.mark.parametrize("password", ["correct horse battery", "Tr0ub4dor&3xyz", "1234567890ab"])
def test_password_problems_accept_long_mixed_passwords(password):
    assert password_problems(password, "jane.doe@example.org") == []


def test_generated_passwords_meet_the_rule():
    assert all(password_problems(generate_password(), "admin@localhost") == [] for _ in range(50))
