"""Writes of ingest keys: create, revoke, rotate. The admin's actions and ``manage.py create_ingest_key`` call
these; each change is in the audit trail (``accounts.audit``) and reaches every process at once (``collector.keys``).

A key is public, so rotating one is making its replacement, putting the replacement in the pages, then revoking
the old key: pages cached with the old key go on being counted until the revocation.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts import audit
from accounts.models import AuditEvent, Organization
from collector.models import IngestKey
from collector.origins import normalize_origin

SHOWN = ("name", "application", "key", "allowed_origins", "rate_limit", "is_active")


def ingest_key_create(
    *, organization: Organization, application: str, origins: list[str], rate_limit: str = "", name: str = ""
) -> IngestKey:
    """A new active key of ``organization`` for ``application``, usable from ``origins``.

    Origins are written as a browser sends them (``https://Shop.example:443`` becomes ``https://shop.example``).
    Raises Django's ``ValidationError`` keyed by field (``allowed_origins``, ``rate_limit``, ``application``), as
    the services of ``accounts`` do for what administrators enter.
    """
    try:
        normalized = [normalize_origin(origin) for origin in origins]
    except ValueError as error:
        raise ValidationError({"allowed_origins": [str(error)]}) from None
    key = IngestKey(
        organization=organization,
        application=application,
        allowed_origins=list(dict.fromkeys(normalized)),
        rate_limit=rate_limit,
        name=name,
    )
    key.full_clean()
    with transaction.atomic():
        key.save()
        audit.record(AuditEvent.Action.CREATED, key, changes=audit.field_changes(key, SHOWN))
    return key


def ingest_key_revoke(key: IngestKey) -> bool:
    """Turn ``key`` off; every process refuses it from its next request. False when it was off already (nothing
    recorded)."""
    with transaction.atomic():
        key = IngestKey.objects.select_for_update().get(pk=key.pk)
        if not key.is_active:
            return False
        key.is_active = False
        key.save(update_fields=["is_active"])
        audit.record(AuditEvent.Action.REVOKED, key)
    return True


def ingest_key_rotate(key: IngestKey) -> IngestKey:
    """A new key with the same organisation, application, origins, rate and name as ``key``, which stays active
    until it is revoked (see the module's docstring)."""
    return ingest_key_create(
        organization=key.organization,
        application=key.application,
        origins=key.allowed_origins,
        rate_limit=key.rate_limit,
        name=key.name,
    )
