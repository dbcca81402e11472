"""Rotating the keys that sign access tokens (``manage.py rotate_signing_key``); ``oauth.keys`` reads what this
writes.

A rotation at ``t`` adds a new key and schedules the rest:

- from ``t`` the new key is in the JWKS (every process reads it at its next check), and verifies;
- from ``t + SIGNING_KEY_PUBLISH_AHEAD_SECONDS`` it signs, so clients that cache the JWKS have seen it before its
  first token; the previous key stops signing then and only verifies (it is retiring); a key still upcoming then
  would never sign, and leaves the JWKS at once;
- from that switch plus ``ACCESS_TOKEN_EXPIRE_SECONDS`` and a minute of clock skew, every token the previous key
  signed has expired: it leaves the JWKS and a token it signed is refused.

``retire_now`` ends a key at once (a compromised one): it leaves the JWKS and its tokens are refused at every
process's next check, live or not. If no key is left to sign, an upcoming key signs at once, or a new one is added
that does. Both are recorded in the audit trail.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric import ec
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from oauth2_provider.settings import oauth2_settings

from accounts import audit, encryption
from accounts.models import AuditEvent
from oauth import keys
from oauth.models import SigningKey
from oauth.revocation import CLOCK_SKEW
from project.conf import ubi_settings
from project.errors import InvalidInput, NotFound
from project.secrets import ec_private_key_pem


@dataclass(frozen=True)
class Rotation:
    key: SigningKey  # the new key
    retiring: list[SigningKey]  # the keys it replaces, with their retires_at


def overlap() -> timedelta:
    """How long a key stays published after it stops signing: until the last token it signed has expired."""
    return timedelta(seconds=oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS) + CLOCK_SKEW


def rotate(*, publish_ahead: int | None = None) -> Rotation:
    """Add a key that signs ``publish_ahead`` seconds from now (default ``SIGNING_KEY_PUBLISH_AHEAD_SECONDS``), and
    retire the keys it replaces once their tokens have expired."""
    ahead = ubi_settings.SIGNING_KEY_PUBLISH_AHEAD_SECONDS if publish_ahead is None else publish_ahead
    if ahead < 0:
        message = "The lead time must be 0 or more seconds."
        raise InvalidInput({"publish_ahead": [message]}, detail=message)
    with transaction.atomic():
        _lock()
        now = timezone.now()
        return _add_key(now, signs_from=now + timedelta(seconds=ahead))


def retire_now(kid: str) -> tuple[SigningKey, Rotation | None]:
    """Retire ``kid`` at once; the rotation that followed when no other key could sign, else ``None``."""
    with transaction.atomic():
        _lock()
        now = timezone.now()
        row = SigningKey.objects.filter(kid=kid).first()
        if row is None:
            if kid != keys.configured_key().kid:
                raise NotFound(f"No signing key has the kid {kid!r}.")
            row = _configured_row(now)
        if row.revoked:
            return row, None
        row.revoked = True
        row.signs_until = min(row.signs_until or now, now)
        row.retires_at = min(row.retires_at or now, now)
        row.save(update_fields=["revoked", "signs_until", "retires_at"])
        audit.record(AuditEvent.Action.REVOKED, row)
        transaction.on_commit(keys.changed)
        if keys.signer(keys.stored_keys(), now.timestamp()) is not None:
            return row, None
        live = SigningKey.objects.filter(revoked=False).exclude(retires_at__lte=now)
        upcoming = live.filter(signs_from__gt=now).order_by("signs_from").first()
        if upcoming is not None:  # published already: it signs from now on
            SigningKey.objects.filter(pk=upcoming.pk).update(signs_from=now)
            upcoming.refresh_from_db()
            return row, Rotation(key=upcoming, retiring=[])
        return row, _add_key(now, signs_from=now)


def _add_key(now: datetime, *, signs_from: datetime) -> Rotation:
    if not SigningKey.objects.filter(kid=keys.configured_key().kid).exists():
        _configured_row(now)
    live = SigningKey.objects.filter(revoked=False).exclude(retires_at__lte=now)
    live.filter(signs_from__gte=signs_from).update(signs_until=F("signs_from"), retires_at=now)
    replaced = live.filter(signs_from__lt=signs_from).exclude(signs_until__lte=signs_from)
    retiring = list(replaced)
    replaced.update(signs_until=signs_from, retires_at=signs_from + overlap())
    for key in retiring:
        key.refresh_from_db()
    pem = ec_private_key_pem()
    public_key: ec.EllipticCurvePublicKey = keys.load_private_key(pem).public_key()
    key = SigningKey.objects.create(
        kid=keys.thumbprint(public_key),
        public_key=keys.public_pem(public_key),
        private_key=encryption.encrypt(pem.decode(), purpose=keys.PRIVATE_KEY_PURPOSE),
        created=now,
        signs_from=signs_from,
    )
    audit.record(AuditEvent.Action.CREATED, key, changes={"signs_from": signs_from.isoformat()})
    transaction.on_commit(keys.changed)
    return Rotation(key=key, retiring=retiring)


def _configured_row(now: datetime) -> SigningKey:
    """The configured key's row, without its private half: it records when that key retires."""
    configured = keys.configured_key()
    return SigningKey.objects.create(
        kid=configured.kid, public_key=keys.public_pem(configured.public_key), private_key="", created=now,
        signs_from=keys.FROM_THE_START,
    )


def _lock() -> None:
    """One rotation at a time: on PostgreSQL another waits here until this one commits (SQLite has one writer)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {SigningKey._meta.db_table} IN EXCLUSIVE MODE")
