"""A company's own OpenID Connect provider for the single sign-on tests: this project itself, as a second
deployment with its own database, where the company's people have their accounts (in an organisation acting as the
identity provider) and this platform is registered as an OpenID Connect client (RS256 ID tokens).

A separate process and database, because that is what a company's identity provider is: the accounts it knows
are not this platform's, and the same address exists on both sides (one per database, as email addresses are
unique in each). Discovery, JWKS, the authorization and token endpoints and the ID token's signature all go over
real HTTP.

Its ID tokens say ``email_verified: true``, as Okta, Entra ID or Google do for the addresses they manage (this
project as a provider does not send the claim); a test chooses other claims with ``IdentityProvider.id_token_claims``
(``sub`` included), and amends the discovery document with ``IdentityProvider.discovery``. It writes down the path
of every request before answering it, so a test counts what reached it (``requests_to``). An ID token the provider
itself would never issue (another ``aud``, ``iss``, ``azp``, ``nonce``, an ``exp`` past, a signature by another key)
is what its token endpoint answers within ``IdentityProvider.id_token_rewritten``: the token it issued, its claims
changed and signed again. Within ``IdentityProvider.claims_in_userinfo`` it behaves as OpenID Connect Core §5.4 allows a certified provider to: its ID
tokens carry ``sub`` (and what the test adds), and ``email``, ``email_verified`` and ``name`` come from its UserInfo
endpoint.
"""

import contextlib
import json
import os
import secrets
import signal
import socket
import socketserver
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIServer, make_server

import jwt
import pytest
import requests
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.core.wsgi import get_wsgi_application
from jwcrypto.jwk import JWK

from accounts import sso_providers
from accounts.models import SsoProvider, User
from oauth.principals import principal_from_bearer
from oauth.tokens import USER
from oauth.validators import OAuth2Validator
from project.errors import Unauthenticated
from project.secrets import rsa_private_key_pem
from tests.support import factories
from tests.support.browser import Browser
from tests.support.oauth_client import authorize_path, pkce_pair
from tests.support.paths import PROJECT

PASSWORD = "idp password for tests"  # every account's at the provider
PEOPLE = ("ada@acme.example", "grace@acme.example", "linus@acme.example")
# The claims its ID tokens add to this project's own (``oauth.validators``), unless a test chooses others.
DEFAULT_CLAIMS = {"email_verified": True}
DISCOVERY_PATH = "/.well-known/openid-configuration"
DOMAIN = "acme.example"  # the people's, which the platform's organisation routes to the provider (``acme``)
# Files in the provider's VAR_DIR, read by its process at each request.
CLAIMS_FILE = "id-token-claims.json"
DISCOVERY_FILE = "discovery-overrides.json"
REWRITE_FILE = "id-token-rewrite.json"
REQUESTS_FILE = "requests.log"
USERINFO_FILE = "userinfo.json"  # present: the claims are at the UserInfo endpoint (``claims_in_userinfo``)
USERINFO_PATH = "/userinfo"

_SETUP = """
import json, sys
from accounts import services
from accounts.models import AppClient
org = services.organization_get_or_create(name="Acme identity provider")
for email in {people!r}:
    services.user_create(organization=org, email=email, password={password!r}, roles=["insights:read"])
client = AppClient(
    organization=org, name="User Behavior Insights", client_type=AppClient.CLIENT_CONFIDENTIAL,
    authorization_grant_type=AppClient.GRANT_AUTHORIZATION_CODE, redirect_uris={callback!r}, algorithm="RS256",
)
client.client_secret = {secret!r}
client.full_clean()
client.save()
print(json.dumps({{"client_id": client.client_id}}))
"""


# Django is set up before this module is imported, as its fixtures use the models.
_SERVE = """
import os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django.setup()
from tests.support.identity_provider import serve
serve({var_dir!r}, {port})
"""


@dataclass(frozen=True)
class IdentityProvider:
    url: str
    client_id: str
    client_secret: str
    var_dir: Path

    @property
    def private_key_pem(self) -> bytes:
        """The key it signs ID tokens with, to forge tokens it never issued."""
        return (self.var_dir / "oidc-rsa-key.pem").read_bytes()

    @contextlib.contextmanager
    def id_token_claims(self, **claims):
        """Within the block, its ID tokens carry ``claims`` over this project's own (``email`` and ``name``)
        instead of ``DEFAULT_CLAIMS``: ``{}`` leaves ``email_verified`` out, ``sub=`` names another person."""
        with _file_contents(self.var_dir / CLAIMS_FILE, claims, DEFAULT_CLAIMS):
            yield

    @contextlib.contextmanager
    def discovery(self, **overrides):
        """Within the block, its discovery document says ``overrides`` (an endpoint elsewhere, another issuer)."""
        with _file_contents(self.var_dir / DISCOVERY_FILE, overrides, {}):
            yield

    @contextlib.contextmanager
    def claims_in_userinfo(self, id_token: dict | None = None, **overrides):
        """Within the block, its ID tokens carry ``sub`` and the protocol's claims (iss, aud, exp, iat, nonce,
        auth_time, at_hash) and ``id_token`` alone, and its discovery document names a UserInfo endpoint answering
        ``sub``, ``email``, ``email_verified: true`` and ``name`` for the access token's person, with ``overrides``
        over them (``sub=`` another person)."""
        path = self.var_dir / USERINFO_FILE
        path.write_text(json.dumps({"id_token": id_token or {}, "userinfo": overrides}))
        try:
            yield
        finally:
            path.unlink()

    @contextlib.contextmanager
    def id_token_rewritten(self, *, signed_by_another_key: bool = False, **claims):
        """Within the block, the ID token its token endpoint answers has ``claims`` over those it issued, and is
        signed again with its own key (its ``kid``), or with another key under that ``kid``."""
        with _file_contents(self.var_dir / REWRITE_FILE, {"claims": claims, "other_key": signed_by_another_key}, {}):
            yield

    def requests_to(self, path: str) -> int:
        """How many requests for ``path`` it has received so far."""
        received = (self.var_dir / REQUESTS_FILE).read_text().splitlines()
        return received.count(path)


@contextlib.contextmanager
def _file_contents(path: Path, contents: dict, default: dict):
    path.write_text(json.dumps(contents))
    try:
        yield
    finally:
        path.write_text(json.dumps(default))


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def serve(var_dir: str, port: int) -> None:
    """The provider's process: this project on 127.0.0.1:``port``, its ID tokens carrying the claims of
    ``CLAIMS_FILE`` over its own, its discovery document amended by ``DISCOVERY_FILE``, and every request's path
    appended to ``REQUESTS_FILE`` before it is answered."""
    var = Path(var_dir)
    own_claims = OAuth2Validator.get_additional_claims

    def get_additional_claims(validator, request):
        if (var / USERINFO_FILE).exists():
            return _read_json(var / USERINFO_FILE)["id_token"]
        return {**own_claims(validator, request), **_read_json(var / CLAIMS_FILE)}

    OAuth2Validator.get_additional_claims = get_additional_claims
    application = get_wsgi_application()

    def provider(environ, start_response):
        with open(var / REQUESTS_FILE, "a") as received:
            received.write(environ["PATH_INFO"] + "\n")
        userinfo = var / USERINFO_FILE
        if environ["PATH_INFO"] == USERINFO_PATH and userinfo.exists():
            return _userinfo(environ, start_response, _read_json(userinfo)["userinfo"])
        overrides = {**_userinfo_discovery(userinfo), **_read_json(var / DISCOVERY_FILE)}
        rewrite = _read_json(var / REWRITE_FILE)
        if environ["PATH_INFO"] == DISCOVERY_PATH and overrides:
            return _amended(application, environ, start_response, lambda document: {**document, **overrides})
        if environ["PATH_INFO"] != DISCOVERY_PATH and rewrite:
            return _amended(application, environ, start_response, lambda answer: _rewritten(var, answer, rewrite))
        return application(environ, start_response)

    with make_server("127.0.0.1", port, provider, server_class=_ThreadingServer) as server:
        server.serve_forever()


