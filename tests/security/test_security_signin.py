"""Issue 16's sign-in findings, each performed over HTTP and refused: on the live server, or on the project served
with production's environment.

- Finding 2: one sign-in. Django's stock ``/admin/login/`` would take a password alone (no second factor, no lockout,
  no single sign-on, no rate limit) and its session would then pass the authorization endpoint's consent.
- Finding 8 (its second half): the HTML login page is rate limited per source address, as the token endpoint is.
- Finding 12 (part): RFC 9207 ``iss`` in every authorization response, and production's cookies, HSTS and session.
"""

import ast
import json
import os
import re
import socket
import subprocess
import sys
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import time_machine
from django.utils import timezone

from accounts import services, sso_providers
from tests.support import factories
from tests.support.browser import Browser
from tests.support.oauth_client import PASSWORD, authorize_path, current_code, pkce_pair, redirect_params, sign_in
from tests.support.paths import PROJECT

LOGIN_PATH = "/v2/oauth/login"
LOCKED_MESSAGE = "Too many failed attempts"
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def path_and_query(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    return parts.path, {name: values[0] for name, values in parse_qs(parts.query).items()}


def post_stock_admin_login(base_url: str, email: str, password: str) -> requests.Session:
    """What an attacker with a password sends to Django's own admin form: username and password with a valid CSRF
    token (the admin form's, or while the form is gone, the one of any page of the site). Returns the session."""
    session = requests.Session()
    page = session.get(f"{base_url}/admin/login/?next=/admin/", allow_redirects=False, timeout=30)
    if not CSRF_FIELD.search(page.text):
        page = session.get(f"{base_url}{LOGIN_PATH}", timeout=30)
    session.post(
        f"{base_url}/admin/login/?next=/admin/",
        data={
            "username": email,
            "password": password,
            "next": "/admin/",
            "csrfmiddlewaretoken": CSRF_FIELD.search(page.text).group(1),
        },
        headers={"Referer": f"{base_url}/admin/login/"},
        allow_redirects=False,
        timeout=30,
    )
    return session


def lock_out(base_url: str, email: str) -> None:
    """Five wrong passwords on the login page: the account is locked (README, "Lockout and password age")."""
    browser = Browser(base_url)
    page = browser.open(LOGIN_PATH)
    for _ in range(5):
        browser.submit(page, email=email, password="not the password")
    assert LOCKED_MESSAGE in browser.submit(page, email=email, password=PASSWORD).text


@pytest.fixture
def staff_member(org):
    return factories.make_user(org, email="root@example.com", is_staff=True, is_superuser=True, roles=["insights:read"])


def with_totp(user, base_url):
    services.totp_enable(user)
    return user


def locked(user, base_url):
    lock_out(base_url, user.email)
    return user


def under_mandatory_sso(user, base_url):
    sso_providers.sso_configure(
        organization=user.organization, issuer="https://login.acme.example", client_id="ubi", client_secret="s",
        domains=["acme.example"], mandatory=True,
    )
    user.email = "root@acme.example"
    user.save()
    return user


@pytest.mark.parametrize("condition", [with_totp, locked, under_mandatory_sso], ids=lambda case: case.__name__)
def test_the_stock_admin_login_signs_nobody_in(live_server, staff_member, people_client, condition):
    """Issue 16, finding 2: the admin login is a second door without the checks. A password alone, posted to
    ``/admin/login/``, opens neither the admin nor the authorization endpoint's consent, for an account with a
    second factor, a locked account and an address under mandatory single sign-on alike."""
    user = condition(staff_member, live_server.url)
    session = post_stock_admin_login(live_server.url, user.email, PASSWORD)

    admin = session.get(f"{live_server.url}/admin/", allow_redirects=False, timeout=30)
    assert admin.status_code == 302, "the admin answered as if signed in"

    browser = Browser(live_server.url)
    browser.session = session
    page = browser.open(authorize_path(people_client.client_id, code_challenge=pkce_pair()[1]))
    assert urlsplit(page.url).path == LOGIN_PATH, "the consent screen was shown"
    answer = browser.submit(page, allow="on")
    assert answer.status_code != 302 or "code" not in answer.headers["Location"]


def test_the_admin_sends_anonymous_people_to_the_login_page_keeping_next(live_server):
    """Issue 16, finding 2: the admin's sign-in is the project's login page, and where the person was going is kept."""
    page = Browser(live_server.url).open("/admin/accounts/user/")
    assert page.status_code == 200
    assert path_and_query(page.url) == (LOGIN_PATH, {"next": "/admin/accounts/user/"})
    assert 'name="email"' in page.text

    stock = requests.get(f"{live_server.url}/admin/login/", allow_redirects=False, timeout=30)
    assert stock.status_code == 302
    assert path_and_query(stock.headers["Location"]) == (LOGIN_PATH, {"next": "/admin/"})


def test_staff_reach_the_admin_through_the_login_page_and_second_factor_then_sign_out(live_server, staff_member):
    """Issue 16, finding 2: the one way into the admin is the login page with every step (here the second factor);
    signing out of the admin ends the session."""
    with_totp(staff_member, live_server.url)
    browser = Browser(live_server.url)
    page = browser.submit(browser.open("/admin/"), email=staff_member.email, password=PASSWORD)
    assert 'name="code"' in page.text
    assert browser.open("/admin/").url.startswith(f"{live_server.url}{LOGIN_PATH}"), "not signed in before the code"

    admin = browser.submit(page, code=current_code(staff_member))
    assert (admin.status_code, admin.url) == (200, f"{live_server.url}/admin/")
    assert "Site administration" in admin.text

    logout = browser.session.post(
        f"{live_server.url}/admin/logout/",
        data={"csrfmiddlewaretoken": CSRF_FIELD.search(admin.text).group(1)},
        headers={"Referer": admin.url},
        timeout=30,
    )
    assert logout.status_code == 200 and "Logged out" in logout.text
    assert browser.open("/admin/").url.startswith(f"{live_server.url}{LOGIN_PATH}")


def test_people_who_are_not_staff_do_not_reach_the_admin(live_server, org):
    """Issue 16, finding 2: signing in at the login page is not admin access; the admin still wants staff."""
    person = factories.make_user(org)
    browser = Browser(live_server.url)
    page = browser.submit(browser.open("/admin/"), email=person.email, password=PASSWORD)
    assert urlsplit(page.url).path == LOGIN_PATH and "Site administration" not in page.text
    assert browser.session.get(f"{live_server.url}/admin/", allow_redirects=False, timeout=30).status_code == 302


def test_prompt_login_asks_again_at_the_login_page(live_server, people_client, org):
    """Issue 16, finding 2: django-oauth-toolkit sends ``prompt=login`` to ``LOGIN_URL``: the project's login page,
    which then resumes the authorization request (without ``prompt``)."""
    person = factories.make_user(org, roles=["insights:read"])
    browser = Browser(live_server.url)
    browser.submit(browser.open(LOGIN_PATH), email=person.email, password=PASSWORD)
    path = authorize_path(people_client.client_id, code_challenge=pkce_pair()[1], prompt="login")

    answer = browser.session.get(f"{live_server.url}{path}", allow_redirects=False, timeout=30)

    assert answer.status_code == 302
    login_path, params = path_and_query(answer.headers["Location"])
    assert login_path == LOGIN_PATH
    next_path, next_params = path_and_query(params["next"])
    assert next_path == "/v2/oauth/authorize" and "prompt" not in next_params
    assert next_params["client_id"] == people_client.client_id


APPS = ("accounts", "oauth", "insights", "rest_api", "grpc_api", "project", "runtime")


def test_one_function_signs_sessions_in():
    """Issue 16, finding 2: the project's one module that imports ``django.contrib.auth.login`` is
    ``oauth.sign_in_views``, which calls it in ``signed_in`` only, the end of the login page's steps and of the single
    sign-on callback. A guard against a new door: the stock admin form, Django's own code, is the live tests' job."""
    callers = set()
    for source in (source for app in APPS for source in (PROJECT / app).rglob("*.py")):
        tree = ast.parse(source.read_text(), str(source))
        for node in ast.walk(tree):
            imported = isinstance(node, ast.ImportFrom) and node.module == "django.contrib.auth"
            if imported and "login" in {alias.name for alias in node.names}:
                callers.add(str(source.relative_to(PROJECT)))
            if isinstance(node, ast.Attribute) and node.attr == "login" and getattr(node.value, "id", "") == "auth":
                callers.add(str(source.relative_to(PROJECT)))
    assert callers == {"oauth/sign_in_views.py"}


# --- Finding 8: the login page's per-address limit ---------------------------------------------------------------


@pytest.fixture
def frozen_minute():
    """Time stands still 5 s into a minute, for the server's threads too: a per-minute window cannot roll over."""
    with time_machine.travel(timezone.now().replace(second=5, microsecond=0), tick=False):
        yield


def test_login_page_limits_attempts_per_address(live_server, settings, org, frozen_minute):
    """Issue 16, finding 8: the login page answers 429 with ``Retry-After`` once an address has posted
    ``LOGIN_RATE_LIMIT_PER_ADDRESS`` times in the window, whichever accounts it tried (password spraying), and
    refuses even the right password then; showing the page is not counted, and other addresses are not held up."""
    settings.UBI = {**settings.UBI, "LOGIN_RATE_LIMIT_PER_ADDRESS": "3/min", "TRUSTED_PROXY_COUNT": 1}
    person = factories.make_user(org)
    sprayer, colleague = Browser(live_server.url), Browser(live_server.url)
    sprayer.session.headers["X-Forwarded-For"] = "203.0.113.7"
    colleague.session.headers["X-Forwarded-For"] = "198.51.100.9"
    page = sprayer.open(LOGIN_PATH)
    for number in range(3):
        assert sprayer.submit(page, email=f"guess{number}@example.com", password="Summer2026!").status_code == 401
        assert sprayer.open(LOGIN_PATH).status_code == 200

    limited = sprayer.submit(page, email=person.email, password=PASSWORD)

    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "55"
    assert "Too many sign-in attempts" in limited.text
    assert urlsplit(sprayer.open("/v2/oauth/two-step").url).path == LOGIN_PATH, "signed in while limited"
    welcome = colleague.submit(colleague.open(LOGIN_PATH), email=person.email, password=PASSWORD)
    assert welcome.status_code == 200 and urlsplit(welcome.url).path == "/v2/oauth/two-step"


def test_the_account_lockout_still_answers_under_the_address_limit(live_server, org):
    """Issue 16, finding 8: with the default per-address limit, five failures still lock the account: 429 with
    ``Retry-After`` and the lockout's message, even for the right password."""
    person = factories.make_user(org)
    browser = Browser(live_server.url)
    page = browser.open(LOGIN_PATH)
    for _ in range(5):
        assert browser.submit(page, email=person.email, password="wrong").status_code == 401
    locked_page = browser.submit(page, email=person.email, password=PASSWORD)
    assert locked_page.status_code == 429 and 0 < int(locked_page.headers["Retry-After"]) <= 15 * 60
    assert LOCKED_MESSAGE in locked_page.text


# --- Finding 12: RFC 9207 iss -----------------------------------------------------------------------------------


def test_authorization_responses_name_the_issuer_of_the_metadata(live_server, people_client, org):
    """Issue 16, finding 12: RFC 9207. The code and the ``access_denied`` redirect both carry ``iss``, equal to the
    metadata's ``issuer`` (RFC 8414), which says so with ``authorization_response_iss_parameter_supported``."""
    person = factories.make_user(org, roles=["insights:read"])
    metadata = requests.get(f"{live_server.url}/.well-known/oauth-authorization-server", timeout=30).json()
    discovery = requests.get(f"{live_server.url}/.well-known/openid-configuration", timeout=30).json()
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert discovery["authorization_response_iss_parameter_supported"] is True

    answers = {}
    for approve in (True, False):
        path = authorize_path(people_client.client_id, code_challenge=pkce_pair()[1], state=f"s-{approve}")
        answers[approve] = sign_in(Browser(live_server.url), path, email=person.email, password=PASSWORD, approve=approve)

    for answer in answers.values():
        assert parse_qs(urlsplit(answer.headers["Location"]).query)["iss"] == [metadata["issuer"]]
    assert set(redirect_params(answers[True])) == {"code", "state", "iss"}
    assert redirect_params(answers[False]) == {"error": "access_denied", "state": "s-False", "iss": metadata["issuer"]}


# --- Finding 12: production's cookies, HSTS and session ---------------------------------------------------------

PRODUCTION = {"SECURE_COOKIES": "true", "DEBUG": "false", "ALLOWED_HOSTS": "ubi.example.com"}
# Left out of the environment the subprocesses inherit: each test says what it sets.
OUR_ENVIRONMENT = {
    "DATABASE_URL", "REDIS_URL", "TEST_DATABASE_NAME", "VAR_DIR", "SESSION_COOKIE_AGE", "HSTS_SECONDS", *PRODUCTION,
}
SECURITY_SETTINGS = (
    "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE",
    "SESSION_COOKIE_AGE", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_PROXY_SSL_HEADER",
)


def django_environment(**environment) -> dict[str, str]:
    """This process's environment on ``project.settings`` with ``environment`` added; the database and Redis of the
    test run are left out (the embedded default, in ``VAR_DIR``)."""
    env = {key: value for key, value in os.environ.items() if key not in OUR_ENVIRONMENT}
    env.update(DJANGO_SETTINGS_MODULE="project.settings", SECRET_KEY="x" * 20 + os.urandom(24).hex(), **environment)
    return env


def run_django(args: list[str], **environment) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=PROJECT, env=django_environment(**environment), capture_output=True, text=True,
        timeout=120,
    )


