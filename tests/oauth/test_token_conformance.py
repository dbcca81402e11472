"""Issue 18, item 5: the token endpoint's errors exactly as reference/oauth.txt's table says, the others as
docs/oauth.md lists them. Every error is an RFC 6749 §5.2 JSON body with an ``error_description``; a missing
``client_id`` is ``invalid_request``; the endpoint's own rate limit is ``rate_limited``, apart from the lockout's
``too_many_attempts``; a method a token URL does not take is a JSON 405 with ``Allow``."""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import requests
import time_machine

from accounts import services, sso_providers
from oauth.oauth_errors import ERRORS
from tests.support import factories
from tests.support.browser import Browser
from tests.support.oauth_client import (
    REDIRECT_URI,
    authorization_code,
    authorize_path,
    password_grant,
    pkce_pair,
    post_token,
)

# reference/oauth.txt's table, then docs/oauth.md's additions.
STATUS = {
    "invalid_client": 400,
    "invalid_redirect_uri": 400,
    "invalid_request": 400,
    "invalid_credentials": 401,
    "too_many_attempts": 429,
    "password_expired": 401,
    "otp_required": 401,
    "invalid_code": 400,
    "pkce_mismatch": 400,
    "invalid_grant": 400,
    "invalid_scope": 400,
    "invalid_target": 400,
    "unauthorized_client": 400,
    "unsupported_grant_type": 400,
    "unsupported_response_type": 400,
    "access_denied": 400,
    "sso_required": 401,
    "rate_limited": 429,
}


@dataclass
class Context:
    live_server: object
    org: object
    people_client: object
    app_client: object
    user: object
    settings: object

    def code_exchange(self, **changes) -> requests.Response:
        verifier, challenge = pkce_pair()
        code = authorization_code(self.live_server, self.people_client, self.user, code_challenge=challenge)
        exchange = dict(
            client_id=self.people_client.client_id, grant_type="authorization_code", code=code,
            redirect_uri=REDIRECT_URI, code_verifier=verifier,
        )
        return post_token(self.live_server, **{**exchange, **changes})

    def client_credentials(self, **changes) -> requests.Response:
        body = dict(
            grant_type="client_credentials", client_id=self.app_client.client.client_id,
            client_secret=self.app_client.client_secret,
        )
        return post_token(self.live_server, **{name: value for name, value in {**body, **changes}.items() if value})


@pytest.fixture
def context(live_server, org, people_client, app_client, settings):
    user = factories.make_user(org, email="ada@acme.example", roles=["insights:read"])
    return Context(live_server, org, people_client, app_client, user, settings)


def locked_out(context):
    context.settings.UBI = {"LOGIN_MAX_FAILURES": 1}
    password_grant(context.live_server, context.people_client, context.user.email, password="wrong")
    return password_grant(context.live_server, context.people_client, context.user.email)


def rate_limited(context):
    context.settings.UBI = {"TOKEN_RATE_LIMIT_PER_ADDRESS": "1/min"}
    with time_machine.travel(datetime(2031, 1, 1, 0, 0, 10, tzinfo=UTC), tick=False):
        context.client_credentials()
        return context.client_credentials()


def with_second_factor(context):
    services.totp_enable(context.user)
    return password_grant(context.live_server, context.people_client, context.user.email)


def password_to_change(context):
    context.user.must_change_password = True
    context.user.save()
    return password_grant(context.live_server, context.people_client, context.user.email)


def under_mandatory_sso(context):
    sso_providers.sso_configure(
        organization=context.org, issuer="https://login.acme.example", client_id="platform", client_secret="s3cret",
        domains=["acme.example"], mandatory=True,
    )
    return password_grant(context.live_server, context.people_client, context.user.email)


def another_organisations_user(context):
    stranger = factories.make_user(factories.make_org(), roles=["insights:read"])
    return password_grant(context.live_server, context.people_client, stranger.email)


def response_type_token(context):
    path = authorize_path(context.people_client.client_id, code_challenge=pkce_pair()[1], response_type="token")
    return Browser(context.live_server.url).open(path)


