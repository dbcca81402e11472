"""Issue 16, findings 1 and 8: revocations, lockouts and redeemed codes that no cache eviction can forget, and a
lockout that parallel guesses cannot outrun.

Each attack runs against the real server (``live_server``, and a ``grpcserver`` process for the second process):

- finding 1: the shared cache loses its entries (the embedded default's file cache culls a third of them when it
  holds 300, and failed sign-ins with random addresses fill it; a Redis restart or flush loses all of them), yet a
  revoked token stays refused, a locked account stays locked and a code used twice still revokes its tokens;
- finding 1: a revocation made in one process is refused by another process after the cache lost it;
- finding 8: nineteen parallel password grants for one account (eighteen wrong, one right) get at most
  ``LOGIN_MAX_FAILURES`` password checks, the rest are ``too_many_attempts``, and the account ends locked;
- finding 1: with Redis, a server that may evict keys is reported when the server starts.
"""

import functools
import os
import threading
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import grpc
import pytest
import redis
import requests
import time_machine
from django.contrib.auth.backends import ModelBackend
from django.core.cache import caches
from django.core.checks import run_checks
from django.utils import timezone

from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from grpc_api.generated import user_behavior_insights_service_pb2_grpc
from oauth import revocation
from oauth.models import RevokedToken, SignInAttempts
from project.conf import ubi_settings
from tests.support import factories
from tests.support.grpc import bearer_metadata, free_port, rejected, wait_until_serving
from tests.support.oauth_client import (
    PASSWORD,
    REDIRECT_URI,
    authorization_code,
    error_of,
    me_status,
    password_grant,
    pkce_pair,
    post_token,
)
from tests.support.skips import skip_configuration
from tests.support.threads import run_together

# A safety net for the waits on conditions below: a broken server fails the test instead of hanging it.
WAIT_SECONDS = 60


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    """The attacks send more token requests a second than the per-address limit allows, as an attacker spreading
    them over time or addresses would; the limit is not what these tests are about."""
    settings.UBI = {**settings.UBI, "TOKEN_RATE_LIMIT_PER_ADDRESS": None, "TOKEN_RATE_LIMIT_PER_CLIENT": None}


@pytest.fixture
def user(org):
    return factories.make_user(org, email="grace@example.com", roles=["insights:read"])


# --- Finding 1: what an eviction of the shared cache must not forget ------------------------------------------------


def cull_the_file_cache(live_server, people_client):
    """The issue's attack on the embedded default: failed sign-ins with random addresses write to the shared file
    cache, and whatever else writes there fills it too; each time it holds ``MAX_ENTRIES`` (Django's default, 300)
    entries, Django deletes a third of them, chosen at random. Fifteen culls or so keep one entry in 400."""
    for _ in range(100):
        nobody = f"nobody-{uuid.uuid4().hex}@example.com"
        assert password_grant(live_server, people_client, nobody, "wrong").status_code == 401
    shared = caches["shared"]
    for n in range(1500):
        shared.set(f"filler:{n}", n)


def clear_the_cache(live_server, people_client):
    """A Redis restarted without persistence, flushed, or a file cache deleted: every entry is gone at once."""
    caches["shared"].clear()


EVICTIONS = {"culled": cull_the_file_cache, "cleared": clear_the_cache}


@pytest.fixture(params=sorted(EVICTIONS))
def evict(request, settings):
    if request.param == "culled" and settings.REDIS_URL:
        skip_configuration("Redis running with noeviction does not cull (the start-time check below warns when it may)")
    return EVICTIONS[request.param]


def revoke(live_server, token):
    assert requests.delete(f"{live_server.url}/v2/auth/token/{token}", timeout=30).status_code == 204


def lock_out(live_server, people_client, email):
    for _ in range(ubi_settings.LOGIN_MAX_FAILURES):
        assert password_grant(live_server, people_client, email, "wrong").json()["error"] == "invalid_credentials"
    assert_locked(password_grant(live_server, people_client, email))


def assert_locked(response):
    assert error_of(response) == (429, "too_many_attempts")
    assert 0 < int(response.headers["Retry-After"]) <= ubi_settings.LOGIN_LOCKOUT_SECONDS


def test_an_eviction_brings_back_no_revoked_token_and_unlocks_no_account(live_server, people_client, org, user, evict):
    """Issue 16, finding 1: five revoked tokens stay refused over REST, and a locked account stays locked, after
    the shared cache lost its entries."""
    revoked = [password_grant(live_server, people_client, user.email).json()["access_token"] for _ in range(5)]
    for token in revoked:
        revoke(live_server, token)
    kept = password_grant(live_server, people_client, user.email).json()["access_token"]
    locked = factories.make_user(org, email="locked@example.com")
    lock_out(live_server, people_client, locked.email)

    evict(live_server, people_client)

    assert [me_status(live_server, token) for token in revoked] == [401] * 5
    assert me_status(live_server, kept) == 200
    assert_locked(password_grant(live_server, people_client, locked.email))


