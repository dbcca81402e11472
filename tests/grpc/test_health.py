"""The gRPC health service of ``manage.py grpcserver`` (``grpc_api/health.py``), started as an operator starts it:
``NOT_SERVING`` from the moment SIGTERM starts a drain, and while the database cannot be reached."""

import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from grpc_api.interceptors import SERVICE_NAME
from tests.support.grpc import free_port, wait_until_serving

SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING


def health_check(channel, service: str = "") -> int:
    return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=10).status


def wait_for_status(channel, status: int, seconds: float = 60) -> None:
    """Until ``Check`` answers ``status`` (the server's readiness thread reports a change within its interval)."""
    deadline = time.monotonic() + seconds
    answers = []
    while time.monotonic() < deadline:
        answers.append(health_check(channel))
        if answers[-1] == status:
            return
        time.sleep(0.1)  # polling the server's own state
    raise AssertionError(f"Check never answered {status} within {seconds} s: {answers[-5:]}")


def test_a_drain_is_told_at_once_to_a_watching_caller(server_process):
    port = free_port()
    server = server_process("--address", f"127.0.0.1:{port}", "--grace", "5")
    wait_until_serving(f"127.0.0.1:{port}")
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        # A Watch stream is a call held open: it hears of the drain, though new calls are refused from then on.
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(), timeout=30)
        assert next(watch).status == SERVING
        server.terminate()
        assert next(watch).status == NOT_SERVING
        watch.cancel()
    status, output = server.wait(60)
    assert status == 0, output


def test_during_the_drain_period_check_answers_not_serving_while_calls_are_still_taken(server_process):
    port = free_port()
    server = server_process("--address", f"127.0.0.1:{port}", env={"GRPC_DRAIN_SECONDS": "120"})
    wait_until_serving(f"127.0.0.1:{port}")
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        assert health_check(channel) == health_check(channel, SERVICE_NAME) == SERVING
        server.terminate()
        wait_for_status(channel, NOT_SERVING)
        assert health_check(channel, SERVICE_NAME) == NOT_SERVING
    server.kill()  # the drain period has shown what it is for


def test_a_database_out_of_reach_is_not_serving(server_process):
    port = free_port()
    nothing_there = f"postgres://postgres@127.0.0.1:{free_port()}/ubi"
    server = server_process(
        "--address", f"127.0.0.1:{port}", env={"DATABASE_URL": nothing_there, "HEALTH_CHECK_INTERVAL_SECONDS": "0.2"}
    )
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        grpc.channel_ready_future(channel).result(timeout=60)
        # The first check ran before the server started: not one answer says SERVING.
        assert [health_check(channel) for _ in range(3)] == [NOT_SERVING] * 3
    server.terminate()
    status, output = server.wait(60)
    assert status == 0, output
    assert "Readiness check database failed: OperationalError" in output
