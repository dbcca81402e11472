"""Password age: an organisation's maximum, or an administrator's "must change"; the login page offers the change."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.support import factories
from tests.support.browser import Browser
from tests.support.oauth_client import PASSWORD, authorize_path, password_grant, pkce_pair, redirect_params

NEW_PASSWORD = "a brand new passphrase 7"


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_login_page_offers_the_change_then_continues_the_flow(live_server, people_client, org, lang):
    user = factories.make_user(org, must_change_password=True)
    _verifier, challenge = pkce_pair()
    browser = Browser(live_server.url)
    page = browser.submit(
        browser.open(authorize_path(people_client.client_id, code_challenge=challenge, state="s", lang=lang)),
        email=user.email,
        password=PASSWORD,
    )
    assert "new_password1" in page.text
    assert ("Choisissez un nouveau mot de passe" if lang == "fr" else "Choose a new password") in page.text

    mismatch = browser.submit(page, new_password1=NEW_PASSWORD, new_password2="something else 8")
    assert "new_password1" in mismatch.text
    same = browser.submit(page, new_password1=PASSWORD, new_password2=PASSWORD)
    assert "must differ" in same.text

    consent = browser.submit(page, new_password1=NEW_PASSWORD, new_password2=NEW_PASSWORD)
    assert "code" in redirect_params(browser.submit(consent, allow="on"))
    user.refresh_from_db()
    assert not user.must_change_password
    assert password_grant(live_server, people_client, user.email, PASSWORD).json()["error"] == "invalid_credentials"
    assert password_grant(live_server, people_client, user.email, NEW_PASSWORD).status_code == 200


def test_organisation_maximum_age_sends_the_login_page_to_the_change(live_server, people_client, org):
    user = factories.make_user(org)
    org.password_max_age_days = 90
    org.save()
    with time_machine.travel(timezone.now() + timedelta(days=91)):
        browser = Browser(live_server.url)
        page = browser.submit(browser.open("/v2/oauth/login"), email=user.email, password=PASSWORD)
        assert "new_password1" in page.text
        browser.submit(page, new_password1=NEW_PASSWORD, new_password2=NEW_PASSWORD)
        assert password_grant(live_server, people_client, user.email, NEW_PASSWORD).status_code == 200


def test_the_change_page_needs_the_password_first(live_server):
    page = Browser(live_server.url).open("/v2/oauth/login/new-password")
    assert page.url == f"{live_server.url}/v2/oauth/login"


def test_admin_change_page_has_the_sign_in_settings(client, org):
    user = factories.make_user(org)
    admin = factories.make_user(org, email="admin@example.com", is_staff=True, is_superuser=True)
    client.force_login(admin)
    page = client.get(f"/admin/accounts/user/{user.pk}/change/")
    assert b'name="must_change_password"' in page.content and b"Two-step verification" in page.content
    assert b'name="password_max_age_days"' in client.get(f"/admin/accounts/organization/{org.pk}/change/").content
