"""Readiness follows the database: the production servers (``scripts/serve.sh``) on a database of the fault tests'
throwaway PostgreSQL cluster turn unready when it stops (``/readyz`` 503 naming the database, gRPC health
``NOT_SERVING``) and ready again when it is back, by themselves; ``/healthz`` says alive throughout."""

import time
import uuid

import grpc
import pytest
import requests
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.deployment import Deployment
from tests.support.deployment import cluster  # noqa: F401 (the fixture)

SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.fixture
def deployment(cluster, tmp_path, monkeypatch):  # noqa: F811 (cluster is the fixture imported above)
    monkeypatch.setenv("HEALTH_CHECK_INTERVAL_SECONDS", "0.2")  # the gRPC servers' readiness thread
    deployment = Deployment(cluster, f"ubi_{uuid.uuid4().hex[:12]}", tmp_path)
    yield deployment
    deployment.stop()


def wait_until(condition, what: str, seconds: float = 60):
    """Until ``condition()`` is true: polled, since readiness is the servers' own state."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if outcome := condition():
            return outcome
        time.sleep(0.1)
    pytest.fail(f"{what}: not within {seconds} s")


def readyz_503(http: str) -> dict | None:
    answer = requests.get(f"{http}/readyz", timeout=30)
    if answer.status_code == 503:
        assert answer.headers["Content-Type"] == "application/problem+json"
        return answer.json()
    return None


def test_readiness_follows_the_database_out_and_back(cluster, deployment):  # noqa: F811
    http = f"http://{deployment.http}"
    with grpc.insecure_channel(deployment.grpc) as channel:
        health = health_pb2_grpc.HealthStub(channel)

        def grpc_status():
            return health.Check(health_pb2.HealthCheckRequest(), timeout=10).status

        assert requests.get(f"{http}/readyz", timeout=10).json() == {"status": "ready"}
        assert grpc_status() == SERVING
        try:
            cluster.stop("immediate")
            unready = wait_until(lambda: readyz_503(http), "/readyz 503 with the database stopped")
            wait_until(lambda: grpc_status() == NOT_SERVING, "gRPC health NOT_SERVING with the database stopped")
            assert requests.get(f"{http}/healthz", timeout=10).status_code == 200
        finally:
            cluster.start()
        wait_until(lambda: requests.get(f"{http}/readyz", timeout=30).status_code == 200, "/readyz 200 once back")
        wait_until(lambda: grpc_status() == SERVING, "gRPC health SERVING once back")

    assert set(unready["checks"]) == {"database"}, unready
    assert deployment.process.poll() is None, "serve.sh kept serving"