def _amended(application, environ, start_response, amend):
    """The application's JSON answer to ``environ``, passed through ``amend``."""
    answered = {}
    response = application(environ, lambda status, headers, exc_info=None: answered.update(status=status, headers=headers))
    try:
        body = b"".join(response)
    finally:
        response.close()
    if dict(answered["headers"]).get("Content-Type", "").startswith("application/json"):
        body = json.dumps(amend(json.loads(body))).encode()
    headers = [(name, value) for name, value in answered["headers"] if name.lower() != "content-length"]
    start_response(answered["status"], [*headers, ("Content-Length", str(len(body)))])
    return [body]


def _rewritten(var: Path, answer: dict, rewrite: dict) -> dict:
    """A token endpoint's ``answer`` whose ID token carries ``rewrite``'s claims, signed again."""
    if "id_token" not in answer:
        return answer
    own_key = (var / "oidc-rsa-key.pem").read_bytes()
    claims = {**jwt.decode(answer["id_token"], options={"verify_signature": False}), **rewrite["claims"]}
    key = rsa_private_key_pem() if rewrite["other_key"] else own_key
    kid = JWK.from_pem(own_key).thumbprint()
    return {**answer, "id_token": jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})}


def _userinfo_discovery(userinfo: Path) -> dict:
    """The discovery document's ``userinfo_endpoint`` while the claims are there."""
    return {"userinfo_endpoint": settings.OAUTH_ISSUER + USERINFO_PATH} if userinfo.exists() else {}


def _userinfo(environ, start_response, overrides: dict):
    """OpenID Connect Core §5.3: the claims of the person the bearer access token (one this provider issued) is
    for, with ``overrides`` over them; 401 for any other token."""
    scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    try:
        principal = principal_from_bearer(token if scheme.lower() == "bearer" else "")
        user = User.objects.get(pk=principal.id) if principal.kind == USER else None
    except (Unauthenticated, User.DoesNotExist):
        user = None
    if user is None:
        start_response("401 Unauthorized", [("WWW-Authenticate", 'Bearer error="invalid_token"')])
        return [b""]
    claims = {"sub": str(user.pk), "email": user.email, "email_verified": True, "name": user.full_name, **overrides}
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(claims).encode()]


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    """A thread a request, as the platform's callback and the browser may be at the provider at once."""

    daemon_threads = True


def at_provider(browser: Browser, idp: IdentityProvider, response, *, email: str, password: str = PASSWORD):
    """The person at their provider, sent there by ``response``: its login page, its consent; returns its redirect
    back to the platform."""
    assert response.status_code == 302 and response.headers["Location"].startswith(idp.url + "/"), response.text
    there = Browser(idp.url)
    there.session = browser.session  # one browser, two sites
    page = there.open(response.headers["Location"])
    page = there.submit(page, email=email, password=password)
    assert "openid" in page.text  # the provider's own consent screen, for an ID token
    back = there.submit(page, allow="on")
    assert back.status_code == 302, back.text
    return back


def sign_in_through_sso(browser: Browser, idp: IdentityProvider, people_client, *, email: str, as_email: str = "",
                        state: str = "s-123"):
    """The client's authorization request, the login page given ``email``, the provider (signed in there as
    ``as_email``, the same person by default), back: returns the platform's answer to the provider's redirect."""
    page = browser.open(authorize_path(people_client.client_id, code_challenge=pkce_pair()[1], state=state))
    to_provider = browser.submit(page, email=email, password="")
    back = at_provider(browser, idp, to_provider, email=as_email or email)
    return browser.open(back.headers["Location"])


