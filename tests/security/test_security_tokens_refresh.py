"""Issue 16, findings 5, 10 and 12 (tokens): each attack over the live server, and the refusal.

- Finding 5: a refresh token never gives back what the user lost (roles, the account, the organisation, the right
  to sign in without single sign-on or with the current password), and a sign-in ends 30 days after it began
  however often it is refreshed. A lost role, a new password, a changed second factor or mandatory single sign-on
  end the user's tokens at once.
- Finding 10: deeply nested JSON at the token endpoint is ``invalid_request``, not a 500.
- Finding 12: the password grant only for public clients that opt in; ``http`` redirect URIs only for loopback;
  authorization codes kept as digests.
"""

from datetime import timedelta

import jwt
import pytest
import requests
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone
from oauth2_provider.models import get_grant_model

from accounts import services, sso_providers
from accounts.models import AppClient, AuditEvent, Role, SsoProvider, User
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
    password_grant,
    pkce_pair,
    post_token,
    redirect_params,
    refresh,
    sign_in,
)

ROLES = ["insights:read", "insights:write"]


@pytest.fixture
def user(org):
    return factories.make_user(org, email="ada@acme.example", roles=ROLES)


@pytest.fixture
def signed_in(live_server, people_client, user):
    """The tokens of ``user``'s password grant through ``people_client`` (which opts in to that grant)."""
    response = password_grant(live_server, people_client, user.email)
    assert response.status_code == 200, response.text
    return response.json()


def assert_refused(response):
    """RFC 6749 §5.2: ``invalid_grant`` with a description, never a 500."""
    assert error_of(response) == (400, "invalid_grant"), response.text
    return response.json()


def assert_refused_with_reason(response):
    assert assert_refused(response).get("error_description"), response.text


def requests_me(live_server, access_token) -> dict:
    return requests.get(
        f"{live_server.url}/api/v1/me", headers={"Authorization": f"Bearer {access_token}"}, timeout=30
    ).json()


# --- Finding 5: refresh tokens keep old privileges forever ---------------------------------------------------------


REMOVALS = {
    "the user's form (roles.set)": lambda user: user.roles.set(services.roles_by_name(["insights:read"])),
    "the role's side": lambda user: Role.objects.get(name="insights:write").users.remove(user),
    "every role (roles.clear)": lambda user: user.roles.clear(),
    "every holder of the role": lambda user: Role.objects.get(name="insights:write").users.clear(),
}


@pytest.mark.parametrize("removal", REMOVALS)
def test_a_removed_role_ends_the_users_tokens(live_server, people_client, user, signed_in, removal):
    """Issue 16, finding 5: a role removed, from either side of the relation as the admin's forms do, ends the
    refresh token that carried it and its access token; the role never comes back."""
    REMOVALS[removal](user)

    assert_refused(refresh(live_server, people_client, signed_in["refresh_token"]))
    assert me_status(live_server, signed_in["access_token"]) == 401


