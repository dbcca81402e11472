"""Fixtures of the OAuth tests: a user of ``org`` and their sign-ins through ``people_client``."""

import pytest

from tests.support import factories
from tests.support.oauth_client import password_grant


@pytest.fixture
def user(org):
    return factories.make_user(org, roles=["insights:read"])


@pytest.fixture
def sign_in(live_server, people_client, user):
    """A new sign-in of ``user`` (password grant) at each call: its access and refresh tokens."""

    def tokens():
        response = password_grant(live_server, people_client, user.email)
        assert response.status_code == 200, response.text
        return response.json()

    return tokens
