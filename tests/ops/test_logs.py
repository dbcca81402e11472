"""The servers' logs: one JSON object a line, each request's and call's id in its response (header, problem
details, gRPC metadata) and in its log line, and never a token, secret or password, whatever the traffic.

The servers run as production runs them (gunicorn with ``gunicorn.conf.py``, ``manage.py grpcserver``), on the
test database, their output to a file."""

import json
import logging
import re
import threading
import time

import grpc
import pyotp
import pytest
import requests

from grpc_api.generated import user_behavior_insights_pb2 as ubi
from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from grpc_api.generated import user_behavior_insights_service_pb2_grpc
from observability.logs import JsonFormatter, LineHandler
from tests.support import factories
from tests.support.browser import Browser
from tests.support.grpc import bearer_metadata, free_port, wait_until_serving
from tests.support.oauth_client import PASSWORD
from tests.support.problems import assert_problem
from tests.support.servers import Gunicorn
from tests.support.ubi_documents import make_event

MADE_ID = re.compile(r"[0-9a-f]{32}")


def log_lines(path) -> list[dict]:
    """Every line of a server's output, each parsed as JSON (a line that is not fails the test)."""
    lines = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        try:
            lines.append(json.loads(line))
        except ValueError:
            pytest.fail(f"line {number} of {path.name} is not JSON: {line!r}")
    return lines


def access_line(path, request_id: str) -> dict:
    """The one access line of the request or call ``request_id``."""
    [line] = [line for line in log_lines(path) if line.get("request_id") == request_id and line["logger"] == "observability.access"]
    return line


@pytest.fixture
def grpc_server(server_process, tmp_path):
    """``manage.py grpcserver`` on a free port, its output in a file: ``(address, log path)``."""
    address = f"127.0.0.1:{free_port()}"
    log = tmp_path / "grpcserver.log"
    server = server_process("--address", address, log=log)
    wait_until_serving(address)
    yield address, log
    server.terminate()
    server.wait(60)


def stub(address):
    return user_behavior_insights_service_pb2_grpc.UserBehaviorInsightsServiceStub(grpc.insecure_channel(address))


# --- HTTP ----------------------------------------------------------------------------------------------------


def test_every_line_of_a_servers_output_is_a_json_record(gunicorn, transactional_db, token):
    requests.post(f"{gunicorn.url}/api/v1/ubi/events", json=make_event(), headers={"Authorization": f"Bearer {token}"}, timeout=30)
    requests.get(f"{gunicorn.url}/no/such/page", timeout=30)
    lines = log_lines(gunicorn.log)
    assert {"gunicorn.error", "observability.access"} <= {line["logger"] for line in lines}
    for line in lines:
        assert {"timestamp", "level", "logger", "message", "pid"} <= set(line)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["timestamp"])


def test_a_requests_id_is_in_its_header_its_problem_details_and_its_log_line(gunicorn, transactional_db):
    response = requests.get(f"{gunicorn.url}/api/v1/ubi/events", timeout=30)
    body = assert_problem(response, 401)
    request_id = response.headers["X-Request-ID"]
    assert MADE_ID.fullmatch(request_id) and body["requestId"] == request_id
    line = access_line(gunicorn.log, request_id)
    assert (line["protocol"], line["method"], line["route"], line["status"]) == ("http", "GET", "api/v1/ubi/events", 401)
    assert line["level"] == "INFO" and line["duration_ms"] >= 0 and "principal_kind" not in line


