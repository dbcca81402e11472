"""Revoked access tokens, as every server process sees them.

A bearer check does not read the token's row, so deleting it is not enough to stop the token: its checksum also
goes into the ``RevokedToken`` table until the token would have expired anyway, in the transaction that deletes the
row. The table is the only record; a cache that loses an entry cannot bring a token back.

Each process keeps the checksums it has read from the table, and reads the new rows (by ``id``, from the last it
read) when the revocation generation in the ``shared`` cache is not the one it read them under. Every revocation
gives a new generation once it commits, so every process reads it before its next bearer check: one cache lookup
per check (with the signing keys' generation, ``oauth.principals``), and a query only after a revocation. A generation missing from the cache (evicted, flushed, a Redis
restarted) counts as a new one, so losing it costs a query, never a revocation.

Reading by ``id`` needs the rows to become visible in ``id`` order. SQLite has one writer at a time; on PostgreSQL,
ids are handed out before commit, so a revocation locks the table against other writers until it commits (readers
are not blocked). Rows of expired tokens are deleted after a revocation, at most once a minute per process.

Ending an access token deletes its row (family revocation, the end of a client's or user's tokens, the revocation
of a client's token), and one ``post_delete`` receiver puts it on the list. The one exception is ending alone a
token issued beside a refresh token (``revoke_access``): that refresh token reads its scope in the row and goes on
working, so the row stays, expired at the revocation, and the token goes on the list directly.
"""

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

from django.core.cache import caches
from django.db import connection, transaction
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from accounts import audit
from accounts.models import AuditEvent
from oauth.models import RevokedToken
from oauth.tokens import token_checksum

GENERATION_KEY = "revocations:generation"
# Kept past the token's expiry: a process whose clock is behind still takes the token for live.
CLOCK_SKEW = timedelta(seconds=60)
# How often a process drops the expired checksums it holds (they cannot match a live token, only take memory).
FORGET_EXPIRED_SECONDS = 60
# How often a process deletes expired rows: a revocation of each of a client's thousand tokens needs it once.
PURGE_EVERY = timedelta(minutes=1)


class _Read:
    """What this process has read from the table, and under which generation."""

    def __init__(self):
        self.expiry_by_digest: dict[str, float] = {}
        self.last_id = 0
        self.generation: str | None = None
        self.forgotten_at = time.monotonic()


_read = _Read()
_reading = threading.Lock()
_purged_at = datetime.min.replace(tzinfo=UTC)


def _cache():
    return caches["shared"]


def revoke_checksum(checksum: str, *, expires: datetime) -> None:
    """Record the token of ``checksum`` as revoked until ``expires``, in the current transaction; the other
    processes learn of it once that commits."""
    if not checksum or expires + CLOCK_SKEW <= timezone.now():
        return
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {RevokedToken._meta.db_table} IN EXCLUSIVE MODE")
        RevokedToken.objects.create(digest=checksum, expires=expires + CLOCK_SKEW)
        transaction.on_commit(_committed)


def _committed() -> None:
    global _purged_at
    _cache().set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
    now = timezone.now()
    if now - _purged_at >= PURGE_EVERY:  # threads racing here both delete the same rows: harmless
        _purged_at = now
        RevokedToken.objects.filter(expires__lt=now).delete()


def is_revoked(checksum: str, generation: str | None) -> bool:
    """``generation``: the value of ``GENERATION_KEY`` in the shared cache, just read by the caller (``oauth.principals``
    reads it with the signing keys' generation, in one lookup)."""
    if generation is None or generation != _read.generation:
        _read_new_rows(generation)
    return checksum in _read.expiry_by_digest


def _read_new_rows(generation: str | None) -> None:
    """Read the rows committed since the last read. The generation is read first, so the rows are at least as new
    as the generation they are kept under."""
    with _reading:
        if generation is not None and generation == _read.generation:
            return  # another thread read them meanwhile
        if generation is None:
            _cache().add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
            generation = _cache().get(GENERATION_KEY)
        rows = RevokedToken.objects.filter(id__gt=_read.last_id).order_by("id").values_list("id", "digest", "expires")
        last_id = _read.last_id
        for last_id, digest, expires in rows:
            _read.expiry_by_digest[digest] = expires.timestamp()
        if not connection.in_atomic_block:  # a transaction's own rows may yet roll back, and SQLite reuse their ids
            _read.last_id = last_id
        _read.generation = generation
        if time.monotonic() - _read.forgotten_at >= FORGET_EXPIRED_SECONDS:
            now = time.time()
            _read.expiry_by_digest = {digest: at for digest, at in _read.expiry_by_digest.items() if at > now}
            _read.forgotten_at = time.monotonic()


def access_token_deleted(sender, instance, **kwargs):
    revoke_checksum(instance.token_checksum, expires=instance.expires)


def revoke_token(token: str) -> None:
    """End ``token``, an access or a refresh token; an unknown one is ignored (RFC 7009 §2.2).

    Whoever presents a token may end it, so its owner (its user, or its client) is the actor of the audit event.
    """
    checksum = token_checksum(token)
    for access_token in get_access_token_model().objects.filter(token_checksum=checksum):
        with audit.acting(audit.owner_of(access_token)):
            revoke_access(access_token)
    for refresh_token in get_refresh_token_model().objects.filter(token_checksum=checksum):
        with audit.acting(audit.owner_of(refresh_token)):
            revoke_refresh(refresh_token)


def revoke_access(access_token) -> None:
    """End an access token, and nothing else: reference/oauth.txt has revoking a refresh token end the access tokens
    derived from it, not the reverse.

    A token issued beside a refresh token keeps its row, expired at the revocation, since that refresh token reads
    its scope there and goes on working; its checksum goes on the list here. Any other token's row is deleted, which
    puts it on the list (``access_token_deleted``). An expired token has nothing left to end. The audit event's
    actor is the one ``accounts.audit.acting`` names (the admin names the administrator).
    """
    now = timezone.now()
    rows = get_access_token_model().objects.filter(pk=access_token.pk, expires__gt=now)
    with transaction.atomic():
        # Changing the row is the claim: of two concurrent revocations, one records it.
        if get_refresh_token_model().objects.filter(access_token=access_token).exists():
            ended = rows.update(expires=now, updated=now)
            if ended:
                revoke_checksum(access_token.token_checksum, expires=access_token.expires)
        else:
            ended, _ = rows.delete()
        if ended:
            audit.record(AuditEvent.Action.REVOKED, access_token)


def revoke_refresh(refresh_token) -> None:
    """End a refresh token with its whole family, so every access token ever derived from it ends too.

    Revoking one already revoked records nothing: it changes nothing.
    """
    if refresh_token.revoked is None:
        audit.record(AuditEvent.Action.REVOKED, refresh_token)
    if refresh_token.token_family:
        get_refresh_token_model().revoke_family(refresh_token.token_family)
    else:
        refresh_token.revoke()