def test_a_refresh_narrows_the_roles_to_the_users_current_ones(live_server, people_client, user, signed_in):
    """Issue 16, finding 5: even where nothing revoked the token (the role's link deleted in bulk, no signal), a
    refresh grants only the roles the user still holds."""
    User.roles.through.objects.filter(user=user, role__name="insights:write").delete()

    answer = refresh(live_server, people_client, signed_in["refresh_token"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["scope"] == "insights:read"
    assert "insights:write" not in requests_me(live_server, answer.json()["access_token"])["roles"]


def test_a_refresh_never_widens_to_a_role_asked_for_again(live_server, people_client, user, signed_in):
    """Issue 16, finding 5: asking for the lost role by ``scope`` is ``invalid_scope``."""
    User.roles.through.objects.filter(user=user, role__name="insights:write").delete()
    answer = post_token(
        live_server, grant_type="refresh_token", refresh_token=signed_in["refresh_token"],
        client_id=people_client.client_id, scope="insights:write",
    )
    assert error_of(answer) == (400, "invalid_scope")


def test_an_inactive_user_cannot_refresh(live_server, people_client, user, signed_in):
    """Issue 16, finding 5: deactivated in bulk (no ``save()``, so no revocation), the account is checked at the
    refresh itself."""
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert_refused_with_reason(refresh(live_server, people_client, signed_in["refresh_token"]))


def test_deactivating_a_user_ends_the_refresh_token(live_server, people_client, user, signed_in):
    """Issue 16, finding 5: the admin's way (``save()``) ends the tokens at once."""
    user.is_active = False
    user.save()
    assert_refused(refresh(live_server, people_client, signed_in["refresh_token"]))
    assert me_status(live_server, signed_in["access_token"]) == 401


def test_a_user_moved_to_another_organisation_cannot_refresh(live_server, people_client, user, signed_in):
    """Issue 16, finding 5: the token's client is no longer of the user's organisation."""
    User.objects.filter(pk=user.pk).update(organization=factories.make_org())
    assert_refused_with_reason(refresh(live_server, people_client, signed_in["refresh_token"]))


def test_a_user_due_a_password_change_cannot_refresh(live_server, people_client, user, signed_in):
    """Issue 16, finding 5: an administrator's *must change password* stops refreshes as it stops sign-ins."""
    User.objects.filter(pk=user.pk).update(must_change_password=True)
    assert_refused_with_reason(refresh(live_server, people_client, signed_in["refresh_token"]))


def test_an_expired_password_stops_refreshes(live_server, people_client, user, org, signed_in):
    """Issue 16, finding 5: the organisation's maximum password age applies to refreshes too."""
    org.password_max_age_days = 10
    org.save()
    with time_machine.travel(timezone.now() + timedelta(days=11)):
        assert_refused_with_reason(refresh(live_server, people_client, signed_in["refresh_token"]))


def make_mandatory_provider(org) -> SsoProvider:
    return sso_providers.sso_configure(
        organization=org, issuer="https://login.acme.example", client_id="platform", client_secret="s3cret",
        domains=["acme.example"], mandatory=True,
    )


def switch_on_later(org):
    provider = sso_providers.sso_configure(
        organization=org, issuer="https://login.acme.example", client_id="platform", client_secret="s3cret",
        domains=["acme.example"],
    )
    provider.mandatory = True
    provider.save()


def add_the_domain_later(org):
    sso_providers.sso_configure(
        organization=org, issuer="https://login.acme.example", client_id="platform", client_secret="s3cret",
        domains=["other.example"], mandatory=True,
    )
    make_mandatory_provider(org)


@pytest.mark.parametrize("how", [make_mandatory_provider, switch_on_later, add_the_domain_later])
def test_mandatory_single_sign_on_ends_the_password_sign_ins(live_server, people_client, user, org, signed_in, how):
    """Issue 16, finding 5: once single sign-on is mandatory for the user's domain (configured so, switched on, or
    the domain added), a refresh token from a password sign-in is refused, and its access token ends at once."""
    how(org)
    assert_refused(refresh(live_server, people_client, signed_in["refresh_token"]))
    assert me_status(live_server, signed_in["access_token"]) == 401


def test_mandatory_single_sign_on_is_checked_at_the_refresh(live_server, people_client, user, org, signed_in):
    """Issue 16, finding 5: the provider made mandatory in bulk (no ``save()``, no revocation): the refresh itself
    refuses a sign-in that began before the provider last changed."""
    provider = sso_providers.sso_configure(
        organization=org, issuer="https://login.acme.example", client_id="platform", client_secret="s3cret",
        domains=["other.example"],
    )
    tokens = password_grant(live_server, people_client, user.email).json()
    provider.domains.update(domain="acme.example")
    SsoProvider.objects.filter(pk=provider.pk).update(mandatory=True, updated=timezone.now())
    assert_refused_with_reason(refresh(live_server, people_client, tokens["refresh_token"]))


def test_a_sign_in_begun_under_mandatory_single_sign_on_keeps_refreshing(live_server, people_client, user, org):
    """Issue 16, finding 5: a sign-in that began after the provider became mandatory went through the provider
    (no password is accepted then), so its refreshes go on."""
    provider = sso_providers.sso_configure(
        organization=org, issuer="https://login.acme.example", client_id="platform", client_secret="s3cret",
        domains=["other.example"],
    )
    tokens = password_grant(live_server, people_client, user.email).json()
    provider.domains.update(domain="acme.example")
    earlier = timezone.now() - timedelta(minutes=5)
    SsoProvider.objects.filter(pk=provider.pk).update(mandatory=True, updated=earlier)
    assert refresh(live_server, people_client, tokens["refresh_token"]).status_code == 200


def test_service_accounts_keep_refreshing_under_mandatory_single_sign_on(live_server, people_client, org):
    """Issue 16, finding 5: service accounts keep the password grant under mandatory SSO, and their refreshes."""
    robot = factories.make_user(org, email="etl@acme.example", roles=["insights:write"], is_service_account=True)
    tokens = password_grant(live_server, people_client, robot.email).json()
    make_mandatory_provider(org)
    assert refresh(live_server, people_client, tokens["refresh_token"]).status_code == 200


@pytest.mark.parametrize("how", ["password_change service", "set_password and save (the admin's form)"])
def test_a_new_password_ends_the_users_tokens(live_server, people_client, user, signed_in, how):
    """Issue 16, finding 5: whoever changed the password (the user, or an administrator through Django's password
    form), the refresh token and its access token stop working."""
    if how.startswith("password_change"):
        services.password_change(user, new_password="a brand new passphrase")
    else:
        user.set_password("a brand new passphrase")
        user.save()

    assert_refused(refresh(live_server, people_client, signed_in["refresh_token"]))
    assert me_status(live_server, signed_in["access_token"]) == 401
    revoked = AuditEvent.objects.get(action=AuditEvent.Action.REVOKED, object_id=str(user.pk))
    assert revoked.changes == {"access_tokens": 1, "refresh_tokens": 1, "reason": "changed: password_changed_at"}


@pytest.mark.parametrize("change", ["organization", "is_service_account"])
def test_a_move_or_the_end_of_a_service_account_ends_its_tokens(live_server, people_client, org, change):
    """Issue 16, finding 5: moved to another organisation, or no longer a service account (which kept the password
    under mandatory single sign-on), through the admin's form: the tokens of before end."""
    robot = factories.make_user(org, email="etl@acme.example", roles=["insights:write"], is_service_account=True)
    tokens = password_grant(live_server, people_client, robot.email).json()

    setattr(robot, change, factories.make_org() if change == "organization" else False)
    robot.save()

    assert_refused(refresh(live_server, people_client, tokens["refresh_token"]))
    assert me_status(live_server, tokens["access_token"]) == 401


def test_becoming_a_service_account_keeps_the_tokens(live_server, people_client, user, signed_in):
    """Issue 16, finding 5 (the control): a change that takes nothing away ends nothing."""
    user.is_service_account = True
    user.save()
    assert refresh(live_server, people_client, signed_in["refresh_token"]).status_code == 200


def test_a_rehashed_password_keeps_the_tokens(live_server, people_client, user, signed_in, settings):
    """Issue 16, finding 5 (the control): a stronger hasher rehashing the same password at sign-in
    (``update_fields=["password"]``) is not a new password and ends nothing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher", *settings.PASSWORD_HASHERS]
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)  # rehashes and saves the password only
    assert refresh(live_server, people_client, signed_in["refresh_token"]).status_code == 200


@pytest.mark.parametrize("change", ["totp_reset", "totp_enable"])
def test_a_changed_second_factor_ends_the_users_tokens(live_server, people_client, user, change):
    """Issue 16, finding 5: a second factor reset (a lost phone) or added ends the sign-ins made before."""
    if change == "totp_reset":
        services.totp_enable(user)
        extra = {"x-otp-code": current_code(user)}
    else:
        extra = {}
    tokens = password_grant(live_server, people_client, user.email, **extra).json()

    getattr(services, change)(user)

    assert_refused(refresh(live_server, people_client, tokens["refresh_token"]))
    assert me_status(live_server, tokens["access_token"]) == 401


def test_a_sign_in_ends_thirty_days_after_it_began_however_often_refreshed(live_server, people_client, signed_in):
    """Issue 16, finding 5: refreshing on day 29 gives a new token, but not a new 30 days: the family (every token
    of one sign-in) ends ``REFRESH_FAMILY_MAX_AGE_SECONDS`` after the first grant."""
    start = timezone.now()
    with time_machine.travel(start + timedelta(days=29)):
        renewed = refresh(live_server, people_client, signed_in["refresh_token"])
        assert renewed.status_code == 200
    with time_machine.travel(start + timedelta(days=30, seconds=1)):
        assert_refused_with_reason(refresh(live_server, people_client, renewed.json()["refresh_token"]))


def test_the_family_lifetime_is_a_setting(live_server, people_client, signed_in, settings):
    """Issue 16, finding 5: ``REFRESH_FAMILY_MAX_AGE_SECONDS`` in ``settings.UBI`` decides the sign-in's age."""
    settings.UBI = {"REFRESH_FAMILY_MAX_AGE_SECONDS": 3600}
    with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=1)):
        assert_refused_with_reason(refresh(live_server, people_client, signed_in["refresh_token"]))


