"""Re-encrypting every stored secret under the current ``SECRET_KEY`` (``manage.py reencrypt_secrets``): the last
step of rotating ``SECRET_KEY``, after which the old key can leave ``SECRET_KEY_FALLBACKS`` (docs/operations.md,
"Key rotation").

It goes through every field ``accounts.encryption`` has registered. A value already under ``SECRET_KEY`` is left as
it is, so running it again changes nothing; one no key can read is counted and left for its owner to enter again.
Each value is replaced only if it is still the one read (a secret changed meanwhile is kept), without the model's
save signals, and each replacement is an audit event ``changed`` naming the field, never its value.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import transaction

from accounts import audit, encryption
from accounts.models import AuditEvent


@dataclass
class FieldReport:
    name: str  # "app_label.Model.field"
    reencrypted: int = 0
    current: int = 0
    unreadable: list[str] = field(default_factory=list)  # primary keys


def reencrypt_secrets(*, progress: Callable[[FieldReport, int, int], None] | None = None) -> list[FieldReport]:
    """One report per registered field; ``progress(report, done, total)`` after each stored value."""
    return [_reencrypt_field(entry, progress) for entry in encryption.ENCRYPTED_FIELDS]


def _reencrypt_field(entry: encryption.EncryptedField, progress) -> FieldReport:
    model = apps.get_model(entry.model)
    report = FieldReport(f"{entry.model}.{entry.field}")
    rows = model.objects.exclude(**{entry.field: ""}).order_by("pk")
    total = rows.count()
    for done, obj in enumerate(rows.iterator(), start=1):
        stored = getattr(obj, entry.field)
        try:
            new = encryption.reencrypt(stored, purpose=entry.purpose)
        except encryption.Unreadable:
            report.unreadable.append(str(obj.pk))
            new = None
        else:
            report.current += new is None
        if new is not None:
            with transaction.atomic():
                if model.objects.filter(pk=obj.pk, **{entry.field: stored}).update(**{entry.field: new}):
                    audit.record(AuditEvent.Action.CHANGED, obj, changes=audit.field_changes(obj, [entry.field]))
                    report.reencrypted += 1
        if progress is not None:
            progress(report, done, total)
    return report
