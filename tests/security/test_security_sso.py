"""Issue 16's single sign-on findings, each attack made over the live server with the tests' real identity provider
(``tests.support.identity_provider``): the browser goes through the login page, the provider and the platform's callback.

- finding 9: ID tokens whose ``email_verified`` is missing or not ``true``, and another person (``sub``) given an
  address already bound to someone;
- finding 3 (SSO half): a staff user and a superuser signed in by the organisation's provider;
- finding 4 (provider half): another organisation's account routed to, or signed in by, this provider;
- finding 11: issuers and discovery endpoints on plain HTTP or private addresses, and discovery read at each login.
"""

import io
from urllib.parse import quote

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from accounts.models import SsoIdentity, SsoProvider, User
from tests.support import factories
from tests.support.browser import Browser
from tests.support.identity_provider import (
    DISCOVERY_PATH,
    DOMAIN,
    assert_refused,
    assert_signed_in,
    sign_in_through_sso,
)
from tests.support.identity_provider import acme, idp, platform_for_sso  # noqa: F401 (the fixtures)
from tests.support.oauth_client import PASSWORD, authorize_path, error_of, password_grant, pkce_pair

PRIVATE_ON = {"SSO_ALLOW_PRIVATE_NETWORKS": True}



# --- Finding 9: verified addresses only, and one person per account ---------------------------------------------


@pytest.mark.parametrize(
    "claims",
    [{}, {"email_verified": "false"}, {"email_verified": False}, {"email_verified": "true"}, {"email_verified": 1}],
    ids=["missing", "string false", "false", "string true", "number 1"],
)
def test_an_id_token_without_email_verified_true_does_not_sign_in(live_server, acme, idp, people_client, claims):
    """Issue 16, finding 9: an ID token whose email_verified is missing or anything but JSON true signs nobody in
    and creates no account (before, only a JSON false was refused)."""
    browser = Browser(live_server.url)
    with idp.id_token_claims(**claims):
        answer = sign_in_through_sso(browser, idp, people_client, email="ada@acme.example")

    assert_refused(answer, browser, "did not give a verified email address")
    assert not User.objects.filter(email="ada@acme.example").exists()


def test_a_provider_that_never_sends_email_verified_may_be_trusted_without_it(live_server, acme, idp, people_client):
    """Issue 16, finding 9: the per-provider opt-out accepts a token without the claim, never one that denies it."""
    acme.require_email_verified = False
    acme.save()
    with idp.id_token_claims():
        browser = Browser(live_server.url)
        assert_signed_in(sign_in_through_sso(browser, idp, people_client, email="ada@acme.example"), browser,
                         "ada@acme.example")
    with idp.id_token_claims(email_verified="false"):
        browser = Browser(live_server.url)
        answer = sign_in_through_sso(browser, idp, people_client, email="grace@acme.example")
    assert_refused(answer, browser, "did not give a verified email address")


def test_another_person_given_the_same_address_does_not_get_the_account(live_server, acme, idp, people_client):
    """Issue 16, finding 9: the first sign-in binds the account to the provider's (iss, sub); a later ID token with
    the same verified address but another sub is refused (before, the address alone named the account)."""
    first = Browser(live_server.url)
    assert_signed_in(sign_in_through_sso(first, idp, people_client, email="ada@acme.example"), first,
                     "ada@acme.example")
    ada = User.objects.get(email="ada@acme.example")
    assert list(SsoIdentity.objects.filter(user=ada).values_list("issuer", flat=True)) == [idp.url]

    impostor = Browser(live_server.url)
    with idp.id_token_claims(email_verified=True, sub="someone-else-with-adas-address"):
        answer = sign_in_through_sso(impostor, idp, people_client, email="ada@acme.example")
    assert_refused(answer, impostor, "belongs to another person at the identity provider")

    again = Browser(live_server.url)  # the person bound first still signs in
    assert_signed_in(sign_in_through_sso(again, idp, people_client, email="ada@acme.example"), again,
                     "ada@acme.example")


# --- Finding 3: administrators never sign in through SSO ---------------------------------------------------------


@pytest.mark.parametrize(
    "power", [{"is_staff": True}, {"is_staff": True, "is_superuser": True}], ids=["staff", "superuser"]
)
def test_the_organisations_provider_never_signs_in_an_administrator(live_server, acme, idp, people_client, power):
    """Issue 16, finding 3: whoever runs (or points the organisation at) the provider has it vouch for an
    administrator's address with a valid ID token; the callback refuses it with a clear message."""
    admin = factories.make_user(acme.organization, email="grace@acme.example", **power)
    browser = Browser(live_server.url)
    # Started as someone the login page sends to the provider; at the provider, signed in as the administrator.
    answer = sign_in_through_sso(browser, idp, people_client, email="ada@acme.example", as_email=admin.email)

    assert_refused(answer, browser, "Administrators sign in with their password and second factor")
    assert not SsoIdentity.objects.filter(user=admin).exists()


