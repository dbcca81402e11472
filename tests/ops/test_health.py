"""The HTTP probes (``rest_api/probes.py`` over ``runtime/health.py``): ``/healthz`` answers while the process lives,
asking nothing of the database; ``/readyz`` says whether the database, the caches and the migrations answer, and
turns unready in a gunicorn worker that SIGTERM has told to drain. The database stopping and coming back is in
``test_faults_health.py``."""

import http.client
import json
import os
import signal

import pytest

from tests.support.grpc import free_port
from tests.support.problems import assert_problem
from tests.support.servers import Gunicorn

PROBE_HOST = "10.20.30.40:8000"  # a pod's address, as a kubelet probes it: in no ALLOWED_HOSTS


def test_healthz_answers_without_the_database_at_any_host(client):
    # No database for this test: a query would raise.
    answer = client.get("/healthz", HTTP_HOST=PROBE_HOST)
    assert answer.status_code == 200 and answer.json() == {"status": "alive"}
    assert answer["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_readyz_answers_ready_when_database_caches_and_migrations_answer(client):
    answer = client.get("/readyz", HTTP_HOST=PROBE_HOST)
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"status": "ready"}


@pytest.mark.django_db
def test_readyz_lists_a_cache_out_of_reach_and_says_nothing_of_where_it_is(client, settings):
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    elsewhere = {"BACKEND": "runtime.cache.SharedPoolRedisCache", "LOCATION": nowhere}
    settings.CACHES = {**settings.CACHES, "elsewhere": elsewhere}
    answer = client.get("/readyz", HTTP_HOST=PROBE_HOST)
    problem = assert_problem(answer, 503)
    assert problem["code"] == "unavailable"
    assert problem["checks"] == {"cache": "ConnectionError"}
    assert problem["detail"] == "Failing: cache."
    assert answer["Retry-After"]
    assert nowhere.rsplit(":", 1)[1] not in answer.content.decode()


def test_only_get_and_head_are_probes(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 404


def test_a_gunicorn_worker_told_to_drain_answers_readyz_503(transactional_db, tmp_path):
    server = Gunicorn(tmp_path)
    try:
        server.wait_until_serving()
        host, port = server.address.split(":")
        kept_alive = http.client.HTTPConnection(host, int(port), timeout=30)
        kept_alive.request("GET", "/readyz")
        first = kept_alive.getresponse()
        assert (first.status, json.loads(first.read())) == (200, {"status": "ready"})
        # SIGTERM straight to the worker, so that it is draining before the next request arrives. Its kept-alive
        # connection stays open a moment for a request already under way, which it still answers.
        (worker,) = server.worker_pids()
        os.kill(worker, signal.SIGTERM)
        kept_alive.request("GET", "/readyz")
        second = kept_alive.getresponse()
        problem = json.loads(second.read())
        assert second.status == 503, problem
        assert problem["checks"] == {"draining": "the process is stopping"}
    finally:
        server.stop()
