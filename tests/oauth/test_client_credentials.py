"""The client-credentials grant, as a third-party OAuth client library and a plain HTTP client see it."""

import base64

import jwt
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from oauthlib.oauth2 import BackendApplicationClient
from requests_oauthlib import OAuth2Session as RequestsOAuth2Session

from tests.support import factories

TOKEN_PATHS = ["/oauth2/token", "/v2/auth/token"]


def verify_with_jwks(live_server, access_token):
    """Verify as an outside resource server would: keys from the JWKS endpoint, issuer from the metadata."""
    metadata = requests.get(f"{live_server.url}/.well-known/oauth-authorization-server", timeout=10).json()
    key = jwt.PyJWKClient(metadata["jwks_uri"]).get_signing_key_from_jwt(access_token)
    return jwt.decode(
        access_token,
        key.key,
        algorithms=["ES256"],
        audience=settings.OAUTH_AUDIENCE,
        issuer=metadata["issuer"],
        options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
    )


@pytest.mark.parametrize("path", TOKEN_PATHS)
def test_authlib_client_gets_a_verifiable_jwt(live_server, app_client, org, path):
    session = OAuth2Session(app_client.client.client_id, app_client.client_secret)
    token = session.fetch_token(f"{live_server.url}{path}", grant_type="client_credentials")

    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert token["scope"] == "insights:read insights:write"
    claims = verify_with_jwks(live_server, token["access_token"])
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["client_id"] == claims["sub"] == app_client.client.client_id
    assert claims["org"] == str(org.id)
    assert claims["roles"] == ["insights:read", "insights:write"]
    assert set(claims) >= {"iss", "sub", "aud", "exp", "iat", "jti", "client_id", "org", "roles", "scope"}
    assert jwt.get_unverified_header(token["access_token"])["kid"]


def test_requests_oauthlib_backend_application_client(live_server, app_client, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the client library's own https check; tests use http
    client_id = app_client.client.client_id
    session = RequestsOAuth2Session(client=BackendApplicationClient(client_id=client_id))
    token = session.fetch_token(
        f"{live_server.url}/oauth2/token", client_id=client_id, client_secret=app_client.client_secret
    )
    assert verify_with_jwks(live_server, token["access_token"])["client_id"] == client_id


def _post_token(live_server, *, data=None, json=None, auth=None, path="/oauth2/token"):
    return requests.post(f"{live_server.url}{path}", data=data, json=json, auth=auth, timeout=10)


def test_json_body_with_credentials_in_the_body(live_server, app_client):
    response = _post_token(
        live_server,
        path="/v2/auth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": app_client.client.client_id,
            "client_secret": app_client.client_secret,
        },
    )
    assert response.status_code == 200
    assert set(response.json()) == {"access_token", "token_type", "expires_in", "scope"}
    assert response.headers["Cache-Control"] == "no-store"


def test_form_body_with_http_basic(live_server, app_client):
    response = _post_token(
        live_server,
        data={"grant_type": "client_credentials"},
        auth=(app_client.client.client_id, app_client.client_secret),
    )
    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"


def test_json_body_with_http_basic(live_server, app_client):
    response = _post_token(
        live_server,
        json={"grant_type": "client_credentials"},
        auth=(app_client.client.client_id, app_client.client_secret),
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("requested", "granted"),
    [("insights:read", "insights:read"), ("insights:write", "insights:write"), (None, "insights:read insights:write")],
)
def test_scope_narrows_the_roles(live_server, app_client, requested, granted):
    data = {"grant_type": "client_credentials"}
    if requested is not None:
        data["scope"] = requested
    response = _post_token(live_server, data=data, auth=(app_client.client.client_id, app_client.client_secret))
    assert response.status_code == 200
    assert response.json()["scope"] == granted
    claims = verify_with_jwks(live_server, response.json()["access_token"])
    assert claims["roles"] == granted.split()


def test_scope_never_widens_the_roles(live_server, org):
    reader = factories.make_client(org, roles=["insights:read"])
    data = {"grant_type": "client_credentials", "scope": "insights:read insights:write"}
    response = _post_token(live_server, data=data, auth=(reader.client.client_id, reader.client_secret))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def _error_cases(app_client):
    client_id, secret = app_client.client.client_id, app_client.client_secret
    return {
        "unknown client": ({"grant_type": "client_credentials", "client_id": "nope", "client_secret": "x"}, None),
        "wrong secret": ({"grant_type": "client_credentials", "client_id": client_id, "client_secret": "x"}, None),
        "wrong secret by basic": ({"grant_type": "client_credentials"}, (client_id, "wrong")),
        "no credentials": ({"grant_type": "client_credentials"}, None),
        "missing grant_type": ({"client_id": client_id, "client_secret": secret}, None),
        "unsupported grant": ({"grant_type": "urn:example:magic", "client_id": client_id}, (client_id, secret)),
        "implicit is not a grant": ({"grant_type": "implicit"}, (client_id, secret)),
    }


EXPECTED_ERRORS = {
    "unknown client": "invalid_client",
    "wrong secret": "invalid_client",
    "wrong secret by basic": "invalid_client",
    "no credentials": "invalid_request",  # no client_id: a missing parameter (reference/oauth.txt; issue 18)
    "missing grant_type": "invalid_request",
    "unsupported grant": "unsupported_grant_type",
    "implicit is not a grant": "unsupported_grant_type",
}


@pytest.mark.parametrize("case", sorted(EXPECTED_ERRORS))
@pytest.mark.parametrize("encoding", ["form", "json"])
def test_error_rows(live_server, app_client, case, encoding):
    body, auth = _error_cases(app_client)[case]
    kwargs = {"data": body} if encoding == "form" else {"json": body}
    response = _post_token(live_server, auth=auth, **kwargs)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"] == EXPECTED_ERRORS[case]


def test_inactive_client_is_invalid_client(live_server, app_client):
    app_client.client.is_active = False
    app_client.client.save()
    response = _post_token(
        live_server,
        data={"grant_type": "client_credentials"},
        auth=(app_client.client.client_id, app_client.client_secret),
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_client")


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"grant_type": ["client_credentials"]}'])
def test_malformed_json_body_is_invalid_request(live_server, body):
    response = requests.post(
        f"{live_server.url}/oauth2/token", data=body, headers={"Content-Type": "application/json"}, timeout=10
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


def test_basic_auth_header_that_is_not_base64(live_server):
    response = requests.post(
        f"{live_server.url}/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic " + base64.b64encode(b"\xff\xfe").decode()},
        timeout=10,
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_client")


def test_client_secret_is_stored_only_as_a_fast_salted_hash(app_client):
    stored = app_client.client.__class__.objects.get(pk=app_client.client.pk).client_secret
    assert app_client.client_secret not in stored
    assert stored.startswith("client_secret_sha256$")


def test_discovery_and_keys(live_server):
    metadata = requests.get(f"{live_server.url}/.well-known/oauth-authorization-server", timeout=10).json()
    assert metadata["issuer"] == settings.OAUTH_ISSUER
    assert metadata["token_endpoint"].endswith("/oauth2/token")
    assert "client_credentials" in metadata["grant_types_supported"]
    keys = requests.get(metadata["jwks_uri"], timeout=10).json()["keys"]
    # Access tokens are ES256; OpenID Connect ID tokens (single sign-on's identity-provider side) are RS256.
    assert [key["alg"] for key in keys] == ["ES256", "RS256"]
    assert all("d" not in key for key in keys), "the JWKS must never publish the private part"
