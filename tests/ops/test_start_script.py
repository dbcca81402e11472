"""The README's first command, run as a new user would: it installs, migrates, and serves HTTP and gRPC."""

import os
import signal
import socket
import subprocess
import time

import grpc
import pytest
import requests
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.paths import PROJECT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url, process, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"start.sh exited early with {process.returncode}")
        try:
            return requests.get(url, timeout=10)
        except (requests.ConnectionError, requests.Timeout):
            # Not listening yet, or listening while its worker still loads Django on a busy machine.
            time.sleep(0.5)
    pytest.fail(f"nothing answered {url} within {seconds} s")


def test_start_script_serves_http_and_grpc(tmp_path):
    http, grpc_port = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    env = {
        key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(VAR_DIR=str(tmp_path), HTTP_ADDRESS=http, GRPC_ADDRESS=grpc_port, WEB_CONCURRENCY="1")
    process = subprocess.Popen(
        ["bash", "scripts/start.sh"], cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )
    try:
        jwks = wait_for(f"http://{http}/.well-known/jwks.json", process)
        assert jwks.status_code == 200 and jwks.json()["keys"]
        # DEBUG is off: the admin's static files are still served by the project itself.
        assert requests.get(f"http://{http}/static/admin/css/base.css", timeout=5).status_code == 200
        with grpc.insecure_channel(grpc_port) as channel:
            grpc.channel_ready_future(channel).result(timeout=60)
            health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output = stopped_output(process)
    assert process.returncode == 0, output  # both servers drained
    assert "client_secret=" in output
    assert f"Control socket listening at {tmp_path / 'gunicorn.ctl'}" in output


def stopped_output(process, seconds=60) -> str:
    """What the script printed, once SIGTERM has stopped it; a failure, with that output, if it is still running."""
    try:
        return process.communicate(timeout=seconds)[0]
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail(f"start.sh still ran {seconds} s after SIGTERM:\n{process.communicate()[0]}")
