"""Rate limits: per principal on the API (REST and gRPC count together), per client and per address on the token
endpoint; configured in the admin, by ``create_app_client --rate-limit`` and by settings.

Windows are fixed and aligned on the clock, so the tests stop the clock at a known second of a minute: every call
falls in one window and ``Retry-After`` is exact. The one test that spans processes runs on the real clock and
starts over if an hour boundary fell inside it.
"""

import time
import json
import socket
from datetime import UTC, datetime, timedelta

import grpc
import jwt
import pytest
import requests
import time_machine
from django.core.management import CommandError, call_command
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from accounts import services
from accounts.models import AppClient, User
from grpc_api.convert import fill_message
from grpc_api.generated import user_behavior_insights_pb2 as ubi, user_behavior_insights_service_pb2 as rpc, user_behavior_insights_service_pb2_grpc
from oauth.throttling import source_address
from project.rates import Rate, parse_rate
from tests.support import factories
from tests.support.api import Api
from tests.support.grpc import bearer_metadata, rejected, wait_until_serving
from tests.support.oauth_client import password_grant
from tests.support.skips import skip_configuration
from tests.support.statements import read_now_and_then

EVENT = {"action_name": "click", "query_id": "q-1", "timestamp": "2026-03-02T09:30:00Z"}


def ten_seconds_into_a_coming_minute() -> datetime:
    """A per-minute window then has 50 seconds left. In the near future, not the past: gRPC's Python layer turns
    a call's timeout into a deadline with the stopped clock, and its core compares that with the real one."""
    return datetime.now(UTC).replace(second=10, microsecond=0) + timedelta(minutes=2)


@pytest.fixture
def frozen_at():
    return ten_seconds_into_a_coming_minute()


@pytest.fixture
def frozen_clock(frozen_at):
    with time_machine.travel(frozen_at, tick=False) as traveller:
        yield traveller


def limited_client(org, rate_limit: str):
    return services.app_client_create(
        organization=org, name=f"limited {rate_limit}", roles=factories.ensure_roles(["insights:read", "insights:write"]),
        rate_limit=rate_limit,
    )


def grpc_event():
    return rpc.TrackEventRequest(event=fill_message(ubi.Event(), EVENT))


def post_token(live_server, client_id, secret, **headers):
    return requests.post(
        f"{live_server.url}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        headers=headers,
        timeout=30,
    )


# --- The API ------------------------------------------------------------------------------------------------


def test_rest_calls_past_the_client_limit_get_429_problem_details_with_retry_after(
    live_server, org, frozen_at, frozen_clock
):
    created = limited_client(org, "3/min")
    api = Api(live_server.url, factories.bearer_for(created.client))

    statuses = [api.post("/api/v1/ubi/events", json=EVENT).status_code for _ in range(3)]
    refused = api.post("/api/v1/ubi/events", json=EVENT)

    assert statuses == [201, 201, 201]
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "50"
    assert refused.headers["Content-Type"] == "application/problem+json"
    body = refused.json()
    assert body["status"] == 429 and body["title"] == "Too Many Requests."
    assert "3/min" in body["detail"]
    # Reads count too, and the next window starts afresh.
    assert api.get("/api/v1/ubi/events").status_code == 429
    frozen_clock.move_to(frozen_at + timedelta(seconds=50))
    assert api.get("/api/v1/ubi/events").status_code == 200


def test_grpc_calls_past_the_limit_are_resource_exhausted_with_retry_info(org, ubi_stub, frozen_clock):
    created = limited_client(org, "2/min")
    metadata = bearer_metadata(factories.bearer_for(created.client))
    for _ in range(2):
        ubi_stub.TrackEvent(grpc_event(), metadata=metadata, timeout=30)

    error = rejected(ubi_stub.TrackEvent, grpc_event(), metadata=metadata, timeout=30)

    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    retry_info, error_info = error_details_pb2.RetryInfo(), error_details_pb2.ErrorInfo()
    (detail, code) = rpc_status.from_call(error).details
    assert detail.Unpack(retry_info) and code.Unpack(error_info)
    assert retry_info.retry_delay.seconds == 50
    assert (error_info.reason, error_info.domain) == ("rate_limited", "ubi")
    assert ("retry-after", "50") in tuple(error.trailing_metadata())


