"""Operator commands the README gives, run as an operator runs them: ``configure_sso --no-provisioning`` with the
tests' identity provider (``tests.support.identity_provider``), and ``bootstrap_demo`` on PostgreSQL."""

import io
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command

from accounts.models import AppClient, SsoIdentity, SsoProvider, User
from tests.support import factories
from tests.support.browser import Browser
from tests.support.grpc import PROJECT, database_url
from tests.support.identity_provider import DOMAIN, assert_refused, assert_signed_in, sign_in_through_sso
from tests.support.identity_provider import idp, platform_for_sso  # noqa: F401 (the fixtures)


def test_configure_sso_without_provisioning_signs_in_existing_accounts_only(live_server, org, idp, people_client):
    call_command(
        "configure_sso", "--org", org.name, "--issuer", idp.url, "--client-id", idp.client_id,
        "--client-secret", idp.client_secret, "--domain", DOMAIN, "--no-provisioning", stdout=io.StringIO(),
    )
    assert SsoProvider.objects.get(organization=org).provision_users is False
    factories.make_user(org, email="grace@acme.example", roles=["insights:read"])

    unknown = Browser(live_server.url)
    answer = sign_in_through_sso(unknown, idp, people_client, email="linus@acme.example")
    assert_refused(answer, unknown, "There is no account for this address.")
    assert not User.objects.filter(email="linus@acme.example").exists()

    existing = Browser(live_server.url)
    assert_signed_in(sign_in_through_sso(existing, idp, people_client, email="grace@acme.example"), existing,
                     "grace@acme.example")
    assert SsoIdentity.objects.get().user.email == "grace@acme.example"


@pytest.mark.postgres
@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="bootstrap_demo on PostgreSQL, production's database",
)
def test_bootstrap_demo_on_postgresql_twice_creates_once(transactional_db, tmp_path):
    """Two runs of the README's first command on a PostgreSQL database: the second creates nothing and prints the
    credentials of the first."""
    factories.ensure_roles(["insights:read", "insights:write"])  # the migrations' (a transactional test flushed them)
    env = {"VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "DATABASE_URL": database_url()}

    def bootstrap_demo() -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", "bootstrap_demo"], cwd=PROJECT, env=env, capture_output=True, text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    first = bootstrap_demo()
    created = (set(User.objects.values_list("pk", flat=True)), set(AppClient.objects.values_list("pk", flat=True)))
    second = bootstrap_demo()

    assert first == second and "client_secret=" in first and "admin@example.com" in first
    assert (set(User.objects.values_list("pk", flat=True)), set(AppClient.objects.values_list("pk", flat=True))) == (
        created
    )
    assert len(created[0]) == len(created[1]) == 1
