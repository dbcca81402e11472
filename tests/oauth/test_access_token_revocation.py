"""Issue 18, item 3: revoking an access token revokes that access token only; revoking a refresh token revokes every
access token derived from it (reference/oauth.txt, "Revoking Tokens"); ``DELETE /v2/auth/token/<token_id>`` also
takes an access token's ``jti``, for the token's owner only (docs/oauth.md, "Revocation")."""

import jwt
import pytest
import requests

from accounts.models import AppClient
from tests.support import factories
from tests.support.oauth_client import error_of, me_status, password_grant, post_token, refresh


def jti_of(access_token: str) -> str:
    return jwt.decode(access_token, options={"verify_signature": False})["jti"]


def delete(live_server, token_id, **kwargs) -> requests.Response:
    return requests.delete(f"{live_server.url}/v2/auth/token/{token_id}", timeout=30, **kwargs)


def bearer(access_token) -> dict:
    return {"headers": {"Authorization": f"Bearer {access_token}"}}


def client_credentials(live_server, app_client) -> str:
    response = post_token(
        live_server, grant_type="client_credentials",
        client_id=app_client.client.client_id, client_secret=app_client.client_secret,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


# --- An access token alone ------------------------------------------------------------------------------------


def by_delete(live_server, tokens, other):
    return delete(live_server, tokens["access_token"])


def by_rfc7009(live_server, tokens, other):
    return requests.post(f"{live_server.url}/oauth2/revoke", data={"token": tokens["access_token"]}, timeout=30)


def by_jti_with_the_owners_bearer(live_server, tokens, other):
    return delete(live_server, jti_of(tokens["access_token"]), **bearer(other["access_token"]))


@pytest.mark.parametrize("revoke", [by_delete, by_rfc7009, by_jti_with_the_owners_bearer])
def test_revoking_an_access_token_leaves_its_refresh_token_working(live_server, people_client, sign_in, revoke):
    tokens, other = sign_in(), sign_in()

    assert revoke(live_server, tokens, other).status_code in (200, 204)

    assert me_status(live_server, tokens["access_token"]) == 401
    renewed = refresh(live_server, people_client, tokens["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["scope"] == "insights:read"
    assert me_status(live_server, renewed.json()["access_token"]) == 200
    assert me_status(live_server, other["access_token"]) == 200


def test_revoking_an_access_token_twice_is_one_revocation(live_server, sign_in):
    tokens = sign_in()
    assert [delete(live_server, tokens["access_token"]).status_code for _ in range(2)] == [204, 204]
    assert me_status(live_server, tokens["access_token"]) == 401


# --- A refresh token and what derives from it ---------------------------------------------------------------


def test_revoking_a_refresh_token_revokes_every_access_token_derived_from_it(live_server, people_client, sign_in):
    """The access token of the sign-in and the one of its refresh, both still valid after the refresh, end with
    the refresh token the refresh issued."""
    first = sign_in()
    second = refresh(live_server, people_client, first["refresh_token"]).json()
    assert me_status(live_server, first["access_token"]) == 200

    assert delete(live_server, second["refresh_token"]).status_code == 204

    assert me_status(live_server, first["access_token"]) == 401
    assert me_status(live_server, second["access_token"]) == 401
    assert error_of(refresh(live_server, people_client, second["refresh_token"])) == (400, "invalid_grant")


# --- By jti -------------------------------------------------------------------------------------------------------


def test_a_jti_with_the_owners_bearer_revokes_that_access_token_only(live_server, people_client, sign_in):
    tokens, other = sign_in(), sign_in()

    answer = delete(live_server, jti_of(tokens["access_token"]), **bearer(other["access_token"]))

    assert answer.status_code == 204
    assert me_status(live_server, tokens["access_token"]) == 401
    assert me_status(live_server, other["access_token"]) == 200
    assert refresh(live_server, people_client, tokens["refresh_token"]).status_code == 200


def test_a_token_revokes_itself_by_its_jti(live_server, sign_in):
    tokens = sign_in()
    assert delete(live_server, jti_of(tokens["access_token"]), **bearer(tokens["access_token"])).status_code == 204
    assert me_status(live_server, tokens["access_token"]) == 401


def nobody(live_server, org, app_client, sign_in):
    return {}


def another_users_bearer(live_server, org, app_client, sign_in):
    stranger = factories.make_user(org, roles=["insights:read"])
    client = factories.make_public_client(org, allow_password_grant=True)
    return bearer(password_grant(live_server, client, stranger.email).json()["access_token"])


def a_clients_bearer(live_server, org, app_client, sign_in):
    return bearer(client_credentials(live_server, app_client))


def the_public_clients_id_without_a_secret(live_server, org, app_client, sign_in):
    return {"auth": (AppClient.objects.get(name="Insights dashboard").client_id, "")}


def a_revoked_bearer_of_the_owner(live_server, org, app_client, sign_in):
    revoked = sign_in()["access_token"]
    assert delete(live_server, revoked).status_code == 204
    return bearer(revoked)


def a_malformed_header(live_server, org, app_client, sign_in):
    return {"headers": {"Authorization": "Basic !!!"}}


@pytest.mark.parametrize(
    "credentials",
    [nobody, another_users_bearer, a_clients_bearer, the_public_clients_id_without_a_secret,
     a_revoked_bearer_of_the_owner, a_malformed_header],
)
def test_a_jti_without_the_owners_authentication_changes_nothing(
    live_server, org, app_client, sign_in, credentials
):
    """A jti is no secret: without its owner's authentication the answer is an unknown token's, and the token
    lives on."""
    tokens = sign_in()
    kwargs = credentials(live_server, org, app_client, sign_in)

    assert delete(live_server, jti_of(tokens["access_token"]), **kwargs).status_code == 204

    assert me_status(live_server, tokens["access_token"]) == 200


def test_a_client_revokes_its_own_tokens_by_jti(live_server, app_client):
    """With its secret (HTTP Basic), or with another token of its own."""
    by_secret, by_bearer, kept = (client_credentials(live_server, app_client) for _ in range(3))

    credentials = (app_client.client.client_id, app_client.client_secret)
    assert delete(live_server, jti_of(by_secret), auth=credentials).status_code == 204
    assert delete(live_server, jti_of(by_bearer), **bearer(kept)).status_code == 204

    assert [me_status(live_server, token) for token in (by_secret, by_bearer, kept)] == [401, 401, 200]


def test_another_clients_credentials_revoke_nothing_by_jti(live_server, org, app_client, sign_in):
    token = client_credentials(live_server, app_client)
    other = factories.make_client(org)

    assert delete(live_server, jti_of(token), auth=(other.client.client_id, other.client_secret)).status_code == 204
    assert delete(live_server, jti_of(token), auth=(app_client.client.client_id, "wrong")).status_code == 204
    assert delete(live_server, jti_of(token), **bearer(client_credentials(live_server, other))).status_code == 204

    assert me_status(live_server, token) == 200


def test_a_client_revokes_its_users_tokens_by_jti_with_its_secret(live_server, org, user):
    """Client authentication of the token's client: a confidential client's secret."""
    confidential = factories.make_client(org)
    AppClient.objects.filter(pk=confidential.client.pk).update(
        authorization_grant_type=AppClient.GRANT_PASSWORD, allow_password_grant=True
    )
    tokens = post_token(
        live_server, grant_type="password", username=user.email, password="correct horse battery",
        client_id=confidential.client.client_id, client_secret=confidential.client_secret,
    ).json()
    assert me_status(live_server, tokens["access_token"]) == 200

    credentials = (confidential.client.client_id, confidential.client_secret)
    assert delete(live_server, jti_of(tokens["access_token"]), auth=credentials).status_code == 204

    assert me_status(live_server, tokens["access_token"]) == 401


@pytest.mark.parametrize("token_id", ["00000000-0000-4000-8000-000000000000", "not-a-token"])
def test_an_unknown_jti_or_token_is_204(live_server, token_id):
    assert delete(live_server, token_id).status_code == 204
