"""Every ID token the platform must refuse, through the real sign-in: the login page, the tests' identity provider
(``tests.support.identity_provider``) and the platform's callback over HTTP. The provider issues its own ID token; a test
changes its claims, or its signature, on the way out of the provider's token endpoint.

Each refusal is the login page again, 400, with nobody signed in and no account created or bound. The
``email_verified`` cases, another organisation's account and administrators are in ``test_security_sso``.
"""

import time

import pytest

from accounts.models import SsoIdentity, User
from tests.support import factories
from tests.support.browser import Browser
from tests.support.identity_provider import acme, idp, platform_for_sso  # noqa: F401 (the fixtures)
from tests.support.identity_provider import assert_refused, assert_signed_in, sign_in_through_sso

NOT_VERIFIED = "could not be verified"


def assert_sign_in_refused(live_server, idp, people_client, reason: str, *, email: str = "ada@acme.example"):
    """Signing in as ``email`` is refused for ``reason``, and binds nobody to the provider."""
    browser = Browser(live_server.url)
    assert_refused(sign_in_through_sso(browser, idp, people_client, email=email), browser, reason)
    assert not SsoIdentity.objects.exists()


def test_the_id_token_signed_again_unchanged_signs_in(live_server, acme, idp, people_client):
    """The rewriting alone changes nothing the platform checks: each refusal below is its one claim's."""
    browser = Browser(live_server.url)
    with idp.id_token_rewritten():
        answer = sign_in_through_sso(browser, idp, people_client, email="ada@acme.example")
    assert_signed_in(answer, browser, "ada@acme.example")


@pytest.mark.parametrize(
    "rewrite",
    [
        {"aud": "another-client"},
        {"aud": "another-client", "azp": "{client_id}"},
        {"aud": ["{client_id}", "another-client"], "azp": "another-client"},
        {"aud": ["{client_id}", "another-client"]},
        {"iss": "https://impostor.example"},
        {"exp": "an hour ago"},
        {"nonce": "not-the-nonce-sent"},
        {"signed_by_another_key": True},
    ],
    ids=[
        "another audience", "another audience naming us as authorized party", "another authorized party",
        "two audiences without an authorized party", "another issuer", "expired", "another nonce",
        "signed by another key",
    ],
)
def test_an_id_token_with_one_thing_wrong_signs_nobody_in(live_server, acme, idp, people_client, rewrite):
    rewrite = {
        claim: (int(time.time()) - 3600 if value == "an hour ago" else _named(value, idp.client_id))
        for claim, value in rewrite.items()
    }
    with idp.id_token_rewritten(**rewrite):
        assert_sign_in_refused(live_server, idp, people_client, NOT_VERIFIED)
    assert not User.objects.filter(email="ada@acme.example").exists()


def _named(value, client_id: str):
    if isinstance(value, list):
        return [_named(item, client_id) for item in value]
    return value.format(client_id=client_id) if isinstance(value, str) else value


def test_an_address_outside_the_providers_domains_signs_nobody_in(live_server, acme, idp, people_client):
    """The provider vouches for an address of a domain the organisation did not route to it."""
    factories.make_user(acme.organization, email="ada@elsewhere.example")
    with idp.id_token_claims(email_verified=True, email="ada@elsewhere.example"):
        assert_sign_in_refused(live_server, idp, people_client, "vouched for an address outside")
    assert not User.objects.filter(email="ada@acme.example").exists()


def test_an_inactive_account_signs_nobody_in(live_server, acme, idp, people_client):
    grace = factories.make_user(acme.organization, email="grace@acme.example", roles=["insights:read"])
    grace.is_active = False
    grace.save()
    assert_sign_in_refused(live_server, idp, people_client, "cannot sign in here", email="grace@acme.example")
