"""Single sign-on at an organisation's own OpenID Connect provider (reference/oauth.txt, "SSO Authentication").

The provider is real OpenID Connect: this project as a second deployment (``tests.support.identity_provider``), reached
over HTTP for discovery, authorization, the code exchange and its JWKS. The browser goes through both sites' pages.
"""

from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from django.contrib.sessions.backends.db import SessionStore

from accounts.models import User
from oauth import sso_sign_in
from tests.support import factories, identity_provider
from tests.support.browser import Browser
from tests.support.identity_provider import acme, idp, platform_for_sso  # noqa: F401 (the fixtures)
from tests.support.oauth_client import (
    PASSWORD,
    REDIRECT_URI,
    authorize_path,
    error_of,
    password_grant,
    pkce_pair,
    post_token,
    redirect_params,
)

def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


# --- Routing ----------------------------------------------------------------------------------------------------


def test_login_page_sends_an_sso_domain_to_its_provider_with_pkce_nonce_and_state(live_server, acme, idp, people_client):
    browser = Browser(live_server.url)
    page = browser.open(authorize_path(people_client.client_id, code_challenge=pkce_pair()[1]))
    answer = browser.submit(page, email="Ada@ACME.example", password="")

    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(f"{idp.url}/v2/oauth/authorize?")  # from the provider's discovery document
    params = query_of(location)
    assert params["client_id"] == idp.client_id
    assert params["redirect_uri"] == f"{live_server.url}/v2/oauth/sso/callback"
    assert params["response_type"] == "code" and set(params["scope"].split()) == {"openid", "email", "profile"}
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert len(params["nonce"]) >= 20 and len(params["state"]) >= 20
    assert params["login_hint"] == "Ada@ACME.example"


def test_other_domains_keep_the_password(live_server, acme, people_client):
    user = factories.make_user(acme.organization, email="ops@elsewhere.example")
    browser = Browser(live_server.url)
    page = browser.open(authorize_path(people_client.client_id, code_challenge=pkce_pair()[1]))

    empty = browser.submit(page, email=user.email, password="")
    assert empty.status_code == 200 and "errorlist" in empty.text  # a password is still required here
    consent = browser.submit(page, email=user.email, password=PASSWORD)
    assert consent.status_code == 200 and 'name="allow"' in consent.text


def test_login_hint_on_the_authorization_request_goes_straight_to_the_provider(live_server, acme, idp, people_client):
    browser = Browser(live_server.url)
    path = authorize_path(people_client.client_id, code_challenge=pkce_pair()[1], login_hint="ada@acme.example")
    answer = browser.open(path)

    assert answer.status_code == 302 and answer.headers["Location"].startswith(idp.url)
    assert query_of(answer.headers["Location"])["login_hint"] == "ada@acme.example"


# --- The round trip ---------------------------------------------------------------------------------------------


def test_round_trip_provisions_the_account_and_resumes_the_clients_request(live_server, acme, idp, people_client):
    browser = Browser(live_server.url)
    verifier, challenge = pkce_pair()
    page = browser.open(authorize_path(people_client.client_id, code_challenge=challenge, state="client-state-42"))
    to_provider = browser.submit(page, email="ada@acme.example", password="")
    back = identity_provider.at_provider(browser, idp, to_provider, email="ada@acme.example")
    consent = browser.open(back.headers["Location"])

    # Signed in: the platform's consent screen for the client that asked, then its code and its state.
    assert consent.status_code == 200 and people_client.name in consent.text
    answer = browser.submit(consent, allow="on")
    params = redirect_params(answer)
    assert params["state"] == "client-state-42"
    token = post_token(
        live_server, client_id=people_client.client_id, grant_type="authorization_code", code=params["code"],
        redirect_uri=REDIRECT_URI, code_verifier=verifier,
    )
    assert token.status_code == 200, token.text

    ada = User.objects.get(email="ada@acme.example")
    assert ada.organization_id == acme.organization_id  # just in time, in the company's organisation
    assert ada.role_names() == ["insights:read"]  # its default roles
    assert not ada.has_usable_password()  # it signs in at its provider only
    me = requests.get(
        f"{live_server.url}/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}, timeout=30
    ).json()
    assert me["type"] == "user" and me["id"] == str(ada.pk) and me["roles"] == ["insights:read"]


