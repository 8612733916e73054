import pytest

from seminar.accounts.models import Role
from tests.accounts.factories import signed_in_client


@pytest.fixture
def role_clients(app):
    """A signed-in client for each role."""
    return {role: signed_in_client(app, role) for role in Role}