# --- Finding 10: deeply nested JSON at the token endpoint ----------------------------------------------------------


@pytest.mark.parametrize("body", ["[" * 100_000, '{"grant_type": ' + "[" * 100_000, '{"a": ' * 100_000])
def test_deeply_nested_json_is_invalid_request(live_server, body):
    """Issue 16, finding 10: nesting that exhausts the parser's recursion is ``invalid_request``, not a 500."""
    response = requests.post(
        f"{live_server.url}/v2/auth/token", data=body, headers={"Content-Type": "application/json"}, timeout=30
    )
    assert error_of(response) == (400, "invalid_request"), response.text[:300]
    assert response.json()["error_description"]


# --- Finding 12: hardening -----------------------------------------------------------------------------------------


def test_a_public_client_has_no_password_grant_unless_it_opts_in(live_server, org, user):
    """Issue 16, finding 12 (RFC 9700 §2.4): a public client is created without the password grant; a password sent
    through it is ``unauthorized_client`` and not even tried. Opting in allows it."""
    default = factories.make_public_client(org)
    assert error_of(password_grant(live_server, default, user.email)) == (400, "unauthorized_client")
    assert error_of(password_grant(live_server, default, user.email, password="wrong")) == (400, "unauthorized_client")

    opted_in = factories.make_public_client(org, allow_password_grant=True)
    assert password_grant(live_server, opted_in, user.email).status_code == 200


