"""The authorization-code flow with PKCE, driven by a real OAuth client library and a browser filling the pages."""

import threading
from datetime import timedelta

import pytest
import requests
import time_machine
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from django.utils import timezone

from accounts import services
from tests.support import factories
from tests.support.browser import Browser
from tests.support.oauth_client import (
    PASSWORD,
    REDIRECT_URI,
    authorization_code,
    authorize_path,
    current_code,
    error_of,
    me_status,
    meet_inside,
    pkce_pair,
    post_token,
    redirect_params,
    refresh,
    sign_in,
)
from tests.support.threads import run_together


@pytest.fixture(autouse=True)
def _plain_http(monkeypatch):
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the client library's https check; tests use http


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


def test_refusal_redirects_with_access_denied_and_the_state_unchanged(live_server, people_client, user):
    _verifier, challenge = pkce_pair()
    state = "opaque/state value=1&x"
    path = authorize_path(people_client.client_id, code_challenge=challenge, state=state)
    answer = sign_in(Browser(live_server.url), path, email=user.email, password=PASSWORD, approve=False)
    assert answer.status_code == 302
    assert redirect_params(answer) == {"error": "access_denied", "state": state, "iss": settings.OAUTH_ISSUER}


def test_user_of_another_organisation_is_denied(live_server, people_client):
    stranger = factories.make_user(factories.make_org(), roles=["insights:read"])
    _verifier, challenge = pkce_pair()
    path = authorize_path(people_client.client_id, code_challenge=challenge, state="s1")
    answer = sign_in(Browser(live_server.url), path, email=stranger.email, password=PASSWORD)
    params = redirect_params(answer)
    assert (params["error"], params["state"]) == ("access_denied", "s1")
    assert "code" not in params


def test_scope_narrows_the_users_roles(live_server, people_client, user):
    verifier, challenge = pkce_pair()
    path = authorize_path(people_client.client_id, code_challenge=challenge, scope="insights:read")
    code = redirect_params(sign_in(Browser(live_server.url), path, email=user.email, password=PASSWORD))["code"]
    response = exchange(live_server, people_client, code, verifier)
    assert response.status_code == 200
    assert response.json()["scope"] == "insights:read"


def test_scope_never_widens_the_users_roles(live_server, people_client, org):
    factories.ensure_roles(["insights:write"])
    reader = factories.make_user(org, roles=["insights:read"])
    _verifier, challenge = pkce_pair()
    path = authorize_path(people_client.client_id, code_challenge=challenge, scope="insights:write")
    browser = Browser(live_server.url)
    answer = browser.submit(browser.open(path), email=reader.email, password=PASSWORD)
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_scope")


def exchange(live_server, client, code, verifier, *, redirect_uri=REDIRECT_URI):
    return post_token(
        live_server,
        client_id=client.client_id,
        grant_type="authorization_code",
        code=code,
        redirect_uri=redirect_uri,
        code_verifier=verifier,
    )


# --- reference/oauth.txt's error table, one row per test --------------------------------------------------------


def test_unknown_or_inactive_client_is_invalid_client_before_any_login(live_server, people_client):
    _verifier, challenge = pkce_pair()
    browser = Browser(live_server.url)
    unknown = browser.open(authorize_path("no-such-client", code_challenge=challenge))
    people_client.is_active = False
    people_client.save()
    inactive = browser.open(authorize_path(people_client.client_id, code_challenge=challenge))
    for response in (unknown, inactive):
        assert (response.status_code, response.json()["error"]) == (400, "invalid_client")


def test_consent_form_with_an_edited_client_is_invalid_client(live_server, people_client, user):
    _verifier, challenge = pkce_pair()
    browser = Browser(live_server.url)
    login_page = browser.open(authorize_path(people_client.client_id, code_challenge=challenge))
    consent = browser.submit(login_page, email=user.email, password=PASSWORD)
    answer = browser.submit(consent, allow="on", client_id="no-such-client")
    assert error_of(answer) == (400, "invalid_client")


def test_unregistered_redirect_uri_is_invalid_redirect_uri_and_never_redirected(live_server, people_client):
    _verifier, challenge = pkce_pair()
    for redirect_uri in ("https://evil.example/callback", "https://app.example/callback/other", "/relative"):
        response = Browser(live_server.url).open(
            authorize_path(people_client.client_id, code_challenge=challenge, redirect_uri=redirect_uri)
        )
        assert (response.status_code, response.json()["error"]) == (400, "invalid_redirect_uri"), redirect_uri


def test_exchange_with_another_redirect_uri_is_invalid_redirect_uri(live_server, org, user):
    client = factories.make_public_client(org, redirect_uris=[REDIRECT_URI, "https://app.example/other"])
    verifier, challenge = pkce_pair()
    code = authorization_code(live_server, client, user, code_challenge=challenge)
    response = exchange(live_server, client, code, verifier, redirect_uri="https://app.example/other")
    assert (response.status_code, response.json()["error"]) == (400, "invalid_redirect_uri")


