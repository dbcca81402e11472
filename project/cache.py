"""Django's Redis cache, with its connections and its redis-py client kept per process.

Django keeps a cache object per context (``caches`` is an ``asgiref`` ``Local`` built on context variables), and each
object owns its connection pool. gRPC runs every call in a fresh ``contextvars.Context``, so each call built a new
cache, a new pool, and a new TCP connection to Redis, with its handshake, for its revocation and rate-limit checks:
half the time of a ``TrackEvent`` call went there. Here every cache object of a process with the same servers and
options shares one client, and so one thread-safe redis-py pool (which starts afresh in a forked child by itself).

Django also builds a new ``redis.Redis`` object for every operation; redis-py 8 fills some 170 response callbacks
in its constructor, 75 µs each time, which was a tenth of a single event's CPU. The object is thread-safe (each
command takes a connection from the pool), so one per pool serves every operation.
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