def test_a_client_requiring_the_code_flow_cannot_also_allow_the_password_grant(org):
    """Issue 16, finding 12: the two settings contradict each other; the client is refused, not half applied."""
    with pytest.raises(ValidationError):
        factories.make_public_client(org, allow_password_grant=True, require_authorization_code_flow=True)


@pytest.mark.parametrize(
    ("redirect_uri", "accepted"),
    [
        ("http://example.com/callback", False),
        ("http://127.0.0.1.example.com/cb", False),
        ("http://127.0.0.1:8765/cb", True),
        ("http://[::1]:8765/cb", True),
        ("http://localhost:3000/cb", True),
        ("https://example.com/callback", True),
    ],
)
def test_http_redirect_uris_only_for_loopback(org, redirect_uri, accepted):
    """Issue 16, finding 12 (RFC 8252 §7.3, RFC 9700 §4.1.1): a code sent over plain HTTP to another host can be read
    on the way; only the user's own machine may receive it that way."""
    if accepted:
        factories.make_public_client(org, redirect_uris=[redirect_uri])
    else:
        with pytest.raises(ValidationError, match="loopback"):
            factories.make_public_client(org, redirect_uris=[redirect_uri])
    assert AppClient.objects.filter(redirect_uris=redirect_uri).exists() == accepted


