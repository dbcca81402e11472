"""Offboarding: an organisation deleted with everything it had (admin, ``manage.py delete_organization``).

In this order, so that a run stopped half-way is finished by the next one:

1. its app clients and people, in one transaction: their tokens end with them (``oauth.revocation``), so nothing
   tracks for it any more;
2. its queries, events, judgments and analytics aggregates, the big tables, ``LIFECYCLE_BATCH_SIZE`` rows a
   transaction (``lifecycle.batches``): ``TrackedDocument.organization`` is ``PROTECT``, so an organisation with
   rows left cannot be deleted by mistake;
3. in one transaction, with the organisation's row locked (a write that refers to it waits, then fails): what was
   tracked since step 2, its audit trail, the admin's log of its people and clients, and the organisation itself,
   which takes every other row that refers to it (settings, single sign-on, judgment lists, retention, ...) by
   cascade; then one audit event, of no organisation, that keeps its name, its id and how many rows of each model
   went.

The organisation's own audit trail goes because it names its people (their email addresses as actors): what the
auditor keeps is the offboarding record, its actor and its counts.
"""

from collections import Counter
from collections.abc import Callable

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from accounts import audit
from accounts.models import AppClient, AuditEvent, Organization, User
from analytics.models import Judgment
from insights.models import Event, Query
from lifecycle import aggregates
from lifecycle.batches import delete_in_batches

ORGANIZATION_OBJECT = "organization"


def big_table_rows(organization: Organization) -> int:
    """The rows step 2 deletes, for a progress bar's total."""
    return sum(rows.count() for rows in _big_tables(organization.pk).values())


def delete_organization(
    organization: Organization, *, exported_to: str | None = None, progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Delete ``organization`` and every row of it (module docstring); the rows deleted by model label
    (``"insights.Event"``). ``exported_to`` (where its data was exported first) goes into the audit record.
    ``progress`` is called with each batch's count of the big tables."""
    pk, name = organization.pk, organization.name
    deleted = Counter()
    with transaction.atomic():
        people = _principals(pk)
        deleted.update(AppClient.objects.filter(organization_id=pk).delete()[1])
        deleted.update(User.objects.filter(organization_id=pk).delete()[1])
    for label, rows in _big_tables(pk).items():
        deleted[label] += delete_in_batches(rows, progress=progress)
    aggregates.forget_all(pk)
    with transaction.atomic():
        Organization.objects.select_for_update().filter(pk=pk).first()
        for label, rows in _big_tables(pk).items():
            deleted[label] += rows.delete()[0]
        deleted.update(AuditEvent.objects.filter(organization_id=pk).delete()[1])
        deleted.update(_admin_log_of(people | {Organization: [pk]}).delete()[1])
        deleted.update(Organization.objects.filter(pk=pk).delete()[1])
        counts = {label: count for label, count in sorted(deleted.items()) if count}
        changes = {"rows": counts, **({"exported_to": exported_to} if exported_to else {})}
        audit.record_about(
            AuditEvent.Action.DELETED,
            organization_id=None,
            object_type=ORGANIZATION_OBJECT,
            object_id=str(pk),
            object_repr=name,
            changes=changes,
        )
    return counts


def _big_tables(organization_id) -> dict:
    return {
        Query._meta.label: Query.objects.filter(organization_id=organization_id),
        Event._meta.label: Event.objects.filter(organization_id=organization_id),
        Judgment._meta.label: Judgment.objects.filter(judgment_list__organization_id=organization_id),
    }


def _principals(organization_id) -> dict:
    return {
        AppClient: list(AppClient.objects.filter(organization_id=organization_id).values_list("pk", flat=True)),
        User: list(User.objects.filter(organization_id=organization_id).values_list("pk", flat=True)),
    }


def _admin_log_of(objects: dict):
    """The admin's log entries about ``objects`` (``{model: [pk, ...]}``), made by anybody: they name them."""
    entries = LogEntry.objects.none()
    for model, pks in objects.items():
        content_type = ContentType.objects.get_for_model(model)
        entries |= LogEntry.objects.filter(content_type=content_type, object_id__in=[str(pk) for pk in pks])
    return entries
