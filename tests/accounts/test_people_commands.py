"""Operator commands for the people-facing side: users, service accounts, public clients."""

import json

import pyotp
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import AppClient, User
from tests.support import factories
from tests.support.oauth_client import post_token


def run_json(capsys, *args):
    call_command(*args, "--json")
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def roles(db):
    return factories.ensure_roles(["insights:read", "insights:write"])


def test_create_user(capsys, roles):
    printed = run_json(capsys, "create_user", "--org", "Acme", "--email", "Ada@Example.com", "--password", "Tr1cky-passphrase", "--roles", "insights:read")
    user = User.objects.get(pk=printed["id"])
    assert (printed["email"], printed["organization"]) == ("ada@example.com", "Acme")
    assert user.check_password("Tr1cky-passphrase") and not user.is_service_account and not user.has_totp
    assert user.role_names() == ["insights:read"]


def test_create_service_account_with_totp_prints_the_secret_once(capsys, roles):
    printed = run_json(capsys, "create_user", "--org", "Acme", "--email", "bot@example.com", "--password", "Tr1cky-passphrase", "--service-account", "--totp")
    user = User.objects.get(pk=printed["id"])
    assert user.is_service_account and user.has_totp
    assert printed["totp_secret"] not in user.totp_secret, "stored encrypted"
    assert len(pyotp.TOTP(printed["totp_secret"]).now()) == 6


def test_the_user_then_signs_in_with_the_secret(live_server, capsys, roles):
    client_id = run_json(capsys, "create_app_client", "--org", "Acme", "--name", "cli", "--public", "--redirect-uri", "http://localhost:8765/cb", "--password-grant")["client_id"]
    secret = run_json(capsys, "create_user", "--org", "Acme", "--email", "eve@example.com", "--password", "Tr1cky-passphrase", "--totp")["totp_secret"]
    response = post_token(
        live_server, grant_type="password", client_id=client_id, username="eve@example.com",
        password="Tr1cky-passphrase", **{"x-otp-code": pyotp.TOTP(secret).now()},
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--password", "123"], "too short"),
        (["--password", "Tr1cky-passphrase", "--roles", "insights:delete"], "insights:delete"),
    ],
)
def test_create_user_refusals(roles, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_user", "--org", "Acme", "--email", "x@example.com", *args)
    assert not User.objects.exists()


def test_create_user_refuses_a_taken_email(roles):
    factories.make_user(email="taken@example.com")
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_user", "--org", "Acme", "--email", "taken@example.com", "--password", "Tr1cky-passphrase")


def test_create_public_client(capsys, roles):
    printed = run_json(
        capsys, "create_app_client", "--org", "Acme", "--name", "dashboard", "--public",
        "--redirect-uri", "https://app.example/cb", "--redirect-uri", "http://localhost:3000/cb", "--require-auth-code",
    )
    assert set(printed) == {"client_id"}
    client = AppClient.objects.get(client_id=printed["client_id"])
    assert client.client_type == AppClient.CLIENT_PUBLIC
    assert client.redirect_uris.split() == ["https://app.example/cb", "http://localhost:3000/cb"]
    assert client.require_authorization_code_flow
    assert client.allowed_grant_types() == {"authorization_code", "refresh_token"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--public"], "redirect-uri"),
        (["--redirect-uri", "https://app.example/cb"], "--public"),
        (["--require-auth-code"], "--public"),
        (["--public", "--redirect-uri", "ftp://app.example/cb"], "scheme"),
        (["--password-grant"], "--public"),
        (["--public", "--redirect-uri", "http://app.example/cb"], "loopback"),
        (["--public", "--redirect-uri", "https://app.example/cb", "--require-auth-code", "--password-grant"], "cannot"),
    ],
)
def test_create_public_client_refusals(roles, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_app_client", "--org", "Acme", "--name", "dashboard", *args)
    assert not AppClient.objects.exists()


@pytest.mark.parametrize(("args", "grants"), [([], set()), (["--password-grant"], {"password"})])
def test_a_public_client_has_the_password_grant_only_when_asked(capsys, roles, args, grants):
    """Issue 16, finding 12 (RFC 9700 §2.4): off unless ``--password-grant``."""
    printed = run_json(
        capsys, "create_app_client", "--org", "Acme", "--name", "cli", "--public", "--redirect-uri",
        "http://127.0.0.1:8765/cb", *args,
    )
    client = AppClient.objects.get(client_id=printed["client_id"])
    assert client.allowed_grant_types() == {"authorization_code", "refresh_token", *grants}
