"""Refresh tokens: opaque, 30 days each, within 30 days of the sign-in; a rotated-out one used again after the grace
period revokes its family; two racing refreshes get one pair."""

from datetime import timedelta

import jwt
import pytest
import time_machine
from django.utils import timezone
from oauth2_provider.models import get_refresh_token_model

from tests.support import factories
from tests.support.oauth_client import error_of, me_status, password_grant, refresh



@pytest.fixture
def user(org):
    return factories.make_user(org, email="barbara@example.com", roles=["insights:read"])


@pytest.fixture
def tokens(live_server, people_client, user):
    response = password_grant(live_server, people_client, user.email)
    assert response.status_code == 200
    return response.json()


def test_refresh_token_is_opaque(tokens):
    with pytest.raises(jwt.DecodeError):
        jwt.get_unverified_header(tokens["refresh_token"])
    assert len(tokens["refresh_token"]) >= 30


def test_each_use_answers_a_new_pair_and_keeps_the_roles(live_server, people_client, tokens):
    response = refresh(live_server, people_client, tokens["refresh_token"])
    assert response.status_code == 200
    renewed = response.json()
    assert renewed["refresh_token"] != tokens["refresh_token"]
    assert renewed["access_token"] != tokens["access_token"]
    assert (renewed["expires_in"], renewed["scope"]) == (3600, "insights:read")
    assert me_status(live_server, renewed["access_token"]) == 200


def test_unused_refresh_token_expires_after_thirty_days(live_server, people_client, tokens):
    with time_machine.travel(timezone.now() + timedelta(days=30, seconds=1)):
        response = refresh(live_server, people_client, tokens["refresh_token"])
    assert error_of(response) == (400, "invalid_grant")


@pytest.mark.parametrize(
    ("family_days", "uses", "end"),
    [(None, (10, 20, 29), 30), (120, (29, 58, 87), 87 + 30)],  # with 120: each use within 30 days of the last
    ids=["default", "longer sign-in"],
)
def test_each_use_is_a_fresh_token_within_the_sign_ins_age(
    live_server, people_client, tokens, settings, family_days, uses, end
):
    """Each use answers a token with a fresh 30 days, but the sign-in ends ``REFRESH_FAMILY_MAX_AGE_SECONDS`` after
    it began (30 days by default): refreshing renews the token, never the sign-in (issue 16, finding 5)."""
    if family_days:
        settings.UBI = {"REFRESH_FAMILY_MAX_AGE_SECONDS": family_days * 24 * 3600}
    start = timezone.now()
    current = tokens["refresh_token"]
    for days in uses:
        with time_machine.travel(start + timedelta(days=days)):
            response = refresh(live_server, people_client, current)
            assert response.status_code == 200, days
            current = response.json()["refresh_token"]
            newest = get_refresh_token_model().objects.filter(revoked__isnull=True).get()
            assert abs(newest.created - (start + timedelta(days=days))) < timedelta(minutes=1)
    with time_machine.travel(start + timedelta(days=end, seconds=1)):
        assert error_of(refresh(live_server, people_client, current)) == (400, "invalid_grant")


def test_reusing_a_rotated_out_token_fails_and_revokes_the_family(live_server, people_client, tokens):
    """Past ``REFRESH_TOKEN_REUSE_GRACE_SECONDS`` (30 s) after its rotation: within it, see
    tests/oauth/test_refresh_rotation.py."""
    renewed = refresh(live_server, people_client, tokens["refresh_token"]).json()
    assert me_status(live_server, renewed["access_token"]) == 200

    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        reuse = refresh(live_server, people_client, tokens["refresh_token"])

    assert error_of(reuse) == (400, "invalid_grant")
    assert me_status(live_server, renewed["access_token"]) == 401
    assert refresh(live_server, people_client, renewed["refresh_token"]).status_code == 400


def test_refresh_token_of_another_client_is_refused(live_server, org, tokens):
    other = factories.make_public_client(org)
    response = refresh(live_server, other, tokens["refresh_token"])
    assert error_of(response) == (400, "invalid_grant")
