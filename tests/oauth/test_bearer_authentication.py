"""Bearer tokens at the REST door: what gets in, what is refused, and what it costs. The bad tokens both protocols
refuse are ``tests/ubi/test_access.py``."""

import time

import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from oauth2_provider.models import get_access_token_model

from oauth.principals import principal_from_bearer
from oauth.tokens import sign, token_checksum
from project.errors import Unauthenticated
from tests.support import factories
from tests.support.api import Api


def test_no_token_is_401_problem_details(anonymous_api):
    response = anonymous_api.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Basic dXNlcjpwYXNz", "Bearer \u00e9t\u00e9"])
def test_malformed_authorization_headers(live_server, header):
    api = Api(live_server.url)
    response = api.get("/api/v1/me", headers={"Authorization": header.encode("utf-8")})
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"


def test_valid_token_through_the_token_endpoint(live_server, app_client):
    response = Api(live_server.url).post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(app_client.client.client_id, app_client.client_secret),
    )
    me = Api(live_server.url, response.json()["access_token"]).get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["client_id"] == app_client.client.client_id


def test_verifying_a_token_makes_no_database_query(app_client, django_assert_num_queries):
    """Once the process has read the revocations of the current generation (its first check here, as after each
    revocation), verifying a token queries nothing."""
    token = factories.bearer_for(app_client.client)
    principal_from_bearer(factories.bearer_for(app_client.client))
    with django_assert_num_queries(0):
        principal = principal_from_bearer(token)
    assert principal.roles == {"insights:read", "insights:write"}


def test_a_revoked_token_is_refused_at_once(live_server, app_client):
    api = Api(live_server.url)
    issued = api.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(app_client.client.client_id, app_client.client_secret),
    ).json()["access_token"]
    assert Api(live_server.url, issued).get("/api/v1/me").status_code == 200

    get_access_token_model().objects.get(token_checksum=token_checksum(issued)).revoke()

    assert Api(live_server.url, issued).get("/api/v1/me").status_code == 401
    with pytest.raises(Unauthenticated, match="revoked"):
        principal_from_bearer(issued)


def test_a_token_missing_a_required_claim_is_refused(app_client):
    claims = jwt.decode(factories.bearer_for(app_client.client), options={"verify_signature": False})
    del claims["org"]
    with pytest.raises(Unauthenticated):
        principal_from_bearer(sign(claims))


def test_a_token_verified_once_still_expires(live_server, app_client):
    """Each process remembers the tokens it verified (oauth.principals._verified): expiry is checked on every call."""
    token = factories.bearer_for(app_client.client, exp=int(time.time()) + 60)
    api = Api(live_server.url, token)
    assert api.get("/api/v1/me").status_code == 200
    with time_machine.travel(time.time() + 61, tick=False):
        refused = api.get("/api/v1/me")
        with pytest.raises(Unauthenticated, match="expired"):
            principal_from_bearer(token)
    assert refused.status_code == 401 and "expired" in refused.json()["detail"]


def test_a_remembered_token_is_verified_again_under_another_key(app_client, settings):
    token = factories.bearer_for(app_client.client)
    principal_from_bearer(token)
    settings.JWT_PRIVATE_KEY = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(Unauthenticated):
        principal_from_bearer(token)
