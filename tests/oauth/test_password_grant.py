"""The password grant, with the one-time code of a second factor in ``x-otp-code`` (reference/oauth.txt)."""

from datetime import timedelta

import pytest
import requests
import time_machine
from django.utils import timezone

from accounts import services
from tests.support import factories
from tests.support.oauth_client import PASSWORD, current_code, error_of, password_grant, post_token


@pytest.fixture
def user(org):
    return factories.make_user(org, email="grace@example.com", roles=["insights:read"])


def me(live_server, access_token):
    return requests.get(
        f"{live_server.url}/api/v1/me", headers={"Authorization": f"Bearer {access_token}"}, timeout=30
    )


def assert_error(response, status, error):
    assert error_of(response) == (status, error)


def test_reference_request_gets_tokens_of_the_user(live_server, people_client, user, org):
    response = password_grant(live_server, people_client, user.email)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "expires_in", "token_type", "scope"}
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 3600, "insights:read")
    principal = me(live_server, body["access_token"]).json()
    assert (principal["type"], principal["id"], principal["organization"]) == ("user", str(user.pk), str(org.id))


def test_form_encoded_request_and_email_case_do_not_matter(live_server, people_client, user):
    response = requests.post(
        f"{live_server.url}/oauth2/token",
        data={"grant_type": "password", "username": "Grace@Example.com", "password": PASSWORD, "client_id": people_client.client_id},
        timeout=30,
    )
    assert response.status_code == 200


def test_service_account_uses_the_password_grant(live_server, people_client, org):
    robot = factories.make_user(org, email="robot@example.com", is_service_account=True, roles=["insights:write"])
    response = password_grant(live_server, people_client, robot.email)
    assert response.status_code == 200
    assert me(live_server, response.json()["access_token"]).json()["roles"] == ["insights:write"]


@pytest.mark.parametrize("case", ["wrong password", "unknown user", "inactive user"])
def test_bad_credentials_are_invalid_credentials(live_server, people_client, user, case):
    email, password = user.email, PASSWORD
    if case == "wrong password":
        password = "not the password"
    elif case == "unknown user":
        email = "nobody@example.com"
    else:
        user.is_active = False
        user.save()
    assert_error(password_grant(live_server, people_client, email, password), 401, "invalid_credentials")


def test_unknown_client_is_invalid_client(live_server, user):
    response = post_token(
        live_server, username=user.email, password=PASSWORD, grant_type="password", client_id="no-such-client"
    )
    assert_error(response, 400, "invalid_client")


def test_otp_required_when_the_user_has_a_second_factor(live_server, people_client, user):
    services.totp_enable(user)
    assert_error(password_grant(live_server, people_client, user.email), 401, "otp_required")


def test_with_the_one_time_code_and_only_once(live_server, people_client, user):
    services.totp_enable(user)
    code = current_code(user)
    assert password_grant(live_server, people_client, user.email, **{"x-otp-code": code}).status_code == 200
    replay = password_grant(live_server, people_client, user.email, **{"x-otp-code": code})
    assert_error(replay, 401, "invalid_credentials")


def test_wrong_one_time_code_is_invalid_credentials(live_server, people_client, user):
    services.totp_enable(user)
    wrong = f"{(int(current_code(user)) + 1) % 1000000:06d}"
    assert_error(password_grant(live_server, people_client, user.email, **{"x-otp-code": wrong}), 401, "invalid_credentials")


def test_administrators_must_change_is_password_expired(live_server, people_client, user):
    user.must_change_password = True
    user.save()
    assert_error(password_grant(live_server, people_client, user.email), 401, "password_expired")


@pytest.mark.parametrize(("days", "status"), [(29, 200), (31, 401)])
def test_organisation_maximum_age_expires_passwords(live_server, people_client, user, org, days, status):
    org.password_max_age_days = 30
    org.save()
    with time_machine.travel(timezone.now() + timedelta(days=days)):
        response = password_grant(live_server, people_client, user.email)
    assert response.status_code == status
    if status == 401:
        assert response.json()["error"] == "password_expired"


def test_client_requiring_the_authorization_code_flow_refuses_the_password_grant(live_server, org, user):
    strict = factories.make_public_client(org, require_authorization_code_flow=True)
    assert_error(password_grant(live_server, strict, user.email), 400, "unauthorized_client")


def test_machine_client_cannot_use_the_password_grant(live_server, app_client, user):
    response = post_token(
        live_server,
        username=user.email,
        password=PASSWORD,
        grant_type="password",
        client_id=app_client.client.client_id,
        client_secret=app_client.client_secret,
    )
    assert_error(response, 400, "unauthorized_client")


def test_user_of_another_organisation_is_access_denied(live_server, people_client):
    stranger = factories.make_user(factories.make_org())
    assert_error(password_grant(live_server, people_client, stranger.email), 400, "access_denied")
