"""Single sign-on as a certified OpenID Connect provider and reference/oauth.txt have it (issue 18, items 1 and 2),
over the live server with the tests' real identity provider (``tests.support.identity_provider``): the browser
goes through the client's authorization request, the provider's pages and the platform's callback.

- Claims from the UserInfo endpoint (OpenID Connect Core §5.3, §5.4): a provider that puts ``email``,
  ``email_verified`` and ``name`` only there, one that puts them in the ID token, a claim in each, and a UserInfo
  answer about another ``sub`` (§5.3.4).
- "Companies with SSO configured are automatically redirected to their identity provider during the OAuth authorize
  flow": mandatory single sign-on goes to the provider at once, optional single sign-on is offered first on the login
  page; administrators keep a password sign-in and service accounts the password grant.
"""

import html
import re
from urllib.parse import parse_qs, quote, urlsplit

from accounts.models import User
from tests.support import factories
from tests.support.browser import Browser
from tests.support.identity_provider import (
    USERINFO_PATH,
    assert_signed_in,
    at_provider,
    signed_in_user_id,
    sign_in_through_sso,
)
from tests.support.identity_provider import acme, idp, platform_for_sso  # noqa: F401 (the fixtures)
from tests.support.oauth_client import PASSWORD, authorize_path, error_of, password_grant, pkce_pair, redirect_params

SSO_LINK = re.compile(r'<a class="button" href="([^"]+)">Sign in with ([^<]+) single sign-on</a>')


def assert_at_provider(answer, idp, *, login_hint: str | None = None) -> dict:
    """The platform's redirect to the provider's authorization endpoint; returns its query."""
    assert answer.status_code == 302, answer.text[:2000]
    location = answer.headers["Location"]
    assert location.startswith(f"{idp.url}/v2/oauth/authorize?"), location
    query = {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}
    assert query.get("login_hint") == login_hint
    return query


def make_mandatory(provider):
    provider.mandatory = True
    provider.save()


# --- Claims from the UserInfo endpoint -----------------------------------------------------------------------------


def test_a_provider_giving_the_claims_only_at_userinfo_signs_in(live_server, acme, idp, people_client):
    """§5.4: the ID token says who (``sub``), the UserInfo endpoint the verified address and the name."""
    browser = Browser(live_server.url)
    with idp.claims_in_userinfo(name="Ada Lovelace"):
        answer = sign_in_through_sso(browser, idp, people_client, email="ada@acme.example")

    ada = assert_signed_in(answer, browser, "ada@acme.example")
    assert ada.full_name == "Ada Lovelace" and ada.organization_id == acme.organization_id
    assert idp.requests_to(USERINFO_PATH) >= 1


def test_a_provider_giving_the_claims_in_the_id_token_signs_in_without_userinfo(live_server, acme, idp, people_client):
    """The ID token has them all: the UserInfo endpoint the discovery document names is not asked (it would
    answer for another person here, which would refuse the sign-in)."""
    before = idp.requests_to(USERINFO_PATH)
    browser = Browser(live_server.url)
    id_token = {"email": "grace@acme.example", "email_verified": True, "name": "Grace Hopper"}
    with idp.claims_in_userinfo(id_token=id_token, sub="someone-else"):
        answer = sign_in_through_sso(browser, idp, people_client, email="grace@acme.example")

    grace = assert_signed_in(answer, browser, "grace@acme.example")
    assert grace.full_name == "Grace Hopper"
    assert idp.requests_to(USERINFO_PATH) == before


def test_each_claim_comes_from_the_id_token_when_there_else_from_userinfo(live_server, acme, idp, people_client):
    """The address and its verification from the ID token, the name it lacks from UserInfo, whose other address is
    not taken."""
    browser = Browser(live_server.url)
    id_token = {"email": "linus@acme.example", "email_verified": True}
    with idp.claims_in_userinfo(id_token=id_token, email="ada@acme.example", name="Linus Torvalds"):
        answer = sign_in_through_sso(browser, idp, people_client, email="linus@acme.example")

    linus = assert_signed_in(answer, browser, "linus@acme.example")
    assert linus.full_name == "Linus Torvalds"
    assert not User.objects.filter(email="ada@acme.example").exists()


def test_a_userinfo_answer_about_another_sub_signs_nobody_in(live_server, acme, idp, people_client):
    """§5.3.4: the UserInfo answer must be about the ID token's ``sub``; another person's claims are refused: no
    account, no session."""
    browser = Browser(live_server.url)
    with idp.claims_in_userinfo(sub="another-person"):
        answer = sign_in_through_sso(browser, idp, people_client, email="ada@acme.example")

    assert answer.status_code == 400 and "UserInfo answer is about someone else" in answer.text, answer.text[:2000]
    assert signed_in_user_id(browser) is None
    assert not User.objects.filter(email="ada@acme.example").exists()