def test_the_log_line_names_the_principal(gunicorn, transactional_db, app_client, token):
    response = requests.get(f"{gunicorn.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == 200
    line = access_line(gunicorn.log, response.headers["X-Request-ID"])
    assert (line["principal_kind"], line["principal_id"], line["status"]) == ("client", app_client.client.client_id, 200)


@pytest.mark.parametrize("given", ["3f2c9a10-5b7e-4c1d-9e8f-0a1b2c3d4e5f", "trace.42:span_7-a"])
def test_a_sane_request_id_is_echoed(gunicorn, transactional_db, given):
    response = requests.get(f"{gunicorn.url}/api/v1/no-such-thing", headers={"X-Request-ID": given}, timeout=30)
    assert response.headers["X-Request-ID"] == given
    assert assert_problem(response, 404)["requestId"] == given
    assert access_line(gunicorn.log, given)["route"] == "unmatched"


@pytest.mark.parametrize("given", ["a" * 129, "two words", '"}{"level":"CRITICAL', "ümlaut"])
def test_an_insane_request_id_is_replaced(gunicorn, transactional_db, given):
    response = requests.get(
        f"{gunicorn.url}/api/v1/no-such-thing", headers={"X-Request-ID": given.encode()}, timeout=30
    )
    request_id = response.headers["X-Request-ID"]
    assert MADE_ID.fullmatch(request_id) and assert_problem(response, 404)["requestId"] == request_id
    assert access_line(gunicorn.log, request_id)["status"] == 404
    assert given not in gunicorn.log.read_text()


def test_a_request_has_one_line_and_gunicorn_writes_none_of_its_own(gunicorn, transactional_db):
    # On one connection, gunicorn logs a request's access before it reads the next request: once the second
    # request's line is written, the first one's gunicorn line would be too.
    with requests.Session() as session:
        first = session.get(f"{gunicorn.url}/api/v1/no-such-thing?code=one-time-9f3e", timeout=30)
        second = session.get(f"{gunicorn.url}/api/v1/no-such-thing", timeout=30)
    access_line(gunicorn.log, first.headers["X-Request-ID"])
    access_line(gunicorn.log, second.headers["X-Request-ID"])
    assert "gunicorn.access" not in {line["logger"] for line in log_lines(gunicorn.log)}
    assert "one-time-9f3e" not in gunicorn.log.read_text()


def test_access_log_gets_gunicorns_access_lines_as_json(tmp_path, transactional_db):
    access_log = tmp_path / "access.log"
    server = Gunicorn(tmp_path, env={"ACCESS_LOG": str(access_log)})
    try:
        server.wait_until_serving()
        assert requests.get(f"{server.url}/api/v1/no-such-thing", timeout=30).status_code == 404
    finally:
        server.stop()
    lines = log_lines(access_log)
    gunicorns = [line["message"] for line in lines if line["logger"] == "gunicorn.access"]
    assert [message for message in gunicorns if "GET /api/v1/no-such-thing" in message]


def test_the_lines_of_many_threads_stay_whole(tmp_path):
    # The project's handler writes without a lock: each record is still one line of its own.
    path = tmp_path / "threads.log"
    with path.open("w") as stream:
        handler = LineHandler(stream)
        handler.setFormatter(JsonFormatter())

        def write(thread: int):
            for number in range(300):
                handler.handle(logging.makeLogRecord({"name": "threads", "msg": f"{thread}-{number}-" + "x" * 300}))

        threads = [threading.Thread(target=write, args=(thread,)) for thread in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    messages = [line["message"] for line in log_lines(path)]
    assert sorted(messages) == sorted(f"{t}-{n}-" + "x" * 300 for t in range(8) for n in range(300))


# --- gRPC ----------------------------------------------------------------------------------------------------


def test_a_calls_request_id_is_echoed_in_its_metadata_and_logged(grpc_server, token, app_client):
    address, log = grpc_server
    request = rpc.TrackQueryRequest(query=ubi.Query(user_query="logged"))
    metadata = (*bearer_metadata(token), ("x-request-id", "grpc-call-1"))
    _response, call = stub(address).TrackQuery.with_call(request, metadata=metadata, timeout=30)
    assert ("x-request-id", "grpc-call-1") in call.initial_metadata()
    line = access_line(log, "grpc-call-1")
    assert (line["protocol"], line["method"], line["status"]) == ("grpc", "TrackQuery", "OK")
    assert (line["principal_kind"], line["principal_id"]) == ("client", app_client.client.client_id)


def test_a_refused_call_gets_a_made_request_id_too(grpc_server):
    address, log = grpc_server
    with pytest.raises(grpc.RpcError) as refused:
        stub(address).TrackQuery(
            rpc.TrackQueryRequest(query=ubi.Query(user_query="anonymous")), metadata=(("x-request-id", "bad id"),), timeout=30
        )
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    request_id = dict(refused.value.initial_metadata())["x-request-id"]
    assert MADE_ID.fullmatch(request_id)
    assert access_line(log, request_id)["status"] == "UNAUTHENTICATED"


# --- No secret in the logs -----------------------------------------------------------------------------------


def test_no_token_secret_or_password_reaches_the_logs(tmp_path, transactional_db, settings, server_process, org):
    # The servers hash with PBKDF2, as in production: the user's password must be stored that way.
    settings.PASSWORD_HASHERS = [name for name in settings.PASSWORD_HASHERS if "MD5" not in name]
    metrics_token = "metrics-bearer-5b1e0c7d"
    http = Gunicorn(tmp_path, env={"METRICS_BEARER_TOKEN": metrics_token, "METRICS_ALLOWED_NETWORKS": ""})
    grpc_address = f"127.0.0.1:{free_port()}"
    grpc_log = tmp_path / "grpcserver.log"
    grpcserver = server_process("--address", grpc_address, log=grpc_log)
    try:
        http.wait_until_serving()
        wait_until_serving(grpc_address)
        secrets = run_traffic_with_secrets(http.url, grpc_address, org, metrics_token)
    finally:
        grpcserver.terminate()
        grpcserver.wait(60)
        http.stop()
    logs = http.log.read_text() + grpc_log.read_text()
    assert "observability.access" in logs
    leaked = [name for name, secret in secrets.items() if secret in logs]
    assert leaked == []


def run_traffic_with_secrets(url: str, grpc_address: str, org, metrics_token: str) -> dict[str, str]:
    """Sign-ins, token grants, API calls over both protocols and a scrape, with right and wrong secrets: each
    secret used, by name."""
    app_client = factories.make_client(org)
    people_client = factories.make_public_client(org, allow_password_grant=True)
    user = factories.make_user(org, email="ada@example.com", roles=["insights:read", "insights:write"])
    secrets = {"client secret": app_client.client_secret, "password": PASSWORD, "metrics token": metrics_token}

    # Enrolling a second factor shows its secret once; a code from it turns it on.
    browser = Browser(url)
    login = browser.open("/v2/oauth/login?next=/v2/oauth/two-step")
    page = browser.submit(login, email=user.email, password=PASSWORD)
    secrets["TOTP secret"] = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text).group(1)
    assert "is on for this account" in browser.submit(page, code=pyotp.TOTP(secrets["TOTP secret"]).now()).text

    token_url = f"{url}/oauth2/token"
    client_credentials = {"grant_type": "client_credentials", "client_id": app_client.client.client_id}
    issued = requests.post(token_url, data={**client_credentials, "client_secret": app_client.client_secret}, timeout=30)
    secrets["access token"] = issued.json()["access_token"]
    secrets["wrong client secret"] = app_client.client_secret[::-1]
    refused = requests.post(token_url, data={**client_credentials, "client_secret": secrets["wrong client secret"]}, timeout=30)
    assert refused.status_code in (400, 401), refused.text

    password_grant = {"grant_type": "password", "client_id": people_client.client_id, "username": user.email}
    secrets["wrong password"] = "not the password 93c1"
    assert requests.post(token_url, data={**password_grant, "password": secrets["wrong password"]}, timeout=30).status_code in (400, 401)
    # The next step's code (within the window): the current one was spent turning the second factor on.
    code = pyotp.TOTP(secrets["TOTP secret"]).at(time.time(), counter_offset=1)
    signed_in = requests.post(token_url, data={**password_grant, "password": PASSWORD, "x-otp-code": code}, timeout=30)
    assert signed_in.status_code == 200, signed_in.text
    secrets["user's access token"] = signed_in.json()["access_token"]
    secrets["refresh token"] = signed_in.json()["refresh_token"]
    refreshed = requests.post(
        token_url,
        data={"grant_type": "refresh_token", "client_id": people_client.client_id, "refresh_token": secrets["refresh token"]},
        timeout=30,
    )
    assert refreshed.status_code == 200, refreshed.text
    secrets["rotated refresh token"] = refreshed.json()["refresh_token"]

    for name in ("access token", "user's access token"):
        headers = {"Authorization": f"Bearer {secrets[name]}"}
        assert requests.post(f"{url}/api/v1/ubi/events", json=make_event(), headers=headers, timeout=30).status_code == 201
        assert requests.post(f"{url}/api/v1/ubi/events", json={"no": "event"}, headers=headers, timeout=30).status_code == 400
    secrets["forged token"] = secrets["access token"][:-6] + "AAAAAA"
    assert requests.get(f"{url}/api/v1/me", headers={"Authorization": f"Bearer {secrets['forged token']}"}, timeout=30).status_code == 401
    with grpc.insecure_channel(grpc_address) as channel:
        grpc_stub = user_behavior_insights_service_pb2_grpc.UserBehaviorInsightsServiceStub(channel)
        grpc_stub.TrackQuery(
            rpc.TrackQueryRequest(query=ubi.Query(user_query="secret-free")), metadata=bearer_metadata(secrets["access token"]), timeout=30
        )
        with pytest.raises(grpc.RpcError):
            grpc_stub.TrackQuery(rpc.TrackQueryRequest(), metadata=bearer_metadata(secrets["forged token"]), timeout=30)
    revoked = requests.post(
        f"{url}/oauth2/revoke", data={"token": secrets["access token"], **client_credentials, "client_secret": app_client.client_secret}, timeout=30
    )
    assert revoked.status_code == 200
    assert requests.get(f"{url}/metrics", headers={"Authorization": f"Bearer {metrics_token}"}, timeout=30).status_code == 200
    assert requests.get(f"{url}/metrics", timeout=30).status_code == 403
    return secrets
