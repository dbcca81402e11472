"""Five consecutive failed sign-ins within 15 minutes lock an account for a while, whichever way they came in."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts import services
from tests.support import factories
from tests.support.browser import Browser
from tests.support.oauth_client import PASSWORD, authorize_path, current_code, error_of, password_grant, pkce_pair


@pytest.fixture
def user(org):
    return factories.make_user(org, email="linus@example.com")


def fail(live_server, client, email, times):
    for _ in range(times):
        assert password_grant(live_server, client, email, "wrong").json()["error"] == "invalid_credentials"


def assert_locked(response):
    assert error_of(response) == (429, "too_many_attempts")
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60


def test_fifth_failure_locks_even_the_right_password_out(live_server, people_client, user):
    fail(live_server, people_client, user.email, 5)
    assert_locked(password_grant(live_server, people_client, user.email))


def test_four_failures_do_not_lock(live_server, people_client, user):
    fail(live_server, people_client, user.email, 4)
    assert password_grant(live_server, people_client, user.email).status_code == 200


def test_a_success_ends_the_run_of_failures(live_server, people_client, user):
    fail(live_server, people_client, user.email, 4)
    assert password_grant(live_server, people_client, user.email).status_code == 200
    fail(live_server, people_client, user.email, 4)
    assert password_grant(live_server, people_client, user.email).status_code == 200


def test_login_page_and_password_grant_count_together(live_server, people_client, user):
    _verifier, challenge = pkce_pair()
    browser = Browser(live_server.url)
    login_page = browser.open(authorize_path(people_client.client_id, code_challenge=challenge))
    for _ in range(3):
        assert browser.submit(login_page, email=user.email, password="wrong").status_code == 401
    fail(live_server, people_client, user.email, 2)

    page = browser.submit(login_page, email=user.email, password=PASSWORD)
    assert page.status_code == 429 and int(page.headers["Retry-After"]) > 0
    assert "Too many failed attempts" in page.text
    assert_locked(password_grant(live_server, people_client, user.email))


def test_wrong_one_time_codes_count_too(live_server, people_client, user):
    services.totp_enable(user)
    wrong = f"{(int(current_code(user)) + 1) % 1000000:06d}"
    for _ in range(5):
        password_grant(live_server, people_client, user.email, **{"x-otp-code": wrong})
    assert_locked(password_grant(live_server, people_client, user.email, **{"x-otp-code": current_code(user)}))


def test_unknown_accounts_lock_alike(live_server, people_client):
    fail(live_server, people_client, "ghost@example.com", 5)
    assert_locked(password_grant(live_server, people_client, "ghost@example.com"))


def test_the_lock_ends_after_the_cooling_off_period(live_server, people_client, user):
    fail(live_server, people_client, user.email, 5)
    with time_machine.travel(timezone.now() + timedelta(minutes=15, seconds=1)):
        assert password_grant(live_server, people_client, user.email).status_code == 200


def test_failures_older_than_the_window_are_forgotten(live_server, people_client, user):
    fail(live_server, people_client, user.email, 4)
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        fail(live_server, people_client, user.email, 1)
        assert password_grant(live_server, people_client, user.email).status_code == 200


def test_the_limits_are_configurable(live_server, people_client, user, settings):
    settings.UBI = {**settings.UBI, "LOGIN_MAX_FAILURES": 2, "LOGIN_LOCKOUT_SECONDS": 60}
    fail(live_server, people_client, user.email, 2)
    response = password_grant(live_server, people_client, user.email)
    assert_locked(response)
    assert int(response.headers["Retry-After"]) <= 60