@pytest.mark.parametrize(
    "missing", ["code_challenge", "redirect_uri", "response_type", "client_id"], ids=lambda name: f"no-{name}"
)
def test_missing_parameter_is_invalid_request_before_any_login(live_server, people_client, missing):
    _verifier, challenge = pkce_pair()
    params = {"code_challenge": challenge, missing: None} if missing != "client_id" else {"code_challenge": challenge}
    client_id = None if missing == "client_id" else people_client.client_id
    path = authorize_path(client_id, **params)
    response = Browser(live_server.url).open(path)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


def test_plain_pkce_method_is_invalid_request(live_server, people_client):
    path = authorize_path(people_client.client_id, code_challenge="x" * 43).replace("S256", "plain")
    response = Browser(live_server.url).open(path)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


def test_s256_is_the_default_method(live_server, people_client, user):
    verifier, challenge = pkce_pair()
    path = authorize_path(people_client.client_id, code_challenge=challenge, code_challenge_method=None)
    code = redirect_params(sign_in(Browser(live_server.url), path, email=user.email, password=PASSWORD))["code"]
    assert exchange(live_server, people_client, code, verifier).status_code == 200


def test_missing_code_verifier_is_invalid_request(live_server, people_client, user):
    _verifier, challenge = pkce_pair()
    code = authorization_code(live_server, people_client, user, code_challenge=challenge)
    response = exchange(live_server, people_client, code, None)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


def test_wrong_code_verifier_is_pkce_mismatch(live_server, people_client, user):
    _verifier, challenge = pkce_pair()
    code = authorization_code(live_server, people_client, user, code_challenge=challenge)
    other_verifier, _challenge = pkce_pair()
    response = exchange(live_server, people_client, code, other_verifier)
    assert (response.status_code, response.json()["error"]) == (400, "pkce_mismatch")


def test_unknown_code_is_invalid_code(live_server, people_client):
    verifier, _challenge = pkce_pair()
    response = exchange(live_server, people_client, "not-a-code", verifier)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_code")


@pytest.mark.parametrize(("seconds", "status"), [(59, 200), (61, 400)])
def test_code_lives_sixty_seconds(live_server, people_client, user, seconds, status):
    verifier, challenge = pkce_pair()
    code = authorization_code(live_server, people_client, user, code_challenge=challenge)
    with time_machine.travel(timezone.now() + timedelta(seconds=seconds)):
        response = exchange(live_server, people_client, code, verifier)
    assert response.status_code == status
    if status == 400:
        assert response.json()["error"] == "invalid_code"


def test_second_use_of_a_code_is_invalid_code_and_revokes_what_the_first_issued(live_server, people_client, user):
    verifier, challenge = pkce_pair()
    code = authorization_code(live_server, people_client, user, code_challenge=challenge)
    first = exchange(live_server, people_client, code, verifier).json()
    assert me_status(live_server, first["access_token"]) == 200

    second = exchange(live_server, people_client, code, verifier)

    assert error_of(second) == (400, "invalid_code")
    assert me_status(live_server, first["access_token"]) == 401
    assert error_of(refresh(live_server, people_client, first["refresh_token"])) == (400, "invalid_grant")


def test_metadata_announces_the_flows(live_server):
    metadata = requests.get(f"{live_server.url}/.well-known/oauth-authorization-server", timeout=30).json()
    assert metadata["authorization_endpoint"] == f"{live_server.url}/v2/oauth/authorize"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["response_types_supported"] == ["code"]
    assert set(metadata["grant_types_supported"]) == {"authorization_code", "client_credentials", "password", "refresh_token"}
    assert "none" in metadata["token_endpoint_auth_methods_supported"]


@pytest.mark.postgres
@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="the race is decided by PostgreSQL's row locks; SQLite runs one writer at a time, so there is no race",
)
def test_two_concurrent_exchanges_of_one_code_revoke_what_the_winner_issued(
    live_server, people_client, user, monkeypatch
):
    """Both exchanges pass ``validate_code`` and reach the claim together (a barrier inside the server proves it):
    one wins, the other is ``invalid_code``, and the loser's revocation of the winner's tokens survives the
    rollback of the loser's own transaction (RFC 6749 §4.1.2)."""
    from oauth.validators import OAuth2Validator

    meet_inside(monkeypatch, OAuth2Validator, "_redeem_code")
    verifier, challenge = pkce_pair()
    code = authorization_code(live_server, people_client, user, code_challenge=challenge)
    answers = run_together(*[lambda: exchange(live_server, people_client, code, verifier)] * 2)

    assert sorted(answer.status_code for answer in answers) == [200, 400], [answer.text for answer in answers]
    winner = next(answer.json() for answer in answers if answer.status_code == 200)
    loser = next(answer for answer in answers if answer.status_code == 400)
    assert error_of(loser) == (400, "invalid_code")
    assert me_status(live_server, winner["access_token"]) == 401
    assert error_of(refresh(live_server, people_client, winner["refresh_token"])) == (400, "invalid_grant")
