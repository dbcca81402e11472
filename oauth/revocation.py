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
from oauth2_provider.models import get_access_token_model, get_refresh_token_model, revoke_access_token

from accounts import audit
from accounts.models import AuditEvent
from oauth.tokens import token_checksum

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
    """End an access token and the refresh token issued beside it (django-oauth-toolkit's shared revoke path).

    Deleting the access-token row is what puts it on the revocation list above. The audit event's actor is the
    one ``accounts.audit.acting`` names (the admin names the administrator).
    """
    audit.record(AuditEvent.Action.REVOKED, access_token)
    revoke_access_token(access_token)


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