def test_rest_and_grpc_calls_of_one_principal_count_together(live_server, org, ubi_stub, frozen_clock):
    created = limited_client(org, "3/min")
    token = factories.bearer_for(created.client)
    api = Api(live_server.url, token)

    assert api.post("/api/v1/ubi/events", json=EVENT).status_code == 201
    ubi_stub.TrackEvent(grpc_event(), metadata=bearer_metadata(token), timeout=30)
    assert api.get("/api/v1/me").status_code == 200

    assert rejected(ubi_stub.TrackEvent, grpc_event(), metadata=bearer_metadata(token), timeout=30).code() == (
        grpc.StatusCode.RESOURCE_EXHAUSTED
    )
    assert api.get("/api/v1/me").status_code == 429


def test_each_principal_has_its_own_budget(live_server, org, frozen_clock):
    first, second = limited_client(org, "1/min"), limited_client(org, "1/min")
    first_api = Api(live_server.url, factories.bearer_for(first.client))
    second_api = Api(live_server.url, factories.bearer_for(second.client))

    assert first_api.get("/api/v1/me").status_code == 200
    assert first_api.get("/api/v1/me").status_code == 429
    assert second_api.get("/api/v1/me").status_code == 200


def test_clients_without_their_own_limit_get_the_default_and_off_means_no_limit(
    live_server, org, settings, frozen_clock
):
    settings.UBI = {"RATE_LIMIT_CLIENT": "2/min"}
    api = Api(live_server.url, factories.bearer_for(factories.make_client(org).client))
    assert [api.get("/api/v1/me").status_code for _ in range(3)] == [200, 200, 429]

    settings.UBI = {"RATE_LIMIT_CLIENT": None}
    unlimited = Api(live_server.url, factories.bearer_for(factories.make_client(org).client))
    assert {unlimited.get("/api/v1/me").status_code for _ in range(5)} == {200}


def test_a_users_own_limit_travels_in_the_token_from_the_token_endpoint(live_server, org, people_client, settings):
    settings.UBI = {"RATE_LIMIT_USER": "100/s"}
    user = factories.make_user(org, roles=["insights:read"])
    user.rate_limit = "2/min"
    user.save(update_fields=["rate_limit"])
    with time_machine.travel(ten_seconds_into_a_coming_minute(), tick=False):
        issued = password_grant(live_server, people_client, user.email).json()["access_token"]
        assert jwt.decode(issued, options={"verify_signature": False})["rate_limit"] == "2/min"
        api = Api(live_server.url, issued)
        assert [api.get("/api/v1/ubi/queries").status_code for _ in range(3)] == [200, 200, 429]


def test_users_without_their_own_limit_get_the_user_default(live_server, org, people_client, settings):
    settings.UBI = {"RATE_LIMIT_USER": "1/min", "RATE_LIMIT_CLIENT": "100/min"}
    user = factories.make_user(org, roles=["insights:read"])
    with time_machine.travel(ten_seconds_into_a_coming_minute(), tick=False):
        issued = password_grant(live_server, people_client, user.email).json()["access_token"]
        assert "rate_limit" not in jwt.decode(issued, options={"verify_signature": False})
        api = Api(live_server.url, issued)
        assert [api.get("/api/v1/me").status_code for _ in range(2)] == [200, 429]


def test_tracking_one_event_reads_nothing_but_the_event_table(client, app_client, django_assert_max_num_queries):
    """Single-event tracking with the limiter on: authentication and the rate limit read only the token and caches,
    so the database sees the insert (and its transaction) and nothing else but the maintenance switch, which a
    process reads at most once a second (insights/maintenance.py), and the organisation's suppressed people, at most
    once every SUPPRESSION_CACHE_SECONDS (insights/suppressions.py)."""
    headers = {"HTTP_AUTHORIZATION": f"Bearer {factories.bearer_for(app_client.client)}"}
    # A process reads the revocation table when it sees a new revocation generation, as on this first call.
    client.get("/api/v1/me", **headers)
    with django_assert_max_num_queries(5) as captured:
        response = client.post("/api/v1/ubi/events", EVENT, content_type="application/json", **headers)
    assert response.status_code == 201
    tables = [
        query["sql"]
        for query in captured.captured_queries
        if "SAVEPOINT" not in query["sql"].upper() and not read_now_and_then(query["sql"])
    ]
    assert len(tables) == 1 and "insights_event" in tables[0]


# --- The token endpoint -------------------------------------------------------------------------------------