def signed_in_user_id(browser: Browser):
    """Who the platform's session of ``browser`` signed in, if anyone (the provider's session cookie, of another
    host, has the same name)."""
    host = urlsplit(browser.base_url).hostname
    key = next((cookie.value for cookie in browser.session.cookies
                if cookie.name == "sessionid" and cookie.domain.startswith(host)), None)
    return SessionStore(session_key=key).load().get("_auth_user_id") if key else None


def assert_refused(answer, browser: Browser, reason: str):
    """The callback's refusal: the login page again with ``reason``, 400, nobody signed in."""
    assert answer.status_code == 400 and reason in answer.text, answer.text[:2000]
    assert signed_in_user_id(browser) is None


def assert_signed_in(answer, browser: Browser, email: str) -> User:
    """Signed in as ``email``: the platform's consent screen for the client that asked. Returns the user."""
    assert answer.status_code == 200 and 'name="allow"' in answer.text, answer.text[:2000]
    user = User.objects.get(email=email)
    assert signed_in_user_id(browser) == str(user.pk)
    return user


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, seconds: int = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the identity provider exited early with {process.returncode}")
        try:
            requests.get(url, timeout=2)
            return
        except (requests.ConnectionError, requests.Timeout):  # refused, or accepted but not answered yet
            time.sleep(0.2)
    pytest.fail(f"the identity provider did not answer {url} within {seconds} s")


def start(var_dir: Path, *, callback_url: str):
    """Migrate a fresh database, create the provider's organisation, people and client, serve it. A generator:
    yields the ``IdentityProvider``, stops the server when resumed."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    private = {"DATABASE_URL", "REDIS_URL", "TEST_DATABASE_NAME", "DJANGO_SETTINGS_MODULE", "SECRET_KEY",
               "JWT_PRIVATE_KEY", "OIDC_RSA_PRIVATE_KEY"}
    env = {key: value for key, value in os.environ.items() if key not in private}
    env.update(VAR_DIR=str(var_dir), OAUTH_ISSUER=url, DEBUG="false")

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=PROJECT, env=env, capture_output=True, text=True, check=True
        )

    manage("migrate", "--noinput")
    secret = secrets.token_urlsafe(32)
    setup = _SETUP.format(people=PEOPLE, password=PASSWORD, callback=callback_url, secret=secret)
    client_id = json.loads(manage("shell", "-c", setup).stdout.strip().splitlines()[-1])["client_id"]
    (var_dir / CLAIMS_FILE).write_text(json.dumps(DEFAULT_CLAIMS))
    (var_dir / REQUESTS_FILE).write_text("")
    log = open(var_dir / "server.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVE.format(var_dir=str(var_dir), port=port)],
        cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        _wait_for(url + DISCOVERY_PATH, process)
        yield IdentityProvider(url=url, client_id=client_id, client_secret=secret, var_dir=var_dir)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


# --- Fixtures of the single sign-on tests (imported by their modules) --------------------------------------------


@pytest.fixture(scope="session")
def idp(live_server, tmp_path_factory):
    yield from start(
        tmp_path_factory.mktemp("identity-provider"), callback_url=f"{live_server.url}/v2/oauth/sso/callback"
    )


@pytest.fixture(autouse=True)
def platform_for_sso(settings, live_server, monkeypatch):
    """The platform's public address, which the callback URL registered at the provider is made of; and the
    provider, served over plain HTTP on this machine's loopback address, allowed (``SSO_ALLOW_PRIVATE_NETWORKS``)."""
    settings.OAUTH_ISSUER = live_server.url
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    settings.UBI = {**settings.UBI, "SSO_ALLOW_PRIVATE_NETWORKS": True}


@pytest.fixture
def acme(org, idp) -> SsoProvider:
    """``org`` (the company) signs in at ``idp`` for acme.example; new people get insights:read."""
    return sso_providers.sso_configure(
        organization=org,
        issuer=idp.url,
        client_id=idp.client_id,
        client_secret=idp.client_secret,
        domains=[DOMAIN],
        default_roles=factories.ensure_roles(["insights:read"]),
    )
