"""Enrolling a one-time-code second factor: QR code and secret on a page, confirmed by one code; admin reset."""

import re

import pyotp
import pytest

from accounts import services
from accounts.models import User
from tests.support import factories
from tests.support.browser import Browser
from tests.support.oauth_client import PASSWORD, password_grant


@pytest.fixture
def user(org):
    return factories.make_user(org, email="hedy@example.com")


def signed_in_enrolment_page(live_server, user, lang="en"):
    browser = Browser(live_server.url)
    login_page = browser.open(f"/v2/oauth/login?next=/v2/oauth/two-step%3Flang%3D{lang}&lang={lang}")
    return browser, browser.submit(login_page, email=user.email, password=PASSWORD)


def shown_secret(page) -> str:
    return re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text).group(1)


def test_enrolment_shows_a_qr_code_and_the_secret_and_one_code_turns_it_on(live_server, user, people_client):
    browser, page = signed_in_enrolment_page(live_server, user)
    assert page.status_code == 200
    assert "no-store" in page.headers["Cache-Control"]
    assert 'src="data:image/svg+xml;base64,' in page.text
    secret = shown_secret(page)
    assert secret not in User.objects.get(pk=user.pk).totp_secret, "stored encrypted"

    wrong = browser.submit(page, code="000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    assert "not valid" in wrong.text and not User.objects.get(pk=user.pk).has_totp
    assert shown_secret(wrong) == secret

    done = browser.submit(wrong, code=pyotp.TOTP(secret).now())
    assert "is on for this account" in done.text
    assert User.objects.get(pk=user.pk).has_totp
    assert secret not in browser.open("/v2/oauth/two-step").text, "the secret is never shown again"
    assert password_grant(live_server, people_client, user.email).json()["error"] == "otp_required"


def test_enrolment_page_in_french(live_server, user):
    _browser, page = signed_in_enrolment_page(live_server, user, lang="fr")
    assert "Validation en deux étapes" in page.text and "Clé secrète" in page.text


def test_enrolment_needs_a_signed_in_user(live_server):
    page = Browser(live_server.url).open("/v2/oauth/two-step")
    assert page.url.startswith(f"{live_server.url}/v2/oauth/login")


def test_admin_reset_lets_the_user_sign_in_without_a_code_and_enrol_again(live_server, client, user, org, people_client):
    services.totp_enable(user)
    admin = factories.make_user(org, email="admin@example.com", is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.post(
        "/admin/accounts/user/", {"action": "reset_two_step_verification", "_selected_action": [user.pk]}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.has_totp and user.totp_secret == ""
    assert password_grant(live_server, people_client, user.email).status_code == 200
    _browser, page = signed_in_enrolment_page(live_server, user)
    assert shown_secret(page)
