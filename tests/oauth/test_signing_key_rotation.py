"""Rotating the access tokens' signing key (``manage.py rotate_signing_key``): the new key is published before it
signs, tokens of both keys verify over REST and gRPC during the overlap, and then the old key leaves the JWKS and
its tokens are refused. Time moves with time_machine, for the live server's and the gRPC server's threads alike.
The same across separate server processes: ``tests/ops/test_key_rotation_across_processes.py``."""

import time

import jwt
import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import AuditEvent
from oauth import keys
from oauth.models import SigningKey
from project.conf import ubi_settings
from tests.support import factories
from tests.support.admin import PASSWORD, AdminBrowser
from tests.support.api import Api
from tests.support.doors import Door

AHEAD = 3600  # the default SIGNING_KEY_PUBLISH_AHEAD_SECONDS
LIFETIME = 3600  # ACCESS_TOKEN_EXPIRE_SECONDS
CLOCK_SKEW = 60


def issue(live_server, app_client) -> str:
    answer = Api(live_server.url).post(
        "/oauth2/token", data={"grant_type": "client_credentials"},
        auth=(app_client.client.client_id, app_client.client_secret),
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def kid_of(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def published(live_server) -> set[str]:
    answer = Api(live_server.url).get("/.well-known/jwks.json")
    return {key["kid"] for key in answer.json()["keys"] if key["alg"] == keys.ALGORITHM}


def rest_status(live_server, token: str) -> int:
    return Api(live_server.url, token).get("/api/v1/me").status_code


def grpc_outcome(live_server, ubi_stub, token: str) -> str:
    """A read over gRPC: "ok" or "unauthenticated" (UNAUTHENTICATED)."""
    return Door("grpc", live_server, ubi_stub).read(token)


def signed_by(key: keys.SigningKey, token: str, *, lifetime: int) -> str:
    """``token``'s claims, signed again by ``key`` with a longer life: a token that outlives its key."""
    claims = jwt.decode(token, options={"verify_signature": False})
    now = int(time.time())
    claims.update(iat=now, nbf=now, exp=now + lifetime)
    return jwt.encode(claims, key.private_key, algorithm=keys.ALGORITHM, headers={"kid": key.kid})


def rotate(*arguments) -> str:
    call_command("rotate_signing_key", *arguments, stdout=None)
    return SigningKey.objects.exclude(private_key="").latest("created").kid


def states() -> dict[str, str]:
    found = keys.stored_keys()
    return {key.kid: keys.state(key, found, time.time()) for key in found}


def test_a_rotation_publishes_the_new_key_ahead_then_switches_then_retires_the_old_one(
    live_server, ubi_stub, app_client
):
    old_kid = kid_of(issue(live_server, app_client))
    assert old_kid == keys.configured_key().kid
    start = time.time()
    with time_machine.travel(start) as traveller:
        new_kid = rotate()
        # Published at once, signing only after the lead time: tokens are still the old key's.
        assert published(live_server) == {old_kid, new_kid}
        assert states() == {old_kid: keys.ACTIVE, new_kid: keys.UPCOMING}

        traveller.move_to(start + AHEAD - 10)
        before = issue(live_server, app_client)
        assert kid_of(before) == old_kid
        # Signed by the old key, living past the overlap (as no issued token does): refused once its key retires.
        outliving = signed_by(keys.configured_key(), before, lifetime=3 * LIFETIME)

        traveller.move_to(start + AHEAD + 10)
        after = issue(live_server, app_client)
        assert kid_of(after) == new_kid
        assert states() == {old_kid: keys.RETIRING, new_kid: keys.ACTIVE}
        assert published(live_server) == {old_kid, new_kid}
        for token in (before, after, outliving):  # also remembered by the processes' verified-token caches now
            assert rest_status(live_server, token) == 200
            assert grpc_outcome(live_server, ubi_stub, token) == "ok"

        traveller.move_to(start + AHEAD + LIFETIME + CLOCK_SKEW - 10)
        assert published(live_server) == {old_kid, new_kid}  # the last token of the old key lives until about now
        assert rest_status(live_server, outliving) == 200

        traveller.move_to(start + AHEAD + LIFETIME + CLOCK_SKEW + 10)
        assert published(live_server) == {new_kid}
        assert states() == {old_kid: keys.RETIRED, new_kid: keys.ACTIVE}
        assert rest_status(live_server, outliving) == 401
        assert grpc_outcome(live_server, ubi_stub, outliving) == "unauthenticated"
        latest = issue(live_server, app_client)
        assert kid_of(latest) == new_kid
        assert rest_status(live_server, latest) == 200
        assert grpc_outcome(live_server, ubi_stub, latest) == "ok"


def test_publish_ahead_is_a_setting_and_an_option(live_server, app_client, settings):
    settings.UBI = {**settings.UBI, "SIGNING_KEY_PUBLISH_AHEAD_SECONDS": 120}
    start = time.time()
    with time_machine.travel(start) as traveller:
        first = rotate()
        assert SigningKey.objects.get(kid=first).signs_from.timestamp() == pytest.approx(start + 120, abs=1)
        second = rotate("--publish-ahead", "0")
        assert kid_of(issue(live_server, app_client)) == second
        # The key that was still upcoming would never sign: it leaves the JWKS at once.
        assert states()[first] == keys.RETIRED
        assert published(live_server) == {keys.configured_key().kid, second}
        traveller.move_to(start + 600)
        assert kid_of(issue(live_server, app_client)) == second


def test_retire_now_refuses_the_key_s_tokens_at_once_and_another_key_signs(live_server, ubi_stub, app_client):
    old = issue(live_server, app_client)
    assert rest_status(live_server, old) == 200 and grpc_outcome(live_server, ubi_stub, old) == "ok"
    upcoming = rotate()  # signs in an hour

    call_command("rotate_signing_key", f"--retire-now={kid_of(old)}", stdout=None)

    assert rest_status(live_server, old) == 401
    assert grpc_outcome(live_server, ubi_stub, old) == "unauthenticated"
    assert published(live_server) == {upcoming}
    new = issue(live_server, app_client)
    assert kid_of(new) == upcoming  # the upcoming key signs at once: no key is left that could
    assert rest_status(live_server, new) == 200 and grpc_outcome(live_server, ubi_stub, new) == "ok"
    trail = AuditEvent.objects.filter(object_type="signing key").values_list("action", "object_id", "actor")
    assert set(trail) == {
        ("created", upcoming, "manage.py rotate_signing_key"),
        ("revoked", kid_of(old), "manage.py rotate_signing_key"),
    }


def test_retiring_the_only_key_adds_one_that_signs_at_once(live_server, app_client):
    old = issue(live_server, app_client)
    call_command("rotate_signing_key", f"--retire-now={kid_of(old)}", stdout=None)
    new = issue(live_server, app_client)
    assert kid_of(new) != kid_of(old)
    assert published(live_server) == {kid_of(new)}
    assert rest_status(live_server, old) == 401 and rest_status(live_server, new) == 200


def test_list_shows_the_keys_and_their_states(transactional_db, capsys):
    with time_machine.travel(time.time()) as traveller:
        first = rotate("--publish-ahead", "0")
        second = rotate()
        traveller.move_to(time.time() + 60)
        call_command("rotate_signing_key", "--list")
    lines = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[1:]}
    assert lines[keys.configured_key().kid][1:4] == ["retiring", "configured", "the"]
    assert lines[first][1:3] == ["active", "rotated"]
    assert lines[second][1:3] == ["upcoming", "rotated"]


def test_the_admin_shows_superusers_the_keys_states_and_retires_one_at_once(live_server, app_client, org):
    old = issue(live_server, app_client)
    upcoming = rotate()  # signs in an hour
    root = factories.make_user(org, email="root@example.com", password=PASSWORD, is_staff=True, is_superuser=True)
    browser = AdminBrowser(live_server.url, root.email)

    listed = browser.get("/admin/oauth/signingkey/").text
    assert f">{kid_of(old)}</a></th><td class=\"field-state\">active<" in listed
    assert f">{upcoming}</a></th><td class=\"field-state\">upcoming<" in listed
    assert "Add signing key" not in listed

    done = browser.submit("/admin/oauth/signingkey/", {"action": "retire_now", "_selected_action": [kid_of(old)]})
    assert done.status_code == 200 and f"Retired {kid_of(old)}" in done.text
    assert f"The key {upcoming} signs from now on." in done.text
    assert rest_status(live_server, old) == 401
    assert published(live_server) == {upcoming}
    assert f">{kid_of(old)}</a></th><td class=\"field-state\">retired<" in browser.get("/admin/oauth/signingkey/").text
    revoked = AuditEvent.objects.get(object_type="signing key", action="revoked")
    assert (revoked.object_id, revoked.actor) == (kid_of(old), root.email)


def test_only_superusers_see_the_signing_keys(live_server, org):
    rotate()
    staff = factories.make_user(org, email="staff@example.com", password=PASSWORD, is_staff=True)
    browser = AdminBrowser(live_server.url, staff.email)
    assert browser.get("/admin/oauth/signingkey/").status_code == 403
    assert "signing keys" not in browser.get("/admin/").text.lower()


def test_unknown_key_and_negative_lead_time_are_refused(transactional_db):
    with pytest.raises(CommandError, match="No signing key"):
        call_command("rotate_signing_key", "--retire-now=not-a-kid")
    with pytest.raises(CommandError, match="No signing key"):  # a key id may begin with a hyphen, as this one
        call_command("rotate_signing_key", "--retire-now=-not-a-kid")
    with pytest.raises(CommandError, match="0 or more"):
        call_command("rotate_signing_key", "--publish-ahead", "-1")
    assert not SigningKey.objects.exists()


def test_rotated_private_keys_are_stored_encrypted(transactional_db):
    kid = rotate()
    row = SigningKey.objects.get(kid=kid)
    assert "PRIVATE KEY" not in row.private_key and row.public_key.startswith("-----BEGIN PUBLIC KEY-----")
    assert SigningKey.objects.get(kid=keys.configured_key().kid).private_key == ""  # the configured key stays there


def test_the_default_lead_time_outlasts_the_jwks_cache_lifetime(live_server):
    cache_control = Api(live_server.url).get("/.well-known/jwks.json").headers["Cache-Control"]
    max_age = int(cache_control.partition("max-age=")[2].split(",")[0])
    assert ubi_settings.SIGNING_KEY_PUBLISH_AHEAD_SECONDS > max_age