def test_token_requests_past_the_client_limit_are_rate_limited(live_server, org, settings, frozen_clock):
    settings.UBI = {"TOKEN_RATE_LIMIT_PER_CLIENT": "2/min", "TOKEN_RATE_LIMIT_PER_ADDRESS": None}
    limited, other = factories.make_client(org), factories.make_client(org)
    statuses = [post_token(live_server, limited.client.client_id, limited.client_secret).status_code for _ in range(2)]

    refused = post_token(live_server, limited.client.client_id, limited.client_secret)

    assert statuses == [200, 200]
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "50"
    assert refused.headers["Content-Type"] == "application/json"
    assert refused.json()["error"] == "rate_limited"  # too_many_attempts is the lockout's (issue 18, item 5)
    assert "2/min" in refused.json()["error_description"]
    assert post_token(live_server, other.client.client_id, other.client_secret).status_code == 200


def test_wrong_secrets_do_not_spend_a_clients_token_budget(live_server, org, settings, frozen_clock):
    """Counted once the client is authenticated: a stranger naming a client_id cannot lock the client out."""
    settings.UBI = {"TOKEN_RATE_LIMIT_PER_CLIENT": "1/min", "TOKEN_RATE_LIMIT_PER_ADDRESS": None}
    created = factories.make_client(org)
    for _ in range(3):
        assert post_token(live_server, created.client.client_id, "wrong").status_code == 400
    assert post_token(live_server, created.client.client_id, created.client_secret).status_code == 200


def test_token_requests_past_the_address_limit_are_refused_before_anything_is_checked(
    live_server, org, settings, frozen_clock
):
    settings.UBI = {"TOKEN_RATE_LIMIT_PER_ADDRESS": "2/min", "TOKEN_RATE_LIMIT_PER_CLIENT": None}
    first, second = factories.make_client(org), factories.make_client(org)
    assert post_token(live_server, first.client.client_id, "wrong").status_code == 400
    assert post_token(live_server, first.client.client_id, first.client_secret).status_code == 200

    refused = post_token(live_server, second.client.client_id, second.client_secret)

    assert refused.status_code == 429 and refused.json()["error"] == "rate_limited"
    assert refused.headers["Retry-After"] == "50"


def test_x_forwarded_for_is_ignored_unless_proxies_are_trusted(live_server, org, settings, frozen_clock):
    settings.UBI = {"TOKEN_RATE_LIMIT_PER_ADDRESS": "1/min", "TOKEN_RATE_LIMIT_PER_CLIENT": None}
    created = factories.make_client(org)

    def from_address(address):
        return post_token(
            live_server, created.client.client_id, created.client_secret, **{"X-Forwarded-For": address}
        ).status_code

    assert [from_address("203.0.113.1"), from_address("203.0.113.2")] == [200, 429]

    settings.UBI = {**settings.UBI, "TRUSTED_PROXY_COUNT": 1}
    assert [from_address("203.0.113.3"), from_address("203.0.113.4"), from_address("203.0.113.3")] == [200, 200, 429]


def test_source_address_groups_ipv6_by_64_and_unwraps_mapped_ipv4(rf, settings):
    settings.UBI = {"TRUSTED_PROXY_COUNT": 1}
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.9, 2001:db8:1:2:3:4:5:6")
    assert source_address(request) == "2001:db8:1:2::/64"
    assert source_address(rf.get("/", HTTP_X_FORWARDED_FOR="::ffff:192.0.2.7")) == "192.0.2.7"
    settings.UBI = {"TRUSTED_PROXY_COUNT": 2}
    assert source_address(request) == "198.51.100.9"
    # Fewer entries than trusted proxies: the caller wrote them, so the connection's address counts.
    assert source_address(rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.8")) == "10.0.0.1"
    assert source_address(rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="not an address, x")) == "unknown"


# --- Configuration ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rate"),
    [("1000/s", Rate(1000, 1)), (" 20 / min ", Rate(20, 60)), ("5/h", Rate(5, 3600))],
)
def test_rates_parse(text, rate):
    assert parse_rate(text) == rate
    assert parse_rate(str(rate)) == rate


@pytest.mark.parametrize("text", ["", "fast", "0/s", "-1/s", "10/day", "10/", "1e3/s", "1234567890/s", "10/m"])
def test_malformed_rates_are_refused(text):
    with pytest.raises(ValueError, match="N/s, N/min or N/h"):
        parse_rate(text)


