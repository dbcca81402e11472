"""Revoked access tokens, as every server process sees them.

A bearer check never reads the database, so deleting a token's row is not enough to stop it: the token's checksum
also goes into the ``shared`` cache until the token would have expired anyway. That cache is Redis in production
(every process, every machine) and a file cache on one machine without Redis; either way one lookup per call.

Every path that ends an access token deletes its row (django-oauth-toolkit's ``revoke()``, refresh-token rotation
and family revocation, the admin, deactivating a client or user), so one ``post_delete`` receiver catches them all.
"""

from datetime import datetime

from django.core.cache import caches
from django.utils import timezone

KEY_PREFIX = "revoked:"


def _cache():
    return caches["shared"]


def revoke_checksum(checksum: str, *, expires: datetime) -> None:
    ttl = int((expires - timezone.now()).total_seconds()) + 60  # outlive clock skew between processes
    if ttl > 0 and checksum:
        _cache().set(KEY_PREFIX + checksum, 1, timeout=ttl)


def is_revoked(checksum: str) -> bool:
    return _cache().get(KEY_PREFIX + checksum) is not None


def access_token_deleted(sender, instance, **kwargs):
    revoke_checksum(instance.token_checksum, expires=instance.expires)