def test_a_code_used_twice_after_an_eviction_still_revokes_what_it_issued(live_server, people_client, user, evict):
    """Issue 16, finding 1 (the redeemed-code memory): RFC 6749 §4.1.2's revocation of the first exchange's tokens
    does not depend on the shared cache keeping the code's entry."""
    verifier, challenge = pkce_pair()
    code = authorization_code(live_server, people_client, user, code_challenge=challenge)
    exchange = {"client_id": people_client.client_id, "grant_type": "authorization_code", "code": code,
                "redirect_uri": REDIRECT_URI, "code_verifier": verifier}
    first = post_token(live_server, **exchange).json()
    assert me_status(live_server, first["access_token"]) == 200

    evict(live_server, people_client)

    assert error_of(post_token(live_server, **exchange)) == (400, "invalid_code")
    assert me_status(live_server, first["access_token"]) == 401


def same_deployment(settings) -> dict[str, str]:
    """The environment of a second server process of this deployment: the same signing key and, without Redis,
    the same shared file cache (the one in its ``VAR_DIR``)."""
    env = {"JWT_PRIVATE_KEY_FILE": str(settings.JWT_PRIVATE_KEY_FILE)}
    if not settings.REDIS_URL:
        env["VAR_DIR"] = str(Path(settings.CACHES["shared"]["LOCATION"]).parent)
    return env


def test_a_revocation_made_here_is_refused_by_another_process_even_after_an_eviction(
    live_server, server_process, people_client, user, settings
):
    """Issue 16, finding 1: this process revokes; a ``grpcserver`` process refuses the token at once, and still
    after the shared cache was cleared, as the REST server does."""
    target = f"127.0.0.1:{free_port()}"
    server_process("--address", target, "--threads", "2", env=same_deployment(settings))
    wait_until_serving(target)
    first, second = (password_grant(live_server, people_client, user.email).json()["access_token"] for _ in "12")
    with grpc.insecure_channel(target) as channel:
        stub = user_behavior_insights_service_pb2_grpc.UserBehaviorInsightsServiceStub(channel)
        for token in (first, second):
            stub.ListEvents(rpc.ListEventsRequest(), metadata=bearer_metadata(token), timeout=30)

        revocation.revoke_token(first)
        refused_at_once = rejected(stub.ListEvents, rpc.ListEventsRequest(), metadata=bearer_metadata(first))
        revocation.revoke_token(second)
        caches["shared"].clear()
        refused_after_the_eviction = rejected(
            stub.ListEvents, rpc.ListEventsRequest(), metadata=bearer_metadata(second), timeout=30
        )

    assert refused_at_once.code() == grpc.StatusCode.UNAUTHENTICATED
    assert refused_after_the_eviction.code() == grpc.StatusCode.UNAUTHENTICATED
    assert me_status(live_server, second) == 401


def test_expired_revocations_are_purged(live_server, people_client, user):
    """Issue 16, finding 1: the revocation table keeps a row only while its token could still be presented."""
    old, new = (password_grant(live_server, people_client, user.email).json()["access_token"] for _ in "12")
    revoke(live_server, old)
    assert RevokedToken.objects.count() == 1
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=2)):
        revoke(live_server, new)
        assert RevokedToken.objects.count() == 1


def test_finished_runs_of_failures_are_purged(live_server, people_client, user):
    """Issue 16, finding 1: the failures of random addresses do not pile up in the lockout table."""
    password_grant(live_server, people_client, "nobody@example.com", "wrong")
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        password_grant(live_server, people_client, "somebody-else@example.com", "wrong")
        assert SignInAttempts.objects.count() == 1


# --- Finding 8: parallel guesses ------------------------------------------------------------------------------------


class HeldPasswordChecks:
    """Counts the password checks the server starts, and holds each one until every request of the race has
    either started its own check or been answered: so all the requests are in flight together, and an attempt
    that is counted only once its slow check ends is counted too late for every other one."""

    def __init__(self, requests: int):
        self.requests = requests
        self.checks = self.answered = 0
        self.timed_out = False
        self._changed = threading.Condition()

    def _accounted_for(self, count: int) -> bool:
        return self.checks + self.answered >= count

    def check_started(self) -> None:
        with self._changed:
            self.checks += 1
            self._changed.notify_all()
            if not self._changed.wait_for(lambda: self._accounted_for(self.requests), timeout=WAIT_SECONDS):
                self.timed_out = True

    def answer_received(self) -> None:
        with self._changed:
            self.answered += 1
            self._changed.notify_all()

    def wait_until_accounted_for(self, count: int) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: self._accounted_for(count), timeout=WAIT_SECONDS):
                self.timed_out = True


