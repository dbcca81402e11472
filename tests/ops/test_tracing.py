"""Tracing (``runtime/tracing.py``): off by default, with no instrumentation, tracer or exporter imported by a server
process; on with the standard ``OTEL_*`` variables, where a request to gunicorn gives spans for the Django request
and its SQL, and a call to ``grpcserver`` a span for the gRPC call. Spans are read from the console exporter's
output."""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
import requests
from django.db import connection
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.grpc import database_url, free_port, wait_until_serving
from tests.support.paths import PROJECT
from tests.support.servers import Gunicorn

CONSOLE = {"OTEL_TRACES_EXPORTER": "console", "OTEL_BSP_SCHEDULE_DELAY": "100", "OTEL_SERVICE_NAME": "ubi-test"}
# What could switch tracing on, taken out of the environment of a server that must not trace.
OTEL_SWITCHES = (
    "OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
)

# What tracing imports, and nothing else does. (redis-py imports OpenTelemetry's metrics API and SDK by itself when they
# are installed, at import only: each of its calls costs nothing until its own observability is switched on, which
# this project never does.)
TRACING_MODULES = ("opentelemetry.instrumentation", "opentelemetry.sdk.trace", "opentelemetry.exporter")

# A gunicorn configuration: the project's, whose worker also writes the OpenTelemetry modules it has imported once
# it has settled (as test_warmup.py reports on its views).
GUNICORN_CONFIG = """
import runpy
import sys
from pathlib import Path

_project = runpy.run_path({config!r})
globals().update({{name: value for name, value in _project.items() if not name.startswith("__")}})


def post_worker_init(worker):
    _project["post_worker_init"](worker)
    modules = sorted(name for name in sys.modules if name.startswith({tracing!r}))
    Path({report!r} + ".partial").write_text("\\n".join(modules))
    Path({report!r} + ".partial").rename({report!r})
"""


def spans(output: str) -> list[dict]:
    """The spans the console exporter printed among ``output``'s other lines (each a JSON object over many lines)."""
    decoder, found = json.JSONDecoder(), []
    for match in re.finditer(r'^\{\s*"name":', output, re.MULTILINE):
        span, _end = decoder.raw_decode(output, match.start())
        found.append(span)
    return found


def wait_for_spans(log: Path, wanted, seconds: float = 60) -> list[dict]:
    """Until the spans printed to ``log`` include one for which each of ``wanted`` is true."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        printed = spans(log.read_text(errors="replace"))
        if all(any(want(span) for span in printed) for want in wanted):
            return printed
        time.sleep(0.1)  # the batch processor exports every OTEL_BSP_SCHEDULE_DELAY
    pytest.fail(f"not every span wanted within {seconds} s: {[span['name'] for span in spans(log.read_text())]}")


def started_gunicorn(tmp_path: Path, env: dict[str, str]) -> tuple[Gunicorn, Path]:
    report = tmp_path / "opentelemetry-modules.txt"
    config = tmp_path / "gunicorn.conf.py"
    config.write_text(
        GUNICORN_CONFIG.format(config=str(PROJECT / "gunicorn.conf.py"), report=str(report), tracing=TRACING_MODULES)
    )
    server = Gunicorn(tmp_path, config=config, env=env)
    server.wait_until_serving()
    return server, report


@pytest.fixture
def untraced_environment(monkeypatch):
    for name in OTEL_SWITCHES:
        monkeypatch.delenv(name, raising=False)


def test_without_otel_variables_a_gunicorn_worker_imports_nothing_of_tracing(
    transactional_db, tmp_path, untraced_environment
):
    server, report = started_gunicorn(tmp_path, {})
    try:
        assert requests.get(f"{server.url}/readyz", timeout=30).status_code == 200
        assert report.read_text() == ""
    finally:
        server.stop()


def test_with_otel_variables_a_request_is_traced_with_its_sql(transactional_db, tmp_path, untraced_environment):
    server, report = started_gunicorn(tmp_path, CONSOLE)
    try:
        assert requests.get(f"{server.url}/readyz", timeout=30).status_code == 200
        assert requests.get(f"{server.url}/.well-known/jwks.json", timeout=30).status_code == 200
        wanted = [
            lambda span: span["name"] == "GET .well-known/jwks.json" and span["kind"] == "SpanKind.SERVER",
            lambda span: span["name"] == "GET" and "/readyz" in str(span["attributes"]),
        ]
        if connection.vendor == "postgresql":  # psycopg's instrumentation: SQLite is not traced
            wanted.append(
                lambda span: span["attributes"].get("db.system") == "postgresql"
                and "SELECT 1" in str(span["attributes"])
            )
        printed = wait_for_spans(server.log, wanted)
    finally:
        server.stop()
    assert "opentelemetry.instrumentation.django" in report.read_text().split()
    assert {span["resource"]["attributes"]["service.name"] for span in printed} == {"ubi-test"}


def grpcserver(tmp_path: Path, env: dict[str, str]) -> tuple[subprocess.Popen, Path, str]:
    address = f"127.0.0.1:{free_port()}"
    log = tmp_path / "grpcserver.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "grpcserver", "--address", address],
            cwd=PROJECT, env={**os.environ, "DATABASE_URL": database_url(), "PYTHONUNBUFFERED": "1", **env},
            stdout=output, stderr=subprocess.STDOUT,
        )
    return process, log, address


def test_with_otel_variables_a_grpc_call_is_traced(transactional_db, tmp_path, untraced_environment):
    process, log, address = grpcserver(tmp_path, CONSOLE)
    try:
        wait_until_serving(address, timeout=60)
        with grpc.insecure_channel(address) as channel:
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
        wait_for_spans(
            log, [lambda span: span["name"] == "/grpc.health.v1.Health/Check" and span["kind"] == "SpanKind.SERVER"]
        )
    finally:
        process.terminate()
        process.wait(60)


def test_without_otel_variables_the_grpc_server_imports_nothing_of_tracing(untraced_environment):
    # What grpc_api.server.serve does before serving, in a new process: configure tracing, make the server, settle.
    program = (
        "import os, sys, django\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'project.settings')\n"
        "django.setup()\n"
        "from grpc_api.server import configure_tracing, create_server, settle\n"
        "print(configure_tracing())\n"
        "create_server('127.0.0.1:0')\n"
        "settle()\n"
        f"print(sorted(name for name in sys.modules if name.startswith({TRACING_MODULES!r})))\n"
    )
    done = subprocess.run([sys.executable, "-c", program], cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["False", "[]"]
    traced = subprocess.run(
        [sys.executable, "-c", program], cwd=PROJECT, capture_output=True, text=True, timeout=120,
        env={**os.environ, **CONSOLE},
    )
    assert traced.returncode == 0 and traced.stdout.startswith("True\n['opentelemetry."), traced.stdout + traced.stderr