# --- The authorization request goes to the client's organisation's provider -----------------------------------------


def test_mandatory_sso_sends_the_authorization_request_to_the_provider_at_once(live_server, acme, idp, people_client):
    """No address typed: the client's request lands at the provider, and the sign-in resumes it (consent, then
    the client's code with its state)."""
    make_mandatory(acme)
    browser = Browser(live_server.url)
    to_provider = browser.open(authorize_path(people_client.client_id, code_challenge=pkce_pair()[1], state="st-9"))
    assert_at_provider(to_provider, idp, login_hint=None)

    back = at_provider(browser, idp, to_provider, email="ada@acme.example")
    consent = browser.open(back.headers["Location"])
    assert_signed_in(consent, browser, "ada@acme.example")
    assert redirect_params(browser.submit(consent, allow="on"))["state"] == "st-9"


def test_optional_sso_offers_the_provider_first_and_the_password_form_second(live_server, acme, idp, people_client):
    """The login page of the client's request: "Sign in with …" before the password form; the button goes to the
    provider keeping ``next``, and the sign-in ends at the client with its state."""
    colleague = factories.make_user(acme.organization, email="ops@elsewhere.example", roles=["insights:read"])
    browser = Browser(live_server.url)
    page = browser.open(authorize_path(people_client.client_id, code_challenge=pkce_pair()[1], state="st-7"))

    assert page.status_code == 200
    link = SSO_LINK.search(page.text)
    assert link is not None, page.text[:3000]
    assert link.group(2) == acme.organization.name
    assert link.start() < page.text.index("<form") and 'name="password"' in page.text

    back = at_provider(browser, idp, browser.open(html.unescape(link.group(1))), email="ada@acme.example")
    consent = browser.open(back.headers["Location"])
    assert_signed_in(consent, browser, "ada@acme.example")
    assert redirect_params(browser.submit(consent, allow="on"))["state"] == "st-7"

    french = Browser(live_server.url).open(authorize_path(people_client.client_id, code_challenge="c" * 43, lang="fr"))
    assert f"Se connecter avec l’authentification unique de {acme.organization.name}" in html.unescape(french.text)
    assert "Ou connectez-vous avec un mot de passe" in html.unescape(french.text)

    # The password form of the same page signs in an account that has a password.
    other = Browser(live_server.url)
    page = other.open(authorize_path(people_client.client_id, code_challenge=pkce_pair()[1]))
    assert_signed_in(other.submit(page, email=colleague.email, password=PASSWORD), other, colleague.email)


def test_a_staff_member_keeps_a_password_sign_in_under_mandatory_sso(live_server, acme, idp, people_client):
    """Administrators never sign in through single sign-on: while the client's request goes to the provider, the
    login page with ``password=1`` (and the request's ``next``) takes their password, and only from accounts the
    rules let use one; the admin's own sign-in keeps the address-first page."""
    make_mandatory(acme)
    admin = factories.make_user(acme.organization, email="grace@acme.example", is_staff=True, roles=["insights:read"])
    path = authorize_path(people_client.client_id, code_challenge=pkce_pair()[1], state="st-5")
    assert_at_provider(Browser(live_server.url).open(path), idp)

    browser = Browser(live_server.url)
    page = browser.open(f"/v2/oauth/login?password=1&next={quote(path, safe='')}")
    assert page.status_code == 200 and 'name="password"' in page.text and not SSO_LINK.search(page.text)
    member = browser.submit(page, email="ada@acme.example", password="anything")
    assert_at_provider(member, idp, login_hint="ada@acme.example")  # the organisation's people still go there

    consent = browser.submit(page, email=admin.email, password=PASSWORD)
    assert_signed_in(consent, browser, admin.email)
    assert redirect_params(browser.submit(consent, allow="on"))["state"] == "st-5"

    admin_login = Browser(live_server.url).open("/admin/login/")
    assert admin_login.status_code == 200 and 'name="email"' in admin_login.text
    assert not SSO_LINK.search(admin_login.text)


def test_a_service_account_keeps_the_password_grant_under_mandatory_sso(live_server, acme, idp, people_client):
    """The client's browser requests go to the provider; its scripts' service account still gets tokens with the
    password grant, which the organisation's people do not."""
    make_mandatory(acme)
    service = factories.make_user(
        acme.organization, email="robot@acme.example", is_service_account=True, roles=["insights:read"]
    )
    to_provider = Browser(live_server.url).open(authorize_path(people_client.client_id, code_challenge=pkce_pair()[1]))
    assert_at_provider(to_provider, idp)

    granted = password_grant(live_server, people_client, service.email)
    assert granted.status_code == 200 and granted.json()["access_token"], granted.text
    person = factories.make_user(acme.organization, email="linus@acme.example", roles=["insights:read"])
    assert error_of(password_grant(live_server, people_client, person.email)) == (401, "sso_required")