def security_settings(**environment) -> dict:
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {SECURITY_SETTINGS!r}}}))"
    )
    process = run_django(["-c", script], **environment)
    assert process.returncode == 0, process.stderr
    return json.loads(process.stdout)


def test_production_has_secure_cookies_hsts_and_a_working_day_session():
    """Issue 16, finding 12: with ``SECURE_COOKIES=true`` (production behind HTTPS) the session and CSRF cookies are
    ``Secure``, responses carry HSTS for a year with subdomains, and a session lasts a working day (8 hours), not
    Django's two weeks; the session cookie is ``HttpOnly`` and ``SameSite=Lax`` everywhere."""
    production = security_settings(**PRODUCTION)
    assert production["SESSION_COOKIE_SECURE"] is True and production["CSRF_COOKIE_SECURE"] is True
    assert production["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600 and production["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert production["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert production["SESSION_COOKIE_AGE"] == 8 * 3600
    assert production["SESSION_COOKIE_HTTPONLY"] is True and production["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert security_settings(**PRODUCTION, SESSION_COOKIE_AGE="36000")["SESSION_COOKIE_AGE"] == 36000


@pytest.fixture(scope="module")
def production_server(tmp_path_factory):
    """The project served with production's environment on a database of its own, with one person: its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    environment = {**PRODUCTION, "ALLOWED_HOSTS": "127.0.0.1", "VAR_DIR": str(tmp_path_factory.mktemp("production"))}
    for command in (["migrate", "--noinput"], ["create_user", "--org", "Acme", "--email", "ada@acme.example",
                                                "--password", PASSWORD]):
        assert run_django(["manage.py", *command], **environment).returncode == 0
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", address], cwd=PROJECT,
        env=django_environment(**environment), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://{address}"
        for _attempt in range(600):
            try:
                requests.get(f"{url}{LOGIN_PATH}", timeout=5)
                break
            except requests.ConnectionError:
                assert server.poll() is None, "the server exited"
                time.sleep(0.1)  # polling for the port to open, not for a result
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def set_cookies(response) -> dict[str, str]:
    """Each cookie the response sets, by name: its whole ``Set-Cookie`` line."""
    return {line.split("=", 1)[0]: line for line in response.raw.headers.getlist("Set-Cookie")}


def test_production_serves_hsts_and_secure_cookies_for_a_working_day(production_server):
    """Issue 16, finding 12: served with ``SECURE_COOKIES=true`` behind a TLS proxy (``X-Forwarded-Proto``), the
    login page sends HSTS, and signing in sets a session cookie that is ``Secure``, ``HttpOnly``, ``SameSite=Lax`` and
    lasts 8 hours; the CSRF cookie is ``Secure`` too."""
    through_tls = {"X-Forwarded-Proto": "https"}
    page = requests.get(f"{production_server}{LOGIN_PATH}", headers=through_tls, timeout=30)
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "; Secure" in set_cookies(page)["csrftoken"]

    signed_in = requests.post(
        f"{production_server}{LOGIN_PATH}",
        data={"email": "ada@acme.example", "password": PASSWORD, "csrfmiddlewaretoken": CSRF_FIELD.search(page.text)[1]},
        # A browser sends a Secure cookie back over HTTPS only; this test speaks plain HTTP to the server.
        cookies={"csrftoken": page.cookies["csrftoken"]},
        headers={**through_tls, "Referer": f"https://{urlsplit(production_server).netloc}{LOGIN_PATH}"},
        allow_redirects=False,
        timeout=30,
    )

    assert signed_in.status_code == 302, signed_in.text
    session = set_cookies(signed_in)["sessionid"]
    for attribute in ("; Secure", "; HttpOnly", "; SameSite=Lax", "; Max-Age=28800"):
        assert attribute in session, session


def test_the_demo_on_plain_http_keeps_cookies_a_browser_sends_back():
    """Issue 16, finding 12: without ``SECURE_COOKIES`` (``start.sh`` on http://127.0.0.1:8000) no cookie is
    ``Secure`` and no HSTS is sent, or the browser would drop the session; the session is as short."""
    demo = security_settings()
    assert demo["SESSION_COOKIE_SECURE"] is False and demo["CSRF_COOKIE_SECURE"] is False
    assert demo["SECURE_HSTS_SECONDS"] == 0
    assert demo["SESSION_COOKIE_AGE"] == 8 * 3600


# What `check --deploy` says about cookies, HSTS, sessions and RFC 9207 iss.
SIGN_IN_DEPLOY_CHECKS = {
    "security.W004", "security.W005", "security.W010", "security.W011", "security.W012", "security.W016",
    "oauth2_provider.W005",
}


def test_check_deploy_has_nothing_to_say_about_cookies_hsts_or_iss_in_production():
    """Issue 16, finding 12: ``manage.py check --deploy`` with production's environment raises none of the warnings
    about cookies, HSTS and the ``iss`` parameter."""
    process = run_django(["manage.py", "check", "--deploy"], **PRODUCTION)
    raised = set(re.findall(r"\(([\w.]+\.[WE]\d+)\)", process.stdout + process.stderr))
    assert not raised & SIGN_IN_DEPLOY_CHECKS, process.stdout + process.stderr
