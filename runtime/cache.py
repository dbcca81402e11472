"""Django's Redis cache, with its connections and its redis-py client kept per process: the one adapter over the
private parts of ``django.core.cache.backends.redis``.

Django keeps a cache object per context (``caches`` is an ``asgiref`` ``Local`` built on context variables), and each
object owns its connection pool. gRPC runs every call in a fresh ``contextvars.Context``, so each call would build a
new cache, a new pool, and a new TCP connection to Redis, with its handshake, for its revocation and rate-limit
checks. Here every cache object of a process with the same servers and options shares one client, and so one
thread-safe redis-py pool (which starts afresh in a forked child by itself).

Django also builds a new ``redis.Redis`` object for every operation, and redis-py fills some 170 response callbacks
in its constructor. The object is thread-safe (each command takes a connection from the pool), so one per pool
serves every operation.

Django has no public API for any of this, so everything that reaches into its backend is here, and
``tests/test_runtime_cache_adapter.py`` fails when Django changes what it relies on:
``RedisCache._cache`` / ``_class`` / ``_servers`` / ``_options``, ``RedisCacheClient._get_connection_pool`` /
``_client`` / ``get_client``.
"""

import threading

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

_clients: dict[tuple, object] = {}
_clients_lock = threading.Lock()


class SharedRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._redis_by_pool = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        # Two threads may both build one for a new pool; either is as good, so no lock.
        redis = self._redis_by_pool.get(id(pool))
        if redis is None:
            redis = self._redis_by_pool[id(pool)] = self._client(connection_pool=pool)
        return redis


class SharedPoolRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedRedisCacheClient

    @cached_property
    def _cache(self):
        key = (tuple(self._servers), repr(sorted(self._options.items())))
        with _clients_lock:
            if key not in _clients:
                _clients[key] = self._class(self._servers, **self._options)
            return _clients[key]


def increment_with_expiry(cache, key: str, *, timeout: int) -> int | None:
    """Add 1 to counter ``key`` (created at 0 with ``timeout`` seconds to live) in one round trip to Redis, and
    return its value; ``None`` when ``cache`` is not a Redis cache, for the caller to use the cache API instead.

    Django's API takes three round trips for this (``add``, then ``incr``'s ``exists`` and ``incr``), and it runs on
    every rate-limited call.
    """
    if not isinstance(cache, RedisCache):
        return None
    key = cache.make_and_validate_key(key)
    pipeline = cache._cache.get_client(key, write=True).pipeline(transaction=False)
    pipeline.set(key, 0, nx=True, ex=timeout)
    pipeline.incr(key)
    return pipeline.execute()[1]
