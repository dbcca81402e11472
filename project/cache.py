"""Django's Redis cache, with its connections kept per process instead of per execution context.

Django keeps a cache object per context (``caches`` is an ``asgiref`` ``Local`` built on context variables), and each
object owns its connection pool. gRPC runs every call in a fresh ``contextvars.Context``, so each call built a new
cache, a new pool, and a new TCP connection to Redis, with its handshake, for its revocation and rate-limit checks:
half the time of a ``TrackEvent`` call went there. Here every cache object of a process with the same servers and
options shares one client, and so one thread-safe redis-py pool (which starts afresh in a forked child by itself).
"""

import threading

from django.core.cache.backends.redis import RedisCache
from django.utils.functional import cached_property

_clients: dict[tuple, object] = {}
_clients_lock = threading.Lock()


class SharedPoolRedisCache(RedisCache):
    @cached_property
    def _cache(self):
        key = (tuple(self._servers), repr(sorted(self._options.items())))
        with _clients_lock:
            if key not in _clients:
                _clients[key] = self._class(self._servers, **self._options)
            return _clients[key]
