"""An organisation's single sign-on settings: the admin (the client secret is write-only) and ``configure_sso``."""

import io
import json

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command

from accounts import sso_providers
from accounts.models import SsoProvider
from tests.support import factories
from tests.support.admin import PASSWORD, AdminBrowser

SECRET = "s3cret-from-the-provider-0123456789"


def configure_sso(*args) -> str:
    out = io.StringIO()
    call_command("configure_sso", *args, stdout=out)
    return out.getvalue()


def test_configure_sso_stores_the_secret_encrypted_and_prints_the_callback_url(org, settings):
    settings.OAUTH_ISSUER = "https://insights.example"
    printed = configure_sso(
        "--org", org.name, "--issuer", "https://login.acme.example", "--client-id", "ubi",
        "--client-secret", SECRET, "--domain", "Acme.example", "--domain", "acme.co.uk", "--mandatory", "--json",
    )

    answer = json.loads(printed)
    assert answer["callback_url"] == "https://insights.example/v2/oauth/sso/callback"
    assert answer["domains"] == ["acme.co.uk", "acme.example"] and answer["mandatory"] is True
    assert SECRET not in printed
    provider = SsoProvider.objects.get(organization=org)
    assert SECRET not in provider.client_secret_encrypted
    assert sso_providers.client_secret(provider) == SECRET
    assert sso_providers.provider_for_email("ada@ACME.example") == provider
    assert sso_providers.provider_for_email("ada@other.example") is None


def test_configure_sso_again_replaces_the_settings(org):
    configure_sso("--org", org.name, "--issuer", "https://a.example", "--client-id", "1", "--client-secret", "x",
                  "--domain", "acme.example", "--mandatory")
    printed = configure_sso("--org", org.name, "--issuer", "https://b.example", "--client-id", "2",
                            "--client-secret", "y", "--domain", "acme.io")

    assert "Register this callback (redirect) URL at the provider: " in printed
    provider = SsoProvider.objects.get(organization=org)
    assert (provider.issuer, provider.client_id, provider.mandatory) == ("https://b.example", "2", False)
    assert list(provider.domains.values_list("domain", flat=True)) == ["acme.io"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--issuer", "http://login.acme.example"], "https://"),
        (["--issuer", "https://login.acme.example", "--domain", "not a domain"], "domain"),
        (["--issuer", "https://login.acme.example", "--domain", "taken.example"], "already exists"),
        (["--issuer", "https://login.acme.example", "--roles", "no-such-role"], "Unknown role"),
    ],
    ids=["plain http", "malformed domain", "another organisation's domain", "unknown role"],
)
def test_configure_sso_refuses_bad_settings(org, args, message):
    other = factories.make_org()
    sso_providers.sso_configure(organization=other, issuer="https://idp.other.example", client_id="c", client_secret="s",
                      domains=["taken.example"])
    base = {"--org": org.name, "--client-id": "ubi", "--client-secret": SECRET, "--domain": "acme.example"}
    given = dict(zip(args[::2], args[1::2]))
    argv = [item for name, value in {**base, **given}.items() for item in (name, value)]
    with pytest.raises(CommandError, match=message):
        configure_sso(*argv)
    assert not SsoProvider.objects.filter(organization=org).exists()


def test_configure_sso_needs_an_existing_organisation(db):
    with pytest.raises(CommandError, match="No organisation"):
        configure_sso("--org", "Nope", "--issuer", "https://a.example", "--client-id", "1", "--client-secret", "x",
                      "--domain", "nope.example")


# --- The admin --------------------------------------------------------------------------------------------------


def sso_form(org, **fields) -> dict:
    return {
        "organization": str(org.pk),
        "issuer": "https://login.acme.example",
        "client_id": "ubi-platform",
        "client_secret": SECRET,
        "provision_users": "on",
        "domains-TOTAL_FORMS": "1",
        "domains-INITIAL_FORMS": "0",
        "domains-MIN_NUM_FORMS": "1",
        "domains-MAX_NUM_FORMS": "1000",
        "domains-0-domain": "acme.example",
        **fields,
    }


def test_admin_keeps_the_client_secret_write_only(live_server, org, settings):
    settings.OAUTH_ISSUER = live_server.url
    root = factories.make_user(org, email="root@example.com", password=PASSWORD, is_staff=True, is_superuser=True)
    browser = AdminBrowser(live_server.url, root.email)

    saved = browser.submit("/admin/accounts/ssoprovider/add/", sso_form(org, mandatory="on"))
    assert saved.status_code == 200 and "errorlist" not in saved.text, saved.text[:3000]
    provider = SsoProvider.objects.get(organization=org)
    assert provider.mandatory and sso_providers.client_secret(provider) == SECRET
    assert SECRET not in provider.client_secret_encrypted

    change = browser.get(f"/admin/accounts/ssoprovider/{provider.pk}/change/")
    assert change.status_code == 200
    assert SECRET not in change.text and provider.client_secret_encrypted not in change.text  # never shown again
    assert f"{live_server.url}/v2/oauth/sso/callback" in change.text  # what to register at the provider

    # Saving other changes with the secret left empty keeps it.
    domain_row = provider.domains.get()
    kept = browser.submit(
        f"/admin/accounts/ssoprovider/{provider.pk}/change/",
        sso_form(org, client_secret="", client_id="renamed", **{
            "domains-INITIAL_FORMS": "1", "domains-0-id": str(domain_row.pk), "domains-0-provider": str(provider.pk),
        }),
    )
    assert kept.status_code == 200 and "errorlist" not in kept.text, kept.text[:3000]
    provider.refresh_from_db()
    assert provider.client_id == "renamed" and sso_providers.client_secret(provider) == SECRET


def test_admin_requires_a_secret_for_a_new_provider(live_server, org):
    root = factories.make_user(org, email="root@example.com", password=PASSWORD, is_staff=True, is_superuser=True)
    answer = AdminBrowser(live_server.url, root.email).submit(
        "/admin/accounts/ssoprovider/add/", sso_form(org, client_secret="")
    )
    assert "The client secret is required." in answer.text
    assert not SsoProvider.objects.exists()


def test_organisation_staff_see_only_their_own_provider(live_server, org):
    theirs = factories.make_org("Globex")
    sso_providers.sso_configure(organization=org, issuer="https://login.acme.example", client_id="mine",
                      client_secret="s", domains=["acme.example"])
    foreign = sso_providers.sso_configure(organization=theirs, issuer="https://login.globex.example", client_id="theirs",
                                client_secret="s", domains=["globex.example"])
    staff = factories.make_user(org, email="staff@acme.example", password=PASSWORD, is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__in=["view_ssoprovider", "change_ssoprovider"]))
    browser = AdminBrowser(live_server.url, staff.email)

    listing = browser.get("/admin/accounts/ssoprovider/")
    assert "login.acme.example" in listing.text and "login.globex.example" not in listing.text
    assert browser.get(f"/admin/accounts/ssoprovider/{foreign.pk}/change/", allow_redirects=False).status_code == 302
