"""App clients as the OAuth endpoints load them: kept per process, trusted while the clients' generation holds.

Loading a client from the database, with its organisation and roles, takes two queries and the ORM machinery
around them, the larger part of the token endpoint's CPU (docs/performance.md), and a client that asks for a token
per request is the load this endpoint must bear. So each process keeps the clients it has loaded and trusts them
only while the generation in the ``shared`` cache (Redis, or a file cache on one machine) is the one they were
loaded under: one cache lookup per token request, no query.

Any change to a client, its roles, a role or an organisation gives the clients a new generation (``changed``),
so every process loads afresh from then on; a client deactivated, deleted or given a new secret gets nothing from
a stale copy. The generation is read before the client is loaded, so a copy is never older than the generation it
is kept under. It is bumped as the change is made, and again once the change's transaction commits: a process that
saw the first bump but read the rows before the commit keeps a copy the second bump ends. A cache that lost the
generation (Redis restarted) starts a new one, which no process holds.
"""

import copy
import uuid

from django.core.cache import caches
from django.db import transaction

from accounts.models import AppClient

GENERATION_KEY = "app-clients:generation"

# client_id -> (generation, client): at most one entry per client that exists.
_loaded: dict[str, tuple[str, AppClient]] = {}


def get(client_id: str) -> AppClient | None:
    """The client ``client_id`` with its organisation and roles, or None. Each caller gets its own copy."""
    generation = _generation()
    entry = _loaded.get(client_id)
    if entry is None or generation is None or entry[0] != generation:
        client = AppClient.objects.filter(client_id=client_id).first()
        if client is None or generation is None:  # no generation: a cache that keeps nothing, so trust nothing
            _loaded.pop(client_id, None)
            return client
        entry = _loaded[client_id] = (generation, client)
    return copy.copy(entry[1])


def changed(**kwargs) -> None:
    """Signal receiver: a client, a client's roles, a role or an organisation changed, so no kept copy holds."""
    _new_generation()
    transaction.on_commit(_new_generation)


def _generation() -> str:
    cache = caches["shared"]
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
        generation = cache.get(GENERATION_KEY)
    return generation


def _new_generation() -> None:
    caches["shared"].set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
