"""One address for both protocols: nginx with the shipped deploy/nginx/ubi.conf serves the token endpoint, the REST
API and the gRPC API on one TLS port, as the public samples use one host for the token endpoint and the gRPC channel.

nginx runs from a temporary prefix on free ports, in front of the live server and a real gRPC server, with a
self-signed certificate for ``localhost``. Without an nginx binary the test is skipped, except under ``CI=true``,
where .ci/run installs it and a missing binary fails the test.
"""

import shutil
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

import grpc
import pytest
import requests
from grpc_health.v1 import health_pb2, health_pb2_grpc

from grpc_api.generated import user_behavior_insights_pb2 as ubi
from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from grpc_api.generated.user_behavior_insights_service_pb2_grpc import UserBehaviorInsightsServiceStub
from insights.models import Event, Query
from tests.support.grpc import field_violations, free_port, rejected, self_signed_certificate
from tests.support.skips import skip_missing
from ubi_client import OAuth2TokenService
from ubi_client.grpc_auth import connect
from ubi_client.requests_auth import OAuth2Handler

SHIPPED = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "ubi.conf"


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found:
        return found
    skip_missing("nginx", "Debian: apt-get install nginx; .ci/run installs it")


def site_configuration(port: int, http_address: str, grpc_address: str, cert: Path, key: Path) -> str:
    """The shipped file, with this test's port, servers and certificate in place of the documented ones."""
    text = SHIPPED.read_text()
    replacements = {
        "listen 443 ssl http2;": f"listen 127.0.0.1:{port} ssl http2;",
        "server 127.0.0.1:8000;": f"server {http_address};",
        "server 127.0.0.1:50051;": f"server {grpc_address};",
        "/etc/ssl/ubi/cert.pem": str(cert),
        "/etc/ssl/ubi/key.pem": str(key),
    }
    for documented, used in replacements.items():
        assert text.count(documented) == 1, f"{SHIPPED.name} does not say {documented!r} once"
        text = text.replace(documented, used)
    return text


def main_configuration(prefix: Path) -> str:
    temp_paths = "\n".join(
        f"    {kind}_temp_path {prefix / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
{temp_paths}
    include {prefix / "ubi.conf"};
}}
"""


def wait_until_listening(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"nginx exited {process.returncode}: {log.read_text() if log.exists() else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail("nginx did not listen within 15 s")


@pytest.fixture
def one_address(tmp_path, live_server, grpc_address):
    """``(port, certificate path)`` of nginx serving both protocols on one TLS port of 127.0.0.1."""
    binary = nginx_binary()
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    certificate_pem, key_pem = self_signed_certificate()
    cert.write_bytes(certificate_pem)
    key.write_bytes(key_pem)
    port = free_port()
    http_address = live_server.url.removeprefix("http://")
    (tmp_path / "ubi.conf").write_text(site_configuration(port, http_address, grpc_address, cert, key))
    (tmp_path / "nginx.conf").write_text(main_configuration(tmp_path))
    log = tmp_path / "error.log"
    process = subprocess.Popen(
        [binary, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", str(log), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        wait_until_listening(process, port, log)
        yield port, cert
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        process.stderr.close()


@pytest.fixture
def tokens(one_address, app_client):
    port, cert = one_address
    return OAuth2TokenService(
        f"https://localhost:{port}/oauth2/token", app_client.client.client_id, app_client.client_secret,
        ssl_context=ssl.create_default_context(cafile=str(cert)),
    )


def test_the_token_endpoint_and_the_rest_api_answer_on_the_tls_port(one_address, tokens):
    port, cert = one_address
    response = requests.get(f"https://localhost:{port}/api/v1/me", auth=OAuth2Handler(tokens), verify=cert, timeout=30)
    assert response.status_code == 200 and response.json()["client_id"] == tokens.client_id
    problem = requests.get(f"https://localhost:{port}/api/v1/no-such-thing", verify=cert, timeout=30)
    assert problem.status_code == 404 and problem.json()["instance"] == "/api/v1/no-such-thing"


def test_the_grpc_api_answers_on_the_same_port(one_address, tokens):
    port, cert = one_address
    with connect(f"localhost:{port}", tokens, root_certificates=cert.read_bytes()) as channel:
        stub = UserBehaviorInsightsServiceStub(channel)
        query_id = stub.TrackQuery(rpc.TrackQueryRequest(query=ubi.Query(user_query="toner"))).query_id
        event = ubi.Event(action_name="click", query_id=query_id)
        event.timestamp.FromSeconds(1715862896)
        stored = stub.TrackEvents(iter([rpc.TrackEventsRequest(events=[event, event])]))
        invalid = rejected(stub.TrackEvent, rpc.TrackEventRequest(event=ubi.Event(query_id=query_id)))
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    assert Query.objects.get(query_id=query_id).user_query == "toner"
    assert len(stored.event_ids) == 2 and Event.objects.count() == 2
    assert invalid.code() == grpc.StatusCode.INVALID_ARGUMENT  # the server's status and details pass through
    assert "action_name" in field_violations(invalid)
    assert health.status == health_pb2.HealthCheckResponse.SERVING
