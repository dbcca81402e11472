"""Redis connections belong to the process: a server process keeps one pool for its caches, whatever the context of
a call (gRPC runs every call in a fresh one), so its calls reuse the connections it has and open none of their own.

Each server runs as production runs it (gunicorn with ``gunicorn.conf.py``, ``manage.py grpcserver``) against a
Redis of the test's own, whose ``INFO`` counts every connection the server ever opened and whose ``CLIENT LIST``
shows which are still open: calls made one at a time share one connection, and concurrent calls open no more than
the process has threads.
"""

import grpc
import pytest
import redis
import requests

from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from grpc_api.generated import user_behavior_insights_service_pb2_grpc
from runtime.cache import SharedPoolRedisCache
from tests.support.grpc import bearer_metadata, free_port, wait_until_serving
from tests.support.servers import Gunicorn
from tests.support.threads import run_together

THREADS = 4  # each server's worker threads
CALLERS, CALLS = 8, 25  # the concurrent load: more callers than threads


def start_gunicorn(tmp_path, server_process, redis_url):
    server = Gunicorn(tmp_path, env={"REDIS_URL": redis_url, "WEB_THREADS": str(THREADS)})
    server.wait_until_serving()

    def call(token):
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        return lambda: session.get(f"{server.url}/api/v1/ubi/events", timeout=30).status_code == 200

    return server.stop, call


def start_grpcserver(tmp_path, server_process, redis_url):
    target = f"127.0.0.1:{free_port()}"
    # Its health service checks readiness (Redis included) before it serves, then no more during the test: a check
    # on a thread of its own may take a connection of the pool beside a call's.
    server = server_process(
        "--address", target, "--threads", str(THREADS),
        env={"REDIS_URL": redis_url, "HEALTH_CHECK_INTERVAL_SECONDS": "3600"},
    )
    wait_until_serving(target)
    channel = grpc.insecure_channel(target)
    stub = user_behavior_insights_service_pb2_grpc.UserBehaviorInsightsServiceStub(channel)

    def call(token):
        metadata = bearer_metadata(token)
        return lambda: stub.ListEvents(rpc.ListEventsRequest(), metadata=metadata, timeout=30) is not None

    def stop():
        channel.close()
        server.kill()

    return stop, call


SERVERS = {"gunicorn": start_gunicorn, "grpcserver": start_grpcserver}


@pytest.mark.parametrize("server", sorted(SERVERS))
def test_a_server_process_reuses_its_redis_connections_under_load(
    server, private_redis, server_process, transactional_db, token, tmp_path
):
    stop, call = SERVERS[server](tmp_path, server_process, private_redis)
    inspector = redis.Redis.from_url(private_redis)
    mine = inspector.client_id()
    # From here: grpcserver's start-up check of Redis's eviction policy had a connection of its own, and closed it.
    received_before = inspector.info("stats")["total_connections_received"]  # the inspector's own included

    def server_connections() -> tuple[int, int]:
        """(connections the server opened since it started serving, those of its connections open now)."""
        received = inspector.info("stats")["total_connections_received"] - received_before
        open_now = [client for client in inspector.client_list() if int(client["id"]) != mine]
        return received, len(open_now)

    try:
        one_call = call(token)
        # Each call checks the token's revocation and its rate limit in Redis: a pool per call would open
        # a connection (or more) per call.
        for _ in range(CALLS):
            assert one_call()
        received, open_now = server_connections()
        assert (received, open_now) in {(0, 1), (1, 1)}, (received, open_now)
        # Opened before the count began (by grpcserver's readiness check, or by the JWKS request that showed
        # gunicorn serving: the signing keys' generation is in Redis), or else by the first call.
        kept = open_now - received

        callers = [call(token) for _ in range(CALLERS)]
        outcomes = run_together(*(lambda caller=caller: all(caller() for _ in range(CALLS)) for caller in callers))
        assert outcomes == [True] * CALLERS
        received, open_now = server_connections()
        assert 1 <= kept + received <= THREADS, (kept, received)
        assert open_now == kept + received  # none was opened for a call and closed after it
    finally:
        stop()
        inspector.close()


def test_every_operation_uses_one_redis_client_per_pool():
    """The adapter over Django's Redis cache client (its ``get_client``, a private API): one ``redis.Redis`` serves
    every operation of a pool (thread-safe, and costly to build: redis-py fills its response callbacks). Fails when
    Django changes the method the adapter overrides."""
    cache = SharedPoolRedisCache("redis://127.0.0.1:6379/15", {})
    client = cache._cache.get_client("a")

    assert cache._cache.get_client("b", write=True) is client
    assert isinstance(client, redis.Redis)
