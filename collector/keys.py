"""From a key in a collector URL to what it allows: its principal and its origins, as every process sees them.

A key is looked up on every request, so each process remembers the keys it has read, and forgets all of them when
the key generation in the ``shared`` cache is not the one it read them under. Every change to a key (created,
changed, revoked, deleted) gives a new generation once it commits (``connect_signals``), so a revoked key is
refused by every process at its next request: one cache lookup per request, as for a bearer token
(``oauth.revocation``), and a query only for a key not read since the last change. A generation missing from the
cache (evicted, flushed, a Redis restarted) counts as a new one, so losing it costs queries, never a revocation.

Unknown keys are remembered too (as unknown), so that a page with a mistyped key costs no query per request; the
memory is bounded (``REMEMBERED_KEYS``), and a flood of made-up keys is first bounded by the per-address rate.
Keys change through model saves and deletions (the admin, ``collector.services``); a queryset ``update()`` would
send no signal, so none is used on keys.
"""

import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from collector.models import KEY_PREFIX, IngestKey
from insights.services import WRITE_ROLE
from oauth.principals import Principal
from project.conf import ubi_settings
from project.errors import NotFound
from project.rates import parse_rate

GENERATION_KEY = "ingest-keys:generation"
# Keys a process remembers before it starts again from none: far more than the live keys of a deployment.
REMEMBERED_KEYS = 10_000
KIND = "key"
COLLECT_PATH = "/collect/"


class UnknownKey(NotFound):
    code = "unknown_key"
    title = "There is no active ingest key of this value."


@dataclass(frozen=True, slots=True)
class Grant:
    """What a live key lets a request do: act as ``principal`` (``insights:write`` for one application of one
    organisation), from browsers of ``origins`` (and from anything that sends no ``Origin``)."""

    principal: Principal
    origins: frozenset[str]


class _Remembered:
    """The keys read under one generation (``None``: unknown or inactive)."""

    def __init__(self, generation: str | None):
        self.generation = generation
        self.grants: dict[str, Grant | None] = {}


_remembered = _Remembered(None)


def grant_for(key: str) -> Grant:
    """The grant of the active key ``key``; ``UnknownKey`` (404) for any other value."""
    global _remembered
    remembered = _remembered
    generation = _cache().get(GENERATION_KEY)
    if generation is None or generation != remembered.generation:
        if generation is None:
            _cache().add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
            generation = _cache().get(GENERATION_KEY)
        # A new object, not a cleared one: a thread that read a key under the old generation puts it there.
        remembered = _remembered = _Remembered(generation)
    try:
        grant = remembered.grants[key]
    except KeyError:
        grant = _read(key)
        if len(remembered.grants) >= REMEMBERED_KEYS:
            remembered.grants.clear()
        remembered.grants[key] = grant
    if grant is None:
        raise UnknownKey()
    return grant


def _read(key: str) -> Grant | None:
    if not key.startswith(KEY_PREFIX) or len(key) > IngestKey._meta.get_field("key").max_length:
        return None
    row = (
        IngestKey.objects.filter(key=key, is_active=True)
        .values_list("pk", "organization_id", "application", "rate_limit", "allowed_origins")
        .first()
    )
    if row is None:
        return None
    pk, organization_id, application, rate_limit, origins = row
    principal = Principal(
        kind=KIND,
        id=str(pk),
        org_id=organization_id,
        roles=frozenset({WRITE_ROLE}),
        scope=WRITE_ROLE,
        client_id="",
        token_id="",
        rate_limit=parse_rate(rate_limit) if rate_limit else None,
        application=application,
    )
    return Grant(principal=principal, origins=frozenset(origins))


def collector_url(key: IngestKey) -> str:
    """Where a page posts with ``key``: ``<COLLECTOR_BASE_URL>/collect/<key>``, the base being the origin of
    ``OAUTH_ISSUER`` (the server's public address) unless set."""
    return f"{base_url()}{COLLECT_PATH}{key.key}"


def base_url() -> str:
    if ubi_settings.COLLECTOR_BASE_URL:
        return ubi_settings.COLLECTOR_BASE_URL.rstrip("/")
    issuer = urlsplit(settings.OAUTH_ISSUER)
    return f"{issuer.scheme}://{issuer.netloc}"


def _cache():
    return caches["shared"]


def _key_changed(sender, instance, **kwargs):
    transaction.on_commit(_new_generation, using=kwargs.get("using"))


def _new_generation():
    _cache().set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)


def connect_signals():
    post_save.connect(_key_changed, sender=IngestKey, dispatch_uid="collector.keys.saved")
    post_delete.connect(_key_changed, sender=IngestKey, dispatch_uid="collector.keys.deleted")