def test_an_administrator_keeps_the_password_under_mandatory_sso(live_server, acme, idp, people_client):
    """Issue 16, finding 3: as SSO never signs administrators in, mandatory SSO does not take their password away:
    the login page asks for it instead of sending them to the provider, and the password grant accepts it. The
    client's request goes to the provider at once (issue 18, item 2): the login page is the one of ``?password=1``."""
    acme.mandatory = True
    acme.save()
    admin = factories.make_user(acme.organization, email="grace@acme.example", is_staff=True, roles=["insights:read"])
    browser = Browser(live_server.url)
    path = authorize_path(people_client.client_id, code_challenge=pkce_pair()[1])
    page = browser.open(f"/v2/oauth/login?password=1&next={quote(path, safe='')}")

    assert_signed_in(browser.submit(page, email=admin.email, password=PASSWORD), browser, admin.email)
    assert password_grant(live_server, people_client, admin.email).status_code == 200


# --- Finding 4: a provider never applies to another organisation's account ----------------------------------------


@pytest.fixture
def foreign(acme):
    """An account of another organisation whose address is in acme's domain, and that organisation's client."""
    other = factories.make_org("Globex")
    user = factories.make_user(other, email="grace@acme.example", roles=["insights:read"])
    return user, factories.make_public_client(other, name="Globex dashboard", allow_password_grant=True)


def test_another_organisations_account_is_not_routed_to_the_provider(live_server, acme, idp, foreign):
    """Issue 16, finding 4: the login page, an authorization request's login_hint and the password grant's
    mandatory-SSO check never send another organisation's account to this provider."""
    acme.mandatory = True
    acme.save()
    user, client = foreign
    browser = Browser(live_server.url)
    page = browser.open(authorize_path(client.client_id, code_challenge=pkce_pair()[1]))

    empty = browser.submit(page, email=user.email, password="")
    assert empty.status_code == 200 and "errorlist" in empty.text  # asked for its password, not sent away
    hinted = Browser(live_server.url).open(
        authorize_path(client.client_id, code_challenge=pkce_pair()[1], login_hint=user.email)
    )
    assert hinted.status_code == 200 and 'name="password"' in hinted.text
    assert_signed_in(browser.submit(page, email=user.email, password=PASSWORD), browser, user.email)
    assert password_grant(live_server, client, user.email).status_code == 200


def test_the_provider_never_signs_in_another_organisations_account(live_server, acme, idp, people_client, foreign):
    """Issue 16, finding 4: an ID token for the address of another organisation's account is refused at the
    callback, binds nothing and provisions nothing."""
    user, _client = foreign
    browser = Browser(live_server.url)
    answer = sign_in_through_sso(browser, idp, people_client, email="ada@acme.example", as_email=user.email)

    assert_refused(answer, browser, "cannot sign in here")
    assert not SsoIdentity.objects.exists()
    assert User.objects.get(email=user.email).organization_id == user.organization_id


# --- Finding 11: where the server sends requests, and how often ---------------------------------------------------


def provider(org, issuer: str) -> SsoProvider:
    return SsoProvider(organization=org, issuer=issuer, client_id="ubi")


@pytest.mark.parametrize(
    ("issuer", "private_networks", "message"),
    [
        ("http://login.acme.example", True, "https://"),
        ("http://10.0.0.1", True, "https://"),
        ("http://127.0.0.1:8080", False, "https://"),
        ("https://127.0.0.1", False, "127.0.0.1"),
        ("https://localhost", False, "loopback"),
        ("https://10.0.0.1", False, "10.0.0.1"),
        ("https://169.254.169.254", False, "169.254.169.254"),
        ("https://[::1]", False, "::1"),
        ("https://[::ffff:10.0.0.1]", False, "private"),
    ],
)
def test_an_issuer_on_plain_http_or_a_private_address_is_refused(settings, org, issuer, private_networks, message):
    """Issue 16, finding 11: the issuer is https:// on a public address; SSO_ALLOW_PRIVATE_NETWORKS lets private
    and loopback addresses through, and http:// for loopback only. Names are resolved, nothing is sent."""
    settings.UBI = {"SSO_ALLOW_PRIVATE_NETWORKS": private_networks}
    with pytest.raises(ValidationError) as refusal:
        provider(org, issuer).full_clean()
    assert message in str(refusal.value.message_dict["issuer"])