class HeldModelBackend(ModelBackend):
    """Django's password check, held by the race's ``HeldPasswordChecks``."""

    held: HeldPasswordChecks

    def authenticate(self, request, username=None, password=None, **kwargs):
        self.held.check_started()
        return super().authenticate(request, username=username, password=password, **kwargs)


@pytest.fixture
def held_checks(settings, monkeypatch):
    held = HeldPasswordChecks(requests=19)
    monkeypatch.setattr(HeldModelBackend, "held", held, raising=False)
    settings.AUTHENTICATION_BACKENDS = [f"{__name__}.{HeldModelBackend.__name__}"]
    return held


def test_parallel_guesses_get_at_most_the_allowed_password_checks(live_server, people_client, user, held_checks):
    """Issue 16, finding 8: nineteen password grants for one account, released together by a barrier: eighteen
    wrong, and the right one sent while those are still being checked. Each attempt is counted before its password
    is, so at most ``LOGIN_MAX_FAILURES`` reach the password check, the others (the right one among them) are
    ``too_many_attempts``, and the account ends locked."""
    passwords = ["wrong"] * 18 + [PASSWORD]
    start = threading.Barrier(len(passwords))

    def guess(password: str):
        start.wait(timeout=WAIT_SECONDS)
        if password == PASSWORD:  # once every wrong guess is being checked, or was answered
            held_checks.wait_until_accounted_for(len(passwords) - 1)
        answer = password_grant(live_server, people_client, user.email, password)
        held_checks.answer_received()
        return answer

    answers = dict(enumerate(run_together(*(functools.partial(guess, password) for password in passwords))))

    assert not held_checks.timed_out  # the race took place: every request was in flight at once
    maximum = ubi_settings.LOGIN_MAX_FAILURES
    errors = Counter((answer.status_code, answer.json().get("error")) for answer in answers.values())
    assert held_checks.checks <= maximum, errors
    assert errors[(401, "invalid_credentials")] == held_checks.checks
    assert errors[(429, "too_many_attempts")] == len(passwords) - held_checks.checks
    assert error_of(answers[len(passwords) - 1]) == (429, "too_many_attempts")
    assert_locked(password_grant(live_server, people_client, user.email))


# --- Finding 1: Redis must not evict --------------------------------------------------------------------------------

with_redis = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set: the check is about Redis")


def eviction_warnings():
    return [message for message in run_checks() if message.id == "oauth.W001"]


@with_redis
def test_a_redis_that_may_evict_keys_is_reported_at_start(settings):
    """Issue 16, finding 1: with any eviction policy but ``noeviction``, Redis may drop rate-limit counters and the
    revocation generation under memory pressure; the system check that runs when a server starts says so."""
    server = redis.Redis.from_url(settings.REDIS_URL)
    policy = server.config_get("maxmemory-policy")["maxmemory-policy"]
    assert policy == "noeviction" and eviction_warnings() == []
    server.config_set("maxmemory-policy", "allkeys-lru")
    try:
        warnings = eviction_warnings()
    finally:
        server.config_set("maxmemory-policy", policy)
    assert len(warnings) == 1 and "allkeys-lru" in warnings[0].msg and "noeviction" in warnings[0].hint


@with_redis
def test_a_redis_that_refuses_config_is_reported_too(settings):
    """Issue 16, finding 1: a managed Redis may refuse ``CONFIG GET``; the check cannot tell, and says so."""
    server = redis.Redis.from_url(settings.REDIS_URL)
    name = f"ubi-test-{uuid.uuid4().hex[:8]}"
    server.acl_setuser(name, enabled=True, passwords=["+secret"], keys=["*"], commands=["+@all", "-config"])
    parts = urlsplit(settings.REDIS_URL)
    url = urlunsplit(parts._replace(netloc=f"{name}:secret@{parts.hostname}:{parts.port or 6379}"))
    configured = settings.CACHES
    try:
        settings.CACHES = {alias: {**cache, "LOCATION": url} for alias, cache in configured.items()}
        warnings = eviction_warnings()
    finally:
        settings.CACHES = configured
        server.acl_deluser(name)
    assert len(warnings) == 1 and "CONFIG GET" in warnings[0].msg and "noeviction" in warnings[0].hint
