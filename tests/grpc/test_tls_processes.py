"""``manage.py grpcserver --tls-cert/--tls-key`` started as an operator starts it, and ``ubi_client.grpc_auth.connect``
reaching it over TLS: the certificate is made here, trusted by the client as its only root, and a plaintext caller
is turned away before any call reaches the service."""

import grpc
import pytest

from grpc_api.generated import user_behavior_insights_pb2 as ubi
from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from grpc_api.generated import user_behavior_insights_service_pb2_grpc
from insights.models import Query
from tests.support.grpc import bearer_metadata, free_port, rejected, self_signed_certificate, wait_until_serving
from ubi_client import OAuth2TokenService
from ubi_client.grpc_auth import connect


def track(channel, user_query: str, **kwargs) -> str:
    stub = user_behavior_insights_service_pb2_grpc.UserBehaviorInsightsServiceStub(channel)
    return stub.TrackQuery(rpc.TrackQueryRequest(query=ubi.Query(user_query=user_query)), timeout=10, **kwargs).query_id


@pytest.fixture
def tls_server(server_process, tmp_path):
    """Starts ``grpcserver`` with a self-signed certificate for localhost and 127.0.0.1: ``(port, certificate
    PEM)``. SIGTERM stops it at the end of the test, which it must survive: every process exits 0."""
    certificate, key = self_signed_certificate()
    (tmp_path / "cert.pem").write_bytes(certificate)
    (tmp_path / "key.pem").write_bytes(key)
    started = []

    def start(processes: str):
        port = free_port()
        started.append(server_process(
            "--address", f"127.0.0.1:{port}", "--processes", processes, "--grace", "5",
            "--tls-cert", str(tmp_path / "cert.pem"), "--tls-key", str(tmp_path / "key.pem"),
        ))
        wait_until_serving(f"localhost:{port}", credentials=grpc.ssl_channel_credentials(certificate))
        return port, certificate

    yield start
    for server in started:
        server.terminate()
        status, output = server.wait(30)
        assert status == 0 and "TLS on" in output, output


@pytest.mark.parametrize("processes", ["1", "2"])
def test_grpcserver_serves_tls_to_a_caller_trusting_its_certificate(tls_server, token, processes):
    port, certificate = tls_server(processes)
    credentials = grpc.composite_channel_credentials(
        grpc.ssl_channel_credentials(root_certificates=certificate), grpc.access_token_call_credentials(token)
    )
    with grpc.secure_channel(f"localhost:{port}", credentials) as channel:
        query_id = track(channel, "over tls")

    assert Query.objects.get(query_id=query_id).user_query == "over tls"


def test_the_python_client_connects_over_tls_with_the_certificate_as_its_root(tls_server, live_server, app_client):
    port, certificate = tls_server("1")
    tokens = OAuth2TokenService(
        f"{live_server.url}/oauth2/token", app_client.client.client_id, app_client.client_secret
    )
    with connect(f"localhost:{port}", tokens, root_certificates=certificate) as channel:
        query_id = track(channel, "through the client")

    assert Query.objects.get(query_id=query_id).user_query == "through the client"


def test_plaintext_and_untrusted_callers_are_refused_before_the_service(tls_server, token):
    """A plaintext channel, the client's plaintext mode, and TLS trusting only the system's roots all fail to
    connect: UNAVAILABLE, and nothing is stored."""
    port, _certificate = tls_server("1")
    with grpc.insecure_channel(f"127.0.0.1:{port}") as plaintext:
        assert rejected(track, plaintext, "plaintext", metadata=bearer_metadata(token)).code() == (
            grpc.StatusCode.UNAVAILABLE
        )
    with grpc.secure_channel(f"localhost:{port}", grpc.ssl_channel_credentials()) as untrusted:
        assert rejected(track, untrusted, "untrusted", metadata=bearer_metadata(token)).code() == (
            grpc.StatusCode.UNAVAILABLE
        )
    tokens = OAuth2TokenService("http://127.0.0.1:9/never-asked", "id", "secret")
    with connect(f"localhost:{port}", tokens, tls=False) as local:
        assert rejected(track, local, "client without tls").code() == grpc.StatusCode.UNAVAILABLE

    assert not Query.objects.exists()
