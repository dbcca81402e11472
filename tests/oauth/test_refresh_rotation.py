"""Issue 18, item 4: a refresh signs nobody out. The previous access token stays valid until it expires; a
rotated-out refresh token presented again within ``REFRESH_TOKEN_REUSE_GRACE_SECONDS`` (30 s) answers the same pair
its rotation gave; after it, or once the new refresh token has moved on, reuse revokes the whole sign-in. Two
concurrent refreshes with one token both get that pair (PostgreSQL)."""

from datetime import timedelta

import pytest
import requests
import time_machine
from django.conf import settings
from django.utils import timezone

from oauth.models import RotatedRefreshToken
from tests.support import factories
from tests.support.oauth_client import error_of, me_status, meet_inside, refresh
from tests.support.threads import run_together

GRACE = timedelta(seconds=30)


@pytest.fixture
def signed_in(sign_in):
    return sign_in()


def renew(live_server, client, refresh_token) -> dict:
    response = refresh(live_server, client, refresh_token)
    assert response.status_code == 200, response.text
    return response.json()


def assert_sign_in_revoked(live_server, client, *pairs):
    for pair in pairs:
        assert me_status(live_server, pair["access_token"]) == 401
        assert error_of(refresh(live_server, client, pair["refresh_token"])) == (400, "invalid_grant")


def test_a_refresh_keeps_the_previous_access_token_valid(live_server, people_client, signed_in):
    renewed = renew(live_server, people_client, signed_in["refresh_token"])

    assert me_status(live_server, signed_in["access_token"]) == 200
    assert me_status(live_server, renewed["access_token"]) == 200
    assert renewed["access_token"] != signed_in["access_token"]


def test_the_previous_access_token_expires_in_its_hour(live_server, people_client, signed_in):
    renew(live_server, people_client, signed_in["refresh_token"])
    with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=1)):
        assert me_status(live_server, signed_in["access_token"]) == 401


@pytest.mark.parametrize("later", [timedelta(0), GRACE - timedelta(seconds=1)], ids=["at once", "29 s later"])
def test_a_retry_within_the_grace_period_answers_the_same_pair(live_server, people_client, signed_in, later):
    first = refresh(live_server, people_client, signed_in["refresh_token"])

    with time_machine.travel(timezone.now() + later):
        retry = refresh(live_server, people_client, signed_in["refresh_token"])

        assert (retry.status_code, retry.json()) == (200, first.json())
        assert retry.headers["Cache-Control"] == "no-store"
        assert me_status(live_server, signed_in["access_token"]) == 200
        assert me_status(live_server, first.json()["access_token"]) == 200
        assert renew(live_server, people_client, first.json()["refresh_token"])  # the sign-in goes on


def test_reuse_after_the_grace_period_revokes_the_whole_sign_in(live_server, people_client, signed_in):
    renewed = renew(live_server, people_client, signed_in["refresh_token"])

    with time_machine.travel(timezone.now() + GRACE + timedelta(seconds=1)):
        reuse = refresh(live_server, people_client, signed_in["refresh_token"])

        assert error_of(reuse) == (400, "invalid_grant")
        assert reuse.json()["error_description"]
        assert_sign_in_revoked(live_server, people_client, signed_in, renewed)


def test_reuse_once_the_new_refresh_token_was_used_revokes_the_sign_in(live_server, people_client, signed_in):
    """Within the grace period, but the pair it would answer has moved on: not a retry."""
    second = renew(live_server, people_client, signed_in["refresh_token"])
    third = renew(live_server, people_client, second["refresh_token"])

    assert error_of(refresh(live_server, people_client, signed_in["refresh_token"])) == (400, "invalid_grant")
    assert_sign_in_revoked(live_server, people_client, signed_in, second, third)


def test_reuse_by_another_client_revokes_the_sign_in(live_server, org, people_client, signed_in):
    renewed = renew(live_server, people_client, signed_in["refresh_token"])
    other = factories.make_public_client(org, allow_password_grant=True)

    assert error_of(refresh(live_server, other, signed_in["refresh_token"])) == (400, "invalid_grant")
    assert_sign_in_revoked(live_server, people_client, renewed)


def test_no_retry_once_the_new_refresh_token_is_revoked(live_server, people_client, signed_in):
    """Revoking the pair (RFC 7009) ends the grace period of the token it replaced."""
    renewed = renew(live_server, people_client, signed_in["refresh_token"])
    assert refresh(live_server, people_client, signed_in["refresh_token"]).status_code == 200  # a retry
    requests.post(f"{live_server.url}/oauth2/revoke", data={"token": renewed["refresh_token"]}, timeout=30)
    assert error_of(refresh(live_server, people_client, signed_in["refresh_token"])) == (400, "invalid_grant")


def test_the_grace_period_is_a_setting(live_server, people_client, signed_in, settings):
    settings.UBI = {"REFRESH_TOKEN_REUSE_GRACE_SECONDS": 0}
    renewed = renew(live_server, people_client, signed_in["refresh_token"])

    assert error_of(refresh(live_server, people_client, signed_in["refresh_token"])) == (400, "invalid_grant")
    assert_sign_in_revoked(live_server, people_client, renewed)


def test_the_kept_answer_is_encrypted_and_deleted_after_the_grace_period(live_server, people_client, sign_in):
    first, other = sign_in(), sign_in()
    renewed = renew(live_server, people_client, first["refresh_token"])

    (stored,) = RotatedRefreshToken.objects.values_list("answer", flat=True)
    assert renewed["access_token"] not in stored and renewed["refresh_token"] not in stored

    with time_machine.travel(timezone.now() + GRACE + timedelta(seconds=1)):
        renew(live_server, people_client, other["refresh_token"])  # any rotation after the grace period

        assert RotatedRefreshToken.objects.count() == 1  # the one of this rotation
        assert not RotatedRefreshToken.objects.filter(expires__lte=timezone.now()).exists()


@pytest.mark.postgres
@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="the race is decided by PostgreSQL's row locks; SQLite runs one writer at a time, so there is no race",
)
def test_two_concurrent_refreshes_with_one_token_both_answer_one_pair(live_server, people_client, signed_in, monkeypatch):
    """Both refreshes pass validation and reach the claim together (a barrier inside the server proves it): one
    spends the token, the other waits for its row lock and answers what the first committed."""
    from oauth import refresh_rotation

    meet_inside(monkeypatch, refresh_rotation, "claim")
    answers = run_together(*[lambda: refresh(live_server, people_client, signed_in["refresh_token"])] * 2)

    assert [answer.status_code for answer in answers] == [200, 200], [answer.text for answer in answers]
    assert answers[0].json() == answers[1].json()
    monkeypatch.undo()  # the next refresh claims alone
    pair = answers[0].json()
    assert me_status(live_server, pair["access_token"]) == 200
    assert me_status(live_server, signed_in["access_token"]) == 200
    assert renew(live_server, people_client, pair["refresh_token"])
