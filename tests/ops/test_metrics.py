"""``/metrics``: the counts of a deployment of several processes, gunicorn with two workers and ``grpcserver`` with
two processes writing to one ``PROMETHEUS_MULTIPROC_DIR``, are exactly the traffic sent to them; who may read
them; and labels that stay bounded whatever paths callers invent."""

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
import requests
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from prometheus_client.parser import text_string_to_metric_families

from grpc_api.generated import user_behavior_insights_pb2 as ubi
from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from grpc_api.generated import user_behavior_insights_service_pb2_grpc
from tests.support import factories
from tests.support.grpc import bearer_metadata, free_port, wait_until_serving
from tests.support.problems import assert_problem
from tests.support.servers import Gunicorn
from tests.support.ubi_documents import make_event

# Each round sends this many requests at once on new connections: rounds go on until every process has served.
ROUND = 8
MAX_ROUNDS = 20


def samples(text: str) -> dict[tuple, float]:
    """``{(sample name, ((label, value), ...)): value}`` of a Prometheus text exposition."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped: dict, name: str, **labels) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


def access_lines(log_text: str) -> list[dict]:
    return [line for line in map(json.loads, log_text.splitlines()) if line["logger"] == "observability.access"]


def in_rounds(send, served_pids, processes: set[int]) -> int:
    """Call ``send`` ``ROUND`` times at once, round after round, until every one of ``processes`` has served one
    (``served_pids()``); the number of calls made."""
    sent = 0
    with ThreadPoolExecutor(ROUND) as pool:
        for _ in range(MAX_ROUNDS):
            list(pool.map(lambda _: send(), range(ROUND)))
            sent += ROUND
            if served_pids() >= processes:
                return sent
    pytest.fail(f"{sent} calls did not reach every process {processes}: {served_pids()}")


@pytest.fixture
def deployment(transactional_db, tmp_path, server_process):
    """gunicorn (two workers) and grpcserver (two processes) sharing one metrics directory: ``(gunicorn,
    grpcserver, its address, its log)``."""
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "LOG_FORMAT": "json"}
    http = Gunicorn(tmp_path, env={**env, "WEB_CONCURRENCY": "2"})
    grpc_address = f"127.0.0.1:{free_port()}"
    grpc_log = tmp_path / "grpcserver.log"
    grpcserver = server_process("--address", grpc_address, "--processes", "2", env=env, log=grpc_log)
    try:
        http.wait_until_serving()
        wait_until_serving(grpc_address)
        yield http, grpcserver, grpc_address, grpc_log
    finally:
        grpcserver.terminate()
        grpcserver.wait(60)
        http.stop()


def test_metrics_sum_every_process_of_both_servers(deployment, org):
    http, grpcserver, grpc_address, grpc_log = deployment
    app_client = factories.make_client(org)
    token = factories.bearer_for(app_client.client)

    def track_one_event():
        response = requests.post(
            f"{http.url}/api/v1/ubi/events", json=make_event(), headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        assert response.status_code == 201, response.text

    def event_pids():
        lines = access_lines(http.log.read_text())
        return {line["pid"] for line in lines if line["route"] == "api/v1/ubi/events"}

    events = in_rounds(track_one_event, event_pids, set(http.worker_pids()))

    def track_one_query():
        with grpc.insecure_channel(grpc_address) as channel:  # a new connection: either process may take it
            stub = user_behavior_insights_service_pb2_grpc.UserBehaviorInsightsServiceStub(channel)
            stub.TrackQuery(
                rpc.TrackQueryRequest(query=ubi.Query(user_query="metrics")), metadata=bearer_metadata(token), timeout=30
            )

    def query_pids():
        return {line["pid"] for line in access_lines(grpc_log.read_text()) if line["method"] == "TrackQuery"}

    grpc_children = {int(pid) for pid in _children(grpcserver.process.pid)}
    queries = in_rounds(track_one_query, query_pids, grpc_children)

    tokens = 3
    for _ in range(tokens):
        issued = requests.post(
            f"{http.url}/oauth2/token",
            data={"grant_type": "client_credentials", "client_id": app_client.client.client_id,
                  "client_secret": app_client.client_secret},
            timeout=30,
        )
        assert issued.status_code == 200, issued.text

    response = requests.get(f"{http.url}/metrics", timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain")
    scraped = samples(response.text)
    assert value(scraped, "ubi_events_tracked_total") == events
    assert value(scraped, "ubi_queries_tracked_total") == queries
    route = {"method": "POST", "route": "api/v1/ubi/events"}
    assert value(scraped, "ubi_http_requests_total", **route, status="201") == events
    assert value(scraped, "ubi_http_request_duration_seconds_count", **route) == events
    assert value(scraped, "ubi_grpc_calls_total", method="TrackQuery", code="OK") == queries
    assert value(scraped, "ubi_grpc_call_duration_seconds_count", method="TrackQuery") == queries
    assert value(scraped, "ubi_tokens_issued_total", grant_type="client_credentials") == tokens
    assert value(scraped, "ubi_http_requests_total", method="POST", route="oauth2/token", status="200") == tokens


def _children(pid: int) -> list[str]:
    return open(f"/proc/{pid}/task/{pid}/children").read().split()


@pytest.fixture
def scrape(live_server):
    def get(**headers):
        return requests.get(f"{live_server.url}/metrics", headers=headers, timeout=30)

    return get


def test_a_caller_from_an_allowed_network_may_scrape(scrape):
    # The default: this machine only (127.0.0.0/8 and ::1).
    response = scrape()
    assert response.status_code == 200
    assert "ubi_http_requests_total" in response.text


def test_outside_the_allowed_networks_only_the_bearer_token_admits(scrape, settings):
    settings.UBI = {"METRICS_ALLOWED_NETWORKS": ["192.0.2.0/24"], "METRICS_BEARER_TOKEN": "scrape-me-7f3a"}
    refused = scrape()
    body = assert_problem(refused, 403)
    assert body["code"] == "permission_denied" and body["requestId"] == refused.headers["X-Request-ID"]
    assert_problem(scrape(Authorization="Bearer not-the-token"), 403)
    assert_problem(scrape(Authorization="Basic scrape-me-7f3a"), 403)
    assert scrape(Authorization="Bearer scrape-me-7f3a").status_code == 200


def test_behind_a_proxy_the_clients_address_counts_not_the_proxys(scrape, settings):
    # The proxy on this machine forwards a caller from elsewhere: its loopback address admits nobody.
    settings.UBI = {"TRUSTED_PROXY_COUNT": 1}
    assert_problem(scrape(**{"X-Forwarded-For": "203.0.113.9"}), 403)
    assert scrape(**{"X-Forwarded-For": "127.0.0.1"}).status_code == 200


def test_a_bad_network_stops_the_start(settings):
    settings.UBI = {"METRICS_ALLOWED_NETWORKS": ["10.0.0.0/33"]}
    with pytest.raises(SystemCheckError, match="METRICS_ALLOWED_NETWORKS"):
        call_command("check")


def test_labels_name_url_patterns_never_paths(scrape, token, live_server):
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    query = {"method": "GET", "route": "api/v1/ubi/queries/<str:query_id>", "status": "404"}
    before = samples(scrape().text)
    invented = [uuid.uuid4().hex for _ in range(3)]
    for name in invented:
        assert requests.get(f"{live_server.url}/no/such/{name}", timeout=30).status_code == 404
        missing = requests.get(
            f"{live_server.url}/api/v1/ubi/queries/{name}", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        assert missing.status_code == 404
    # A method of the caller's invention is "other".
    requests.request("BREW", f"{live_server.url}/api/v1/me", timeout=30)
    text = scrape().text
    assert not any(name in text for name in invented)
    assert token not in text and "BREW" not in text
    after = samples(text)
    for labels in (unmatched, query):
        assert value(after, "ubi_http_requests_total", **labels) - value(before, "ubi_http_requests_total", **labels) == 3
    other = {"method": "other", "route": "api/v1/me", "status": "401"}
    assert value(after, "ubi_http_requests_total", **other) - value(before, "ubi_http_requests_total", **other) == 1


def test_rate_limit_refusals_are_counted_by_scope(scrape, live_server, settings, token):
    settings.UBI = {"RATE_LIMIT_CLIENT": "1/h"}
    refused = {"scope": "client"}
    before = value(samples(scrape().text), "ubi_rate_limited_total", **refused)
    statuses = [
        requests.get(f"{live_server.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=30).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 429, 429]
    assert value(samples(scrape().text), "ubi_rate_limited_total", **refused) - before == 2
