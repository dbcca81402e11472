"""``DELETE /v2/auth/token/<token_id>``: any access or refresh token, ended at once in every process."""

import pytest
import requests

from tests.support import factories
from tests.support.oauth_client import me_status, password_grant, post_token, refresh


@pytest.fixture
def sign_in(live_server, people_client, org):
    user = factories.make_user(org, roles=["insights:read"])

    def tokens():
        return password_grant(live_server, people_client, user.email).json()

    return tokens


def revoke(live_server, token_id):
    return requests.delete(f"{live_server.url}/v2/auth/token/{token_id}", timeout=30)


def test_a_revoked_access_token_is_refused_at_once(door, live_server, sign_in):
    tokens = sign_in()
    assert door.read(tokens["access_token"]) == "ok"
    assert revoke(live_server, tokens["access_token"]).status_code == 204
    assert door.read(tokens["access_token"]) == "unauthenticated"


def test_machine_clients_tokens_are_revocable_too(live_server, app_client):
    response = post_token(
        live_server,
        grant_type="client_credentials",
        client_id=app_client.client.client_id,
        client_secret=app_client.client_secret,
    )
    access_token = response.json()["access_token"]
    assert revoke(live_server, access_token).status_code == 204
    assert me_status(live_server, access_token) == 401


def test_revoking_a_refresh_token_revokes_its_access_token(live_server, people_client, sign_in):
    tokens = sign_in()
    assert revoke(live_server, tokens["refresh_token"]).status_code == 204
    assert me_status(live_server, tokens["access_token"]) == 401
    assert refresh(live_server, people_client, tokens["refresh_token"]).status_code == 400


def test_revoking_a_rotated_out_refresh_token_revokes_what_was_derived_from_it(live_server, people_client, sign_in):
    first = sign_in()
    second = refresh(live_server, people_client, first["refresh_token"]).json()
    assert revoke(live_server, first["refresh_token"]).status_code == 204
    assert me_status(live_server, second["access_token"]) == 401
    assert refresh(live_server, people_client, second["refresh_token"]).status_code == 400


def test_other_sessions_of_the_user_live_on(live_server, sign_in):
    revoked, kept = sign_in(), sign_in()
    revoke(live_server, revoked["refresh_token"])
    assert me_status(live_server, kept["access_token"]) == 200


@pytest.mark.parametrize("token_id", ["unknown", "eyJhbGciOiJFUzI1NiJ9.e30.sig", "x" * 500])
def test_unknown_token_is_204_too(live_server, token_id):
    assert revoke(live_server, token_id).status_code == 204


def test_rfc7009_endpoint_from_the_metadata_revokes_alike(live_server, sign_in):
    tokens = sign_in()
    metadata = requests.get(f"{live_server.url}/.well-known/oauth-authorization-server", timeout=30).json()
    response = requests.post(metadata["revocation_endpoint"], data={"token": tokens["access_token"]}, timeout=30)
    assert response.status_code == 200
    assert me_status(live_server, tokens["access_token"]) == 401