def test_an_existing_account_is_matched_by_its_address(live_server, acme, idp, people_client):
    grace = factories.make_user(acme.organization, email="grace@acme.example", roles=["insights:read", "insights:write"])
    answer = identity_provider.sign_in_through_sso(
        Browser(live_server.url), idp, people_client, email="grace@acme.example"
    )

    assert answer.status_code == 200 and "insights:write" in answer.text  # consent for grace's own roles
    assert User.objects.filter(email="grace@acme.example").count() == 1
    assert User.objects.get(email="grace@acme.example").pk == grace.pk


def test_without_provisioning_an_unknown_person_is_refused(live_server, acme, idp, people_client):
    acme.provision_users = False
    acme.save()
    answer = identity_provider.sign_in_through_sso(
        Browser(live_server.url), idp, people_client, email="linus@acme.example"
    )

    assert answer.status_code == 400 and "no account" in answer.text
    assert not User.objects.filter(email="linus@acme.example").exists()


def test_a_state_this_browser_did_not_start_is_refused(live_server, acme):
    answer = Browser(live_server.url).open("/v2/oauth/sso/callback?code=abc&state=forged")
    assert answer.status_code == 400 and "Sign in again" in answer.text


def test_a_nonce_that_differs_from_the_one_sent_is_refused(live_server, acme, idp, people_client):
    browser = Browser(live_server.url)
    page = browser.open(authorize_path(people_client.client_id, code_challenge=pkce_pair()[1]))
    to_provider = browser.submit(page, email="ada@acme.example", password="")
    state = query_of(to_provider.headers["Location"])["state"]
    # What the callback expects is in the session: make it expect another nonce than the provider will sign.
    session = SessionStore(session_key=browser.session.cookies["sessionid"])
    key = f"_state_{sso_sign_in.FRAMEWORK_NAME}_{state}"
    remembered = session[key]
    remembered["data"]["nonce"] = "not-the-nonce-sent"
    session[key] = remembered
    session.save()

    back = identity_provider.at_provider(browser, idp, to_provider, email="ada@acme.example")
    answer = browser.open(back.headers["Location"])

    assert answer.status_code == 400 and "could not be verified" in answer.text
    assert not User.objects.filter(email="ada@acme.example").exists()
    # Nobody is signed in: the client's request goes to the login page again.
    again = browser.open(authorize_path(people_client.client_id, code_challenge=pkce_pair()[1]))
    assert 'name="password"' in again.text


# --- Mandatory SSO ----------------------------------------------------------------------------------------------


@pytest.fixture
def mandatory(acme):
    acme.mandatory = True
    acme.save()
    return acme


def test_mandatory_sso_refuses_the_password_grant(live_server, mandatory, people_client):
    ada = factories.make_user(mandatory.organization, email="ada@acme.example", roles=["insights:read"])
    response = password_grant(live_server, people_client, ada.email)

    assert error_of(response) == (401, "sso_required")
    assert "identity provider" in response.json()["error_description"]
    # Unknown addresses of the domain get the same answer: the password is not what decides.
    assert error_of(password_grant(live_server, people_client, "nobody@acme.example")) == (401, "sso_required")


def test_mandatory_sso_keeps_the_password_grant_for_service_accounts(live_server, mandatory, people_client):
    robot = factories.make_user(
        mandatory.organization, email="etl@acme.example", roles=["insights:write"], is_service_account=True
    )
    response = password_grant(live_server, people_client, robot.email)

    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "insights:write"


def test_mandatory_sso_never_accepts_a_password_on_the_login_page(live_server, mandatory, idp, people_client):
    ada = factories.make_user(mandatory.organization, email="ada@acme.example")
    browser = Browser(live_server.url)
    path = authorize_path(people_client.client_id, code_challenge=pkce_pair()[1])
    # The client's request goes to the provider at once; the login page's password form is the one of ?password=1.
    page = browser.open(f"/v2/oauth/login?password=1&next={quote(path, safe='')}")
    answer = browser.submit(page, email=ada.email, password=PASSWORD)

    assert answer.status_code == 302 and answer.headers["Location"].startswith(idp.url)  # to the provider
    assert "_auth_user_id" not in SessionStore(session_key=browser.session.cookies["sessionid"]).load()


def test_optional_sso_keeps_the_password_grant(live_server, acme, people_client):
    ada = factories.make_user(acme.organization, email="ada@acme.example")
    assert password_grant(live_server, people_client, ada.email).status_code == 200