def test_an_http_redirect_uri_registered_before_the_rule_gets_no_code(live_server, people_client):
    """Issue 16, finding 12: a client whose http:// URI to another host is in the database (registered before the
    rule, or written around the model's validation) is refused it at the authorization endpoint, never redirected."""
    AppClient.objects.filter(pk=people_client.pk).update(redirect_uris="http://app.example/callback")
    path = authorize_path(
        people_client.client_id, code_challenge=pkce_pair()[1], redirect_uri="http://app.example/callback"
    )
    response = Browser(live_server.url).open(path)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_redirect_uri")


def test_authorization_codes_are_kept_as_digests(live_server, people_client, user):
    """Issue 16, finding 12: the grant table never holds a usable code (a database dump redeems nothing); the code
    the browser received still works, once."""
    verifier, challenge = pkce_pair()
    code = authorization_code(live_server, people_client, user, code_challenge=challenge)

    stored = list(get_grant_model().objects.values_list("code", flat=True))
    assert len(stored) == 1 and code not in stored[0]

    exchange = dict(
        client_id=people_client.client_id, grant_type="authorization_code", code=code,
        redirect_uri=REDIRECT_URI, code_verifier=verifier,
    )
    assert post_token(live_server, **exchange).status_code == 200
    assert error_of(post_token(live_server, **exchange)) == (400, "invalid_code")


def test_the_stored_digest_is_not_a_code(live_server, people_client, user):
    """Issue 16, finding 12: what the table holds, sent as a code, is refused."""
    verifier, challenge = pkce_pair()
    authorization_code(live_server, people_client, user, code_challenge=challenge)
    stored = get_grant_model().objects.get().code
    answer = post_token(
        live_server, client_id=people_client.client_id, grant_type="authorization_code", code=stored,
        redirect_uri=REDIRECT_URI, code_verifier=verifier,
    )
    assert error_of(answer) == (400, "invalid_code")


def test_an_openid_code_keeps_its_nonce_and_scopes(live_server, org, user, settings):
    """Issue 16, finding 12: digests everywhere a code is looked up, so an OpenID Connect exchange (scopes and nonce
    read by the code) still gets its ID token with the nonce."""
    settings.OAUTH_ISSUER = live_server.url
    client = factories.make_public_client(org)
    client.algorithm = AppClient.RS256_ALGORITHM
    client.save()
    verifier, challenge = pkce_pair()
    browser = Browser(live_server.url)
    path = authorize_path(client.client_id, code_challenge=challenge, scope="openid email", nonce="n-0S6_WzA2Mj")
    code = redirect_params(sign_in(browser, path, email=user.email, password=PASSWORD))["code"]
    answer = post_token(
        live_server, client_id=client.client_id, grant_type="authorization_code", code=code,
        redirect_uri=REDIRECT_URI, code_verifier=verifier,
    )
    assert answer.status_code == 200, answer.text
    assert jwt.decode(answer.json()["id_token"], options={"verify_signature": False})["nonce"] == "n-0S6_WzA2Mj"


def test_a_refresh_token_is_revoked_from_the_body(live_server, people_client, signed_in):
    """Issue 16, finding 12: the way the README recommends, with the token in the body (RFC 7009), never in a URL
    that access logs keep: the refresh token and its access token end."""
    answer = requests.post(f"{live_server.url}/oauth2/revoke", data={"token": signed_in["refresh_token"]}, timeout=30)
    assert answer.status_code == 200
    assert_refused(refresh(live_server, people_client, signed_in["refresh_token"]))
    assert me_status(live_server, signed_in["access_token"]) == 401
