"""A company's own OpenID Connect provider for the single sign-on tests: this project itself, as a second
deployment with its own database, where the company's people have their accounts (in an organisation acting as the
identity provider) and this platform is registered as an OpenID Connect client (RS256 ID tokens).

A separate process and database, because that is what a company's identity provider is: the accounts it knows
are not this platform's, and the same address exists on both sides (one per database, as email addresses are
unique in each). Discovery, JWKS, the authorization and token endpoints and the ID token's signature all go over
real HTTP.
"""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

PROJECT = Path(__file__).resolve().parents[1]
PASSWORD = "idp password for tests"  # every account's at the provider
PEOPLE = ("ada@acme.example", "grace@acme.example", "linus@acme.example")

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
        except requests.ConnectionError:
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
    log = open(var_dir / "server.log", "w")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        _wait_for(f"{url}/.well-known/openid-configuration", process)
        yield IdentityProvider(url=url, client_id=client_id, client_secret=secret, var_dir=var_dir)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()
