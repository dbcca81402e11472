"""``runtime/cache.py`` is the one module that reaches into private parts of Django's Redis cache backend. These
tests fail when Django changes one of them: the attributes ``RedisCache`` builds its client from, the client's
pool and ``redis.Redis`` factory, and the ``get_client`` every cache operation goes through. None needs Redis:
redis-py connects at the first command."""

import inspect

import pytest
import redis
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

from runtime.cache import SharedPoolRedisCache, SharedRedisCacheClient

LOCATION = "redis://127.0.0.1:1/0"  # nothing is sent: no command runs


def parameters(function) -> list[tuple[str, object]]:
    return [(p.name, p.kind) for p in inspect.signature(function).parameters.values()]


def test_django_builds_its_redis_client_from_the_attributes_the_adapter_replaces():
    cache = RedisCache(LOCATION, {"OPTIONS": {"db": 0}})
    assert (cache._servers, cache._options, cache._class) == ([LOCATION], {"db": 0}, RedisCacheClient)
    assert isinstance(RedisCache.__dict__["_cache"], cached_property)
    assert type(cache._cache) is RedisCacheClient


def test_django_redis_client_private_methods_keep_their_signatures():
    assert parameters(RedisCacheClient.__init__)[:2] == [
        ("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        ("servers", inspect.Parameter.POSITIONAL_OR_KEYWORD),
    ]
    assert parameters(RedisCacheClient._get_connection_pool) == [
        ("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        ("write", inspect.Parameter.POSITIONAL_OR_KEYWORD),
    ]
    assert parameters(RedisCacheClient.get_client) == [
        ("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        ("key", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        ("write", inspect.Parameter.KEYWORD_ONLY),
    ]
    client = RedisCacheClient([LOCATION])
    assert client._client is redis.Redis
    assert client.get_client(write=True).connection_pool is client._get_connection_pool(True)


@pytest.mark.parametrize("operation", ["add", "get", "set", "incr", "delete"])
def test_every_django_cache_operation_gets_its_redis_client_from_get_client(operation):
    assert "self.get_client(" in inspect.getsource(getattr(RedisCacheClient, operation))


def test_the_adapter_shares_one_client_and_one_redis_object_per_pool():
    first, second = SharedPoolRedisCache(LOCATION, {}), SharedPoolRedisCache(LOCATION, {})
    assert type(first._cache) is SharedRedisCacheClient
    assert first._cache is second._cache
    assert first._cache.get_client("a", write=True) is second._cache.get_client("b", write=True)