@pytest.mark.parametrize("issuer", ["http://127.0.0.1:8080", "https://10.0.0.1", "https://login.acme.example"])
def test_private_and_loopback_issuers_are_accepted_only_when_allowed(settings, org, issuer):
    """Issue 16, finding 11: the setting's other side (and a name that does not resolve yet is accepted: it is
    checked again before each request)."""
    settings.UBI = PRIVATE_ON
    provider(org, issuer).full_clean()


@pytest.mark.parametrize("issuer", ["http://login.acme.example", "https://169.254.169.254", "https://10.0.0.1"])
def test_configure_sso_refuses_an_issuer_the_server_must_not_reach(settings, org, issuer):
    """Issue 16, finding 11: ``configure_sso`` refuses the same issuers as the model."""
    settings.UBI = {"SSO_ALLOW_PRIVATE_NETWORKS": False}
    with pytest.raises(CommandError, match="issuer|Issuer"):
        call_command(
            "configure_sso", "--org", org.name, "--issuer", issuer, "--client-id", "ubi", "--client-secret", "s",
            "--domain", DOMAIN, stdout=io.StringIO(),
        )
    assert not SsoProvider.objects.exists()


def to_provider(live_server, people_client, email="ada@acme.example"):
    browser = Browser(live_server.url)
    page = browser.open(authorize_path(people_client.client_id, code_challenge=pkce_pair()[1]))
    return browser.submit(page, email=email, password="")


def test_a_loopback_provider_is_not_contacted_when_private_networks_are_off(settings, live_server, acme, idp,
                                                                              people_client):
    """Issue 16, finding 11: the check is made again at sign-in time: with SSO_ALLOW_PRIVATE_NETWORKS off, the
    provider configured on 127.0.0.1 receives no request and the login page says it cannot be reached."""
    settings.UBI = {"SSO_ALLOW_PRIVATE_NETWORKS": False}
    before = idp.requests_to(DISCOVERY_PATH)
    answer = to_provider(live_server, people_client)

    assert answer.status_code == 502 and "cannot be reached" in answer.text
    assert idp.requests_to(DISCOVERY_PATH) == before


@pytest.mark.parametrize(
    "overrides",
    [
        {"token_endpoint": "http://10.0.0.1/token"},
        {"jwks_uri": "http://169.254.169.254/keys"},
        {"userinfo_endpoint": "http://10.0.0.1/userinfo"},
        {"authorization_endpoint": "http://login.acme.example/authorize"},
        {"issuer": "https://impostor.example"},
    ],
    ids=["token endpoint", "jwks", "userinfo", "authorization endpoint", "another issuer"],
)
def test_a_discovery_document_naming_endpoints_the_server_must_not_reach_is_refused(live_server, acme, idp,
                                                                                      people_client, overrides):
    """Issue 16, finding 11: the discovery document's endpoints pass the issuer's checks (http:// is for loopback
    addresses only, even with private networks allowed), and the document is the configured issuer's; otherwise
    the sign-in stops before the browser is sent anywhere."""
    with idp.discovery(**overrides):
        answer = to_provider(live_server, people_client)
    assert answer.status_code == 502 and "cannot be reached" in answer.text


def test_a_discovery_document_cannot_set_the_clients_own_settings(live_server, acme, idp, people_client):
    """Issue 16, finding 11: members of the document that are not discovery metadata (here, names of Authlib's own
    arguments) are ignored: the sign-in goes on to the provider, with our client id, instead of failing with a 500
    or taking the provider's word for its settings."""
    with idp.discovery(client_id="chosen-by-the-provider", access_token_url="http://10.0.0.1/token", fetch_token="x"):
        answer = to_provider(live_server, people_client)
    assert answer.status_code == 302 and answer.headers["Location"].startswith(idp.url + "/")
    assert f"client_id={idp.client_id}" in answer.headers["Location"]


def test_the_discovery_document_is_read_once_for_two_sign_ins(live_server, acme, idp, people_client):
    """Issue 16, finding 11: the provider's metadata is cached (an hour), not fetched at every step of every login."""
    before = idp.requests_to(DISCOVERY_PATH)
    for email in ("ada@acme.example", "linus@acme.example"):
        browser = Browser(live_server.url)
        assert_signed_in(sign_in_through_sso(browser, idp, people_client, email=email), browser, email)

    assert idp.requests_to(DISCOVERY_PATH) == before + 1


def test_unknown_addresses_of_the_domain_still_need_sso(live_server, acme, people_client):
    """Issue 16, finding 4: routing by account leaves unknown addresses of the domain alone: under mandatory SSO
    they are refused the password grant like every address of the domain, so it tells nothing about who has an account."""
    acme.mandatory = True
    acme.save()
    assert error_of(password_grant(live_server, people_client, "nobody@acme.example")) == (401, "sso_required")
