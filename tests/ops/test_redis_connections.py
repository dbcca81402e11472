"""Redis connections belong to the process: gRPC, which runs every call in a fresh context, must not open one a call."""

import pytest
import redis

from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from project.cache import SharedPoolRedisCache
from tests.support.skips import skip_configuration


def test_cache_objects_with_the_same_servers_share_one_client():
    first = SharedPoolRedisCache("redis://127.0.0.1:6379/15", {})
    again = SharedPoolRedisCache("redis://127.0.0.1:6379/15", {"KEY_PREFIX": "another"})
    elsewhere = SharedPoolRedisCache("redis://127.0.0.1:6379/14", {})
    assert first._cache is again._cache
    assert elsewhere._cache is not first._cache


def test_every_operation_uses_one_redis_client_per_pool():
    cache = SharedPoolRedisCache("redis://127.0.0.1:6379/15", {})
    client = cache._cache.get_client("a")

    # Thread-safe, and costly to build (redis-py fills its response callbacks): Django built one per operation.
    assert cache._cache.get_client("b", write=True) is client
    assert isinstance(client, redis.Redis)


def test_grpc_calls_reuse_the_processs_redis_connections(settings, ubi_stub, auth):
    if not settings.REDIS_URL:
        skip_configuration("REDIS_URL is not set: the caches are in-process and on disk, with no connection to keep")
    server = redis.Redis.from_url(settings.REDIS_URL)
    ubi_stub.ListEvents(rpc.ListEventsRequest(), metadata=auth)
    before = server.info("stats")["total_connections_received"]

    for _ in range(30):
        ubi_stub.ListEvents(rpc.ListEventsRequest(), metadata=auth)

    # Each call checks revocation and its rate limit in Redis: a pool per call would open 60 connections.
    assert server.info("stats")["total_connections_received"] - before < 10