def test_create_app_client_sets_the_rate_limit_and_the_token_carries_it(live_server, capsys):
    factories.ensure_roles(["insights:write"])
    call_command("create_app_client", "--org", "Acme", "--name", "shop", "--roles", "insights:write",
                 "--rate-limit", "20000/min", "--json")
    credentials = json.loads(capsys.readouterr().out)
    assert AppClient.objects.get(client_id=credentials["client_id"]).rate_limit == "20000/min"
    issued = post_token(live_server, credentials["client_id"], credentials["client_secret"]).json()["access_token"]
    assert jwt.decode(issued, options={"verify_signature": False})["rate_limit"] == "20000/min"


@pytest.mark.parametrize("value", ["fast", "0/s", "10/day"])
def test_create_app_client_refuses_a_malformed_rate_limit(db, value):
    with pytest.raises(CommandError, match=r"--rate-limit: .* write N/s, N/min or N/h"):
        call_command("create_app_client", "--org", "Acme", "--name", "shop", "--rate-limit", value)
    assert not AppClient.objects.exists()


@pytest.fixture
def admin_session(client, org):
    superuser = factories.make_user(org, email="root@example.com", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    return client


def client_form(app_client, **changes):
    return {
        "name": app_client.name,
        "organization": str(app_client.organization_id),
        "roles": [str(pk) for pk in app_client.roles.values_list("pk", flat=True)],
        "is_active": "on",
        "client_type": app_client.client_type,
        "authorization_grant_type": app_client.authorization_grant_type,
        "redirect_uris": "",
        **changes,
    }


def test_the_admin_edits_a_clients_rate_limit_and_refuses_a_malformed_one(admin_session, app_client):
    client = app_client.client
    page = f"/admin/accounts/appclient/{client.pk}/change/"

    refused = admin_session.post(page, client_form(client, rate_limit="very fast"))
    assert refused.status_code == 200 and "N/s, N/min or N/h" in refused.content.decode()
    client.refresh_from_db()
    assert client.rate_limit == ""

    saved = admin_session.post(page, client_form(client, rate_limit="250/s"))
    assert saved.status_code == 302
    client.refresh_from_db()
    assert client.rate_limit == "250/s"
    assert jwt.decode(factories.bearer_for(client), options={"verify_signature": False})["rate_limit"] == "250/s"


def test_the_admin_edits_a_users_rate_limit(admin_session, org):
    user = factories.make_user(org)
    page = f"/admin/accounts/user/{user.pk}/change/"
    form = admin_session.get(page)
    assert b'name="rate_limit"' in form.content

    saved = admin_session.post(
        page,
        {
            "email": user.email,
            "organization": str(org.pk),
            "is_active": "on",
            "rate_limit": "30/min",
            "password_changed_at": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert saved.status_code == 302, saved.content.decode()[:3000]
    assert User.objects.get(pk=user.pk).rate_limit == "30/min"


def test_a_malformed_rate_setting_fails_the_system_check(settings):
    from oauth.checks import rate_limit_check

    settings.UBI = {"RATE_LIMIT_CLIENT": "lots", "TRUSTED_PROXY_COUNT": -1}
    assert {problem.id for problem in rate_limit_check(None)} == {"oauth.E003", "oauth.E004"}
    settings.UBI = {}
    assert rate_limit_check(None) == []


# --- Across processes ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_with_redis_processes_count_together(live_server, server_process, org, settings):
    """The REST server of this process and a ``grpcserver`` process spend one budget through Redis."""
    if not settings.REDIS_URL:
        skip_configuration("REDIS_URL is not set: without Redis each process counts its own calls")
    target = f"127.0.0.1:{free_port()}"
    server_process("--address", target, "--threads", "2")
    wait_until_serving(target)
    with grpc.insecure_channel(target) as channel:
        stub = user_behavior_insights_service_pb2_grpc.UserBehaviorInsightsServiceStub(channel)
        for _attempt in range(2):  # an hour boundary inside the first attempt resets the counts: start over
            hour = int(time.time() // 3600)
            created = limited_client(org, "4/h")
            token = factories.bearer_for(created.client)
            api = Api(live_server.url, token)
            answers = [api.get("/api/v1/me").status_code for _ in range(2)]
            for _ in range(2):
                stub.TrackEvent(grpc_event(), metadata=bearer_metadata(token), timeout=30)
            refused_grpc = rejected(stub.TrackEvent, grpc_event(), metadata=bearer_metadata(token), timeout=30)
            refused_rest = api.get("/api/v1/me")
            if int(time.time() // 3600) == hour:
                break
    assert answers == [200, 200]
    assert refused_grpc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert refused_rest.status_code == 429
