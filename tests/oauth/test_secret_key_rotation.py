"""Rotating ``SECRET_KEY`` through ``SECRET_KEY_FALLBACKS``: the encrypted TOTP and SSO client secrets stay readable
with the old key among the fallbacks, and ``manage.py reencrypt_secrets`` puts them under the new key, after which
the old key can go. Sessions and password-reset links follow Django's own fallbacks (a test of each here)."""

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from accounts import services, sso_providers, totp
from accounts.models import AuditEvent, User
from oauth import keys
from oauth.models import SigningKey
from tests.support import factories

KEY_A = "a-secret-key-" + "a" * 50
KEY_B = "b-secret-key-" + "b" * 50


@pytest.fixture
def under_key_a(settings, org):
    """A user with a TOTP secret, an SSO provider with its client secret and a rotated signing key, all encrypted
    under ``KEY_A``: the clear TOTP secret."""
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = KEY_A, []
    user = factories.make_user(org)
    secret = services.totp_begin_enrolment(user)
    sso_providers.sso_configure(
        organization=org, issuer="https://idp.acme.example", client_id="ubi", client_secret="sso-secret",
        domains=["acme.example"],
    )
    call_command("rotate_signing_key", stdout=None)
    return secret


def readable(user_id) -> tuple:
    user = User.objects.get(pk=user_id)
    provider = user.organization.sso_provider
    rotated = SigningKey.objects.exclude(private_key="").get()
    return (
        totp.decrypt(user.totp_secret),
        sso_providers.client_secret(provider),
        keys.stored_keys()[-1].private_key is not None and rotated.kid == keys.stored_keys()[-1].kid,
    )


def test_secrets_survive_a_secret_key_rotation_through_the_fallbacks(under_key_a, settings, capsys):
    user_id = User.objects.get().pk
    settings.SECRET_KEY = KEY_B
    assert readable(user_id) == (None, None, False), "unreadable under B alone"

    settings.SECRET_KEY_FALLBACKS = [KEY_A]
    assert readable(user_id) == (under_key_a, "sso-secret", True)

    call_command("reencrypt_secrets")
    output = capsys.readouterr().out
    assert "accounts.User.totp_secret: 1 re-encrypted, 0 already current, 0 unreadable" in output
    assert "accounts.SsoProvider.client_secret_encrypted: 1 re-encrypted" in output
    assert "oauth.SigningKey.private_key: 1 re-encrypted" in output

    settings.SECRET_KEY_FALLBACKS = []
    assert readable(user_id) == (under_key_a, "sso-secret", True)

    call_command("reencrypt_secrets")  # again: nothing left to do
    assert "accounts.User.totp_secret: 0 re-encrypted, 1 already current, 0 unreadable" in capsys.readouterr().out
    trail = AuditEvent.objects.filter(action="changed", actor="manage.py reencrypt_secrets")
    assert sorted(trail.values_list("object_type", "changes")) == [
        ("signing key", {"fields": ["private_key"]}),
        ("single sign-on provider", {"fields": ["client_secret_encrypted"]}),
        ("user", {"fields": ["totp_secret"]}),
    ]
    assert not any(under_key_a in str(event.changes) for event in trail)


def test_secrets_no_key_reads_are_reported_and_left_alone(under_key_a, settings):
    stored = User.objects.get().totp_secret
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = KEY_B, []
    with pytest.raises(CommandError, match="accounts.User.totp_secret of"):
        call_command("reencrypt_secrets", stdout=None)
    assert User.objects.get().totp_secret == stored


def test_sessions_and_password_reset_links_follow_django_s_fallbacks(settings, org):
    """A session used while the old key is a fallback is moved to the new key (Django re-hashes it); one not used
    until the old key has gone is signed out, like a reset link made under the old key."""
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = KEY_A, []
    user = factories.make_user(org, is_staff=True)
    used, idle = Client(), Client()
    used.force_login(user)
    idle.force_login(user)
    user.refresh_from_db()  # the sign-ins set last_login, which the reset link covers
    reset_token = default_token_generator.make_token(user)

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = KEY_B, [KEY_A]
    assert default_token_generator.check_token(user, reset_token)
    assert used.get("/admin/").status_code == 200

    settings.SECRET_KEY_FALLBACKS = []
    assert not default_token_generator.check_token(user, reset_token)
    assert used.get("/admin/").status_code == 200
    assert idle.get("/admin/").status_code == 302  # to the sign-in page