CASES = {
    "invalid_client": lambda context: context.client_credentials(client_id="no-such-client"),
    "invalid_redirect_uri": lambda context: context.code_exchange(redirect_uri="https://app.example/elsewhere"),
    "invalid_request": lambda context: context.client_credentials(grant_type=None),
    "invalid_credentials": lambda context: password_grant(
        context.live_server, context.people_client, context.user.email, password="wrong"
    ),
    "too_many_attempts": locked_out,
    "password_expired": password_to_change,
    "otp_required": with_second_factor,
    "invalid_code": lambda context: post_token(
        context.live_server, client_id=context.people_client.client_id, grant_type="authorization_code",
        code="no-such-code", redirect_uri=REDIRECT_URI, code_verifier=pkce_pair()[0],
    ),
    "pkce_mismatch": lambda context: context.code_exchange(code_verifier=pkce_pair()[0]),
    "invalid_grant": lambda context: post_token(
        context.live_server, client_id=context.people_client.client_id, grant_type="refresh_token",
        refresh_token="no-such-refresh-token",
    ),
    "invalid_scope": lambda context: context.client_credentials(scope="insights:admin"),
    "invalid_target": lambda context: context.client_credentials(resource="not a uri"),
    "unauthorized_client": lambda context: password_grant(
        context.live_server, factories.make_public_client(context.org), context.user.email
    ),
    "unsupported_grant_type": lambda context: context.client_credentials(grant_type="urn:example:magic"),
    "unsupported_response_type": response_type_token,
    "access_denied": another_organisations_user,
    "sso_required": under_mandatory_sso,
    "rate_limited": rate_limited,
}


def assert_error_body(response, code):
    assert response.status_code == STATUS[code], response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"] == code, body
    assert isinstance(body.get("error_description"), str) and body["error_description"].strip(), body
    return body


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_error_code_has_its_status_and_a_description(context, code):
    response = CASES[code](context)
    assert_error_body(response, code)
    if STATUS[code] == 429:
        assert int(response.headers["Retry-After"]) >= 1


def test_every_code_the_server_emits_is_tested_here():
    assert set(CASES) == set(STATUS) == set(ERRORS)


def test_the_token_endpoints_rate_limit_and_the_lockout_answer_different_codes(context):
    assert rate_limited(context).json()["error"] != locked_out(context).json()["error"]


GRANTS = {
    "password": {"username": "ada@acme.example", "password": "correct horse battery"},
    "refresh_token": {"refresh_token": "anything"},
    "authorization_code": {"code": "anything", "redirect_uri": REDIRECT_URI, "code_verifier": "x" * 43},
    "client_credentials": {"client_secret": "anything"},
}


@pytest.mark.parametrize("grant_type", sorted(GRANTS))
@pytest.mark.parametrize("encoding", ["json", "form"])
def test_a_missing_client_id_is_invalid_request(live_server, grant_type, encoding):
    """reference/oauth.txt: "A client_id is required for every grant"; missing, it is a missing parameter, as at
    the authorization endpoint."""
    body = {"grant_type": grant_type, **GRANTS[grant_type]}
    kwargs = {"json": body} if encoding == "json" else {"data": body}
    response = requests.post(f"{live_server.url}/v2/auth/token", timeout=30, **kwargs)
    assert "client_id" in assert_error_body(response, "invalid_request")["error_description"]


def test_a_client_named_by_http_basic_needs_no_client_id_in_the_body(live_server, app_client):
    response = requests.post(
        f"{live_server.url}/oauth2/token", data={"grant_type": "client_credentials"},
        auth=(app_client.client.client_id, app_client.client_secret), timeout=30,
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/oauth2/token", "POST"),
        ("GET", "/v2/auth/token", "POST"),
        ("PUT", "/v2/auth/token", "POST"),
        ("GET", "/v2/auth/token/some-token-id", "DELETE"),
        ("POST", "/v2/auth/token/some-token-id", "DELETE"),
        ("GET", "/oauth2/revoke", "POST"),
        ("DELETE", "/oauth2/revoke", "POST"),
    ],
)
def test_a_method_a_token_url_does_not_take_is_a_json_405(live_server, method, path, allowed):
    response = requests.request(method, f"{live_server.url}{path}", timeout=30)
    assert response.status_code == 405
    assert response.headers["Content-Type"] == "application/json"
    assert allowed in [name.strip() for name in response.headers["Allow"].split(",")]
    body = response.json()
    assert body["error"] == "invalid_request" and allowed in body["error_description"]
