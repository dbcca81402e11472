"""The admin over real HTTP: an administrator creates an app client, sees its secret once, and it works."""

import re

import pytest
import requests

from django.contrib.auth.models import Permission
from oauth2_provider.models import get_access_token_model

from accounts.models import AppClient, Role
from tests.support import factories
from tests.support.admin import PASSWORD, AdminBrowser


@pytest.fixture
def superuser(org):
    return factories.make_user(org, email="root@example.com", password=PASSWORD, is_staff=True, is_superuser=True)


def test_admin_creates_a_client_shows_the_secret_once_and_it_gets_a_token(live_server, superuser, org):
    names = factories.ensure_roles(["insights:read", "insights:write"])
    browser = AdminBrowser(live_server.url, superuser.email)
    role_ids = [str(pk) for pk in Role.objects.filter(name__in=names).values_list("pk", flat=True)]
    created = browser.submit(
        "/admin/accounts/appclient/add/",
        {
            "name": "checkout-tracker",
            "organization": str(org.pk),
            "roles": role_ids,
            "is_active": "on",
            "client_type": "confidential",
            "authorization_grant_type": "client-credentials",
            "redirect_uris": "",
        },
    )
    assert created.status_code == 200, created.text[:2000]
    client_id = re.search(r'id="client-id">([^<]+)<', created.text).group(1)
    secret = re.search(r'id="client-secret">([^<]+)<', created.text).group(1)

    stored = AppClient.objects.get(client_id=client_id)
    assert stored.organization == org and stored.role_names() == ["insights:read", "insights:write"]
    assert secret not in stored.client_secret
    change_page = browser.get(f"/admin/accounts/appclient/{stored.pk}/change/")
    assert change_page.status_code == 200 and secret not in change_page.text

    token = requests.post(
        f"{live_server.url}/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret), timeout=10
    )
    assert token.status_code == 200
    assert token.json()["scope"] == "insights:read insights:write"


def test_staff_see_only_their_organisation(live_server):
    mine, theirs = factories.make_org("Mine"), factories.make_org("Theirs")
    factories.make_client(mine, name="my-client")
    factories.make_client(theirs, name="their-client")
    staff = factories.make_user(mine, email="staff@example.com", password=PASSWORD, is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__in=["view_appclient", "view_user"]))

    browser = AdminBrowser(live_server.url, staff.email)
    listing = browser.get("/admin/accounts/appclient/")
    assert "my-client" in listing.text and "their-client" not in listing.text
    foreign = AppClient.objects.get(name="their-client")
    foreign_page = browser.get(f"/admin/accounts/appclient/{foreign.pk}/change/", allow_redirects=False)
    assert foreign_page.status_code == 302  # the admin's answer for an object outside the queryset


def test_admin_revokes_a_token(live_server, superuser, app_client):
    issued = requests.post(
        f"{live_server.url}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(app_client.client.client_id, app_client.client_secret),
        timeout=10,
    ).json()["access_token"]
    row = get_access_token_model().objects.get()
    browser = AdminBrowser(live_server.url, superuser.email)
    listing = browser.get("/admin/oauth2_provider/accesstoken/")
    assert listing.status_code == 200 and app_client.client.name in listing.text

    browser.submit(
        "/admin/oauth2_provider/accesstoken/",
        {"action": "revoke_tokens", "_selected_action": [str(row.pk)], "index": "0"},
    )

    assert not get_access_token_model().objects.exists()
    me = requests.get(f"{live_server.url}/api/v1/me", headers={"Authorization": f"Bearer {issued}"}, timeout=10)
    assert me.status_code == 401


def test_deactivating_a_client_in_the_admin_ends_its_tokens(live_server, superuser, app_client):
    issued = requests.post(
        f"{live_server.url}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(app_client.client.client_id, app_client.client_secret),
        timeout=10,
    ).json()["access_token"]
    client = app_client.client
    browser = AdminBrowser(live_server.url, superuser.email)
    saved = browser.deactivate_client(client)
    assert saved.status_code == 200
    client.refresh_from_db()
    assert not client.is_active

    me = requests.get(f"{live_server.url}/api/v1/me", headers={"Authorization": f"Bearer {issued}"}, timeout=10)
    assert me.status_code == 401
    token = requests.post(
        f"{live_server.url}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(client.client_id, app_client.client_secret),
        timeout=10,
    )
    assert (token.status_code, token.json()["error"]) == (400, "invalid_client")
