"""gRPC test helpers: the real server on an ephemeral port, a real channel, and status details decoded.

The server's worker threads open their own database connections, so every test that uses it runs on
``transactional_db``: rows are committed and visible across threads (the SQLite test database is a file).
"""

import datetime
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.db import connection
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from grpc_api.convert import fill_message
from grpc_api.generated import user_behavior_insights_pb2 as ubi
from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from grpc_api.generated import user_behavior_insights_service_pb2_grpc
from grpc_api.server import create_server
from tests.support import factories
from tests.support.paths import PROJECT


@pytest.fixture
def start_grpc_server(transactional_db, monkeypatch):
    """``start_grpc_server(threads=4)`` starts an in-process server and returns its ``127.0.0.1:PORT``; every server
    started is stopped at the end of the test. A server takes its thread count and receive limit when it starts:
    change ``settings.UBI`` first."""
    # Each call closes its worker thread's connection at its end (request_finished), so no connection outlives
    # the test and the test database can be flushed and dropped.
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    servers = []

    def start(*, threads: int = 4) -> str:
        server, port = create_server("127.0.0.1:0", threads=threads)
        server.start()
        servers.append(server)
        return f"127.0.0.1:{port}"

    yield start
    for server in servers:
        server.stop(None)


@pytest.fixture
def grpc_address(start_grpc_server):
    """``127.0.0.1:PORT`` of an in-process server, stopped at the end of the test."""
    return start_grpc_server()


@pytest.fixture
def grpc_channel(grpc_address):
    with grpc.insecure_channel(grpc_address) as channel:
        yield channel


@pytest.fixture
def ubi_stub(grpc_channel):
    return user_behavior_insights_service_pb2_grpc.UserBehaviorInsightsServiceStub(grpc_channel)


@pytest.fixture
def auth(token):
    """The call metadata of ``token`` (a client with both insights roles)."""
    return bearer_metadata(token)


def bearer_metadata(token: str) -> tuple:
    return (("authorization", f"Bearer {token}"),)


def metadata_with_roles(org, roles) -> tuple:
    """The call metadata of a new client of ``org`` holding exactly ``roles``."""
    return bearer_metadata(factories.bearer_for(factories.make_client(org, roles=roles).client))


def field_violations(error: grpc.RpcError) -> dict[str, list[str]]:
    """The ``google.rpc.BadRequest`` of an ``INVALID_ARGUMENT`` error, shaped like the REST ``errors`` object."""
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error
    *details, error_info = rpc_status.from_call(error).details
    assert error_info.Is(error_details_pb2.ErrorInfo.DESCRIPTOR), error_info.type_url
    violations = {}
    for detail in details:
        bad_request = error_details_pb2.BadRequest()
        assert detail.Unpack(bad_request), detail.type_url
        for violation in bad_request.field_violations:
            violations.setdefault(violation.field, []).append(violation.description)
    return violations


def held_stream(messages, release: threading.Event):
    """A request stream that sends ``messages``, then nothing until ``release`` is set: a client that idles, or
    that has more to send. (At most a minute, so that a test that fails leaves no thread behind for long.)"""
    yield from messages
    release.wait(60)


def retry_delay_seconds(error: grpc.RpcError) -> int | None:
    """The ``google.rpc.RetryInfo`` delay of an error, in seconds; None without one."""
    for detail in rpc_status.from_call(error).details:
        retry_info = error_details_pb2.RetryInfo()
        if detail.Unpack(retry_info):
            return retry_info.retry_delay.seconds
    return None


def stream_of(*batches: list[dict]):
    """A TrackEvents request stream: one message per batch."""
    for batch in batches:
        yield rpc.TrackEventsRequest(events=[fill_message(ubi.Event(), document) for document in batch])


def rejected(call, *args, **kwargs) -> grpc.RpcError:
    """The error ``call`` fails with; fails the test if it succeeds."""
    with pytest.raises(grpc.RpcError) as raised:
        call(*args, **kwargs)
    return raised.value


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on, for a server started in another process."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(target: str, *, timeout: float = 30, credentials=None) -> None:
    """Block until the server at ``target`` answers its health check ``SERVING``."""
    channel = grpc.secure_channel(target, credentials) if credentials else grpc.insecure_channel(target)
    with channel:
        grpc.channel_ready_future(channel).result(timeout=timeout)
        response = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=timeout)
        assert response.status == health_pb2.HealthCheckResponse.SERVING


class ServerProcess:
    """``manage.py grpcserver`` as an operator starts it, on the test database. Its output goes to a file as it
    goes (``log``, or one of its own), never to a pipe: a server that logs every call would block once a pipe
    nobody reads is full."""

    def __init__(self, *arguments: str, env: dict[str, str] | None = None, log: Path | None = None):
        env = {**os.environ, "DATABASE_URL": database_url(), "PYTHONUNBUFFERED": "1", **(env or {})}
        self.output = log.open("w+b") if log else tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "grpcserver", *arguments],
            cwd=PROJECT,
            env=env,
            stdout=self.output,
            stderr=subprocess.STDOUT,
        )

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> tuple[int, str]:
        """Its exit status and everything it printed."""
        self.process.wait(timeout)
        self.output.seek(0)
        return self.process.returncode, self.output.read().decode(errors="replace")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.output.close()


def database_url() -> str:
    """A ``DATABASE_URL`` naming the test database this process uses, for a server in another process."""
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{database['NAME']}"
    credentials = database["USER"] + (f":{database['PASSWORD']}" if database["PASSWORD"] else "")
    return f"postgres://{credentials}@{database['HOST']}:{database['PORT'] or 5432}/{database['NAME']}"


@pytest.fixture
def server_process(transactional_db):
    """Starts ``manage.py grpcserver`` with the given arguments (``env`` over this process's environment, its output
    to ``log`` if given);
    kills whatever is left at the end of the test."""
    started = []

    def start(*arguments: str, env: dict[str, str] | None = None, log: Path | None = None) -> ServerProcess:
        started.append(ServerProcess(*arguments, env=env, log=log))
        return started[-1]

    yield start
    for server in started:
        server.kill()


def self_signed_certificate() -> tuple[bytes, bytes]:
    """A certificate for localhost and 127.0.0.1 (its own authority, so a client can trust it as a root) and its
    private key, PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem
