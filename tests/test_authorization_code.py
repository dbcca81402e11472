"""The authorization-code flow with PKCE, driven by a real OAuth client library and a browser filling the pages."""

import pytest
import time_machine
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from django.utils import timezone

from accounts import services
from tests import factories
from tests.browser import Browser
from tests.oauth_client import (
    REDIRECT_URI,
    authorization_code,
    authorize_path,
    current_code,
    pkce_pair,
    post_token,
    redirect_params,
    sign_in,
)

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _plain_http(monkeypatch):
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the client library's https check; tests use http


@pytest.fixture
def people_client(org):
    return factories.make_public_client(org, name="Insights dashboard")


@pytest.fixture
def user(org):
    return factories.make_user(org, email="ada@example.com", roles=["insights:read", "insights:write"])


def authlib_session(client):
    return OAuth2Session(
        client.client_id,
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )


@pytest.mark.parametrize(
    ("lang", "login_title", "consent_button"), [("en", "Sign in", "Authorize"), ("fr", "Connexion", "Autoriser")]
)
@pytest.mark.parametrize("second_factor", [False, True], ids=["password", "password+totp"])
def test_authlib_drives_the_whole_flow(live_server, people_client, user, org, lang, login_title, consent_button, second_factor):
    if second_factor:
        services.totp_enable(user)
    session = authlib_session(people_client)
    verifier = generate_token(48)
    url, state = session.create_authorization_url(
        f"{live_server.url}/v2/oauth/authorize", code_verifier=verifier, lang=lang
    )
    browser = Browser(live_server.url)

    login_page = browser.open(url)
    assert login_page.status_code == 200
    assert login_title in login_page.text
    page = browser.submit(login_page, email=user.email, password=PASSWORD)
    if second_factor:
        assert "name=\"code\"" in page.text
        page = browser.submit(page, code=current_code(user))
    assert consent_button in page.text
    assert "Insights dashboard" in page.text and "insights:write" in page.text
    answer = browser.submit(page, allow="on")

    assert answer.status_code == 302
    assert redirect_params(answer)["state"] == state
    token = session.fetch_token(
        f"{live_server.url}/v2/auth/token", authorization_response=answer.headers["Location"], code_verifier=verifier
    )
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3600 and token["refresh_token"]
    me = session.get(f"{live_server.url}/api/v1/me")
    assert me.status_code == 200
    assert me.json() == {
        "type": "user",
        "id": str(user.pk),
        "organization": str(org.id),
        "client_id": people_client.client_id,
        "roles": ["insights:read", "insights:write"],
        "scope": "insights:read insights:write",
    }
