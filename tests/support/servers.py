"""The production HTTP server (gunicorn, with the project's ``gunicorn.conf.py``) on the test database, and a
Redis server of a test's own, both started as processes.

A test that uses the gunicorn server's database runs on ``transactional_db``: its rows are committed, so the
server's own connections see them.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import requests
from django.conf import settings

from tests.support.grpc import database_url, free_port
from tests.support.paths import PROJECT
from tests.support.skips import skip_missing


def stop_process_group(process: subprocess.Popen, timeout: float = 60) -> None:
    """SIGTERM to the process group ``process`` leads (started with ``start_new_session``), as a supervisor stops it;
    SIGKILL if it has not ended within ``timeout`` seconds."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class Gunicorn:
    """``gunicorn --config gunicorn.conf.py project.wsgi`` as ``scripts/serve.sh`` starts it, on the test database
    with this run's signing key, one worker, and a ``VAR_DIR`` of its own (its control socket and file cache)."""

    def __init__(self, var_dir: Path, *, config: Path = PROJECT / "gunicorn.conf.py", env: dict[str, str] | None = None):
        self.address = f"127.0.0.1:{free_port()}"
        self.url = f"http://{self.address}"
        self.log = var_dir / "gunicorn.log"
        environment = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "JWT_PRIVATE_KEY_FILE": str(settings.JWT_PRIVATE_KEY_FILE),
            "VAR_DIR": str(var_dir),
            "HTTP_ADDRESS": self.address,
            "WEB_CONCURRENCY": "1",
            "WEB_THREADS": "4",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), "--config", str(config), "project.wsgi"],
                cwd=PROJECT, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )

    def wait_until_serving(self, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn exited with {self.process.returncode}:\n{self.output()}")
            try:
                requests.get(f"{self.url}/.well-known/jwks.json", timeout=10).raise_for_status()
                return
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.2)  # not listening yet, or its worker still loads Django
        pytest.fail(f"gunicorn did not serve within {seconds} s:\n{self.output()}")

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        stop_process_group(self.process)


@pytest.fixture(scope="module")
def gunicorn(django_db_setup, tmp_path_factory):
    """gunicorn serving the test database for the tests of a module (``transactional_db`` in each test)."""
    server = Gunicorn(tmp_path_factory.mktemp("gunicorn"))
    try:
        server.wait_until_serving()
        yield server
    finally:
        server.stop()


@pytest.fixture
def private_redis(tmp_path):
    """A Redis server of this test's own on a free port (its ``INFO`` counts only this test's connections): its
    URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        skip_missing("redis-server", "the Redis server binary is not on PATH")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert process.poll() is None and time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)  # polling for the port to open
        client.close()
        yield url
    finally:
        process.terminate()
        process.wait(30)
