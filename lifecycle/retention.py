"""Retention: each organisation's queries and events are kept for its period, then deleted (GDPR Art. 5(1)(e)).

The period is ``RetentionPolicy.days`` (admin, ``manage.py set_retention``), else ``RETENTION_DAYS_DEFAULT``; 0 keeps
forever. ``enforce_retention`` (``manage.py enforce_retention``, hourly from cron) deletes every row whose timestamp
is before its organisation's cutoff, ``now - days``: a row exactly at the cutoff stays, as ``to`` excludes it in
every read. It is idempotent and safe to run twice at once (``lifecycle.batches``).

On PostgreSQL with partitioned tables (``insights.partitions``), whole monthly partitions go first, by a drop that
costs no row-by-row delete and leaves no bloat, when no organisation may keep a row of them: those wholly before
the *partition cutoff*, the smallest over the organisations with rows of their **effective cutoffs**: an
organisation's cutoff, or, for one that keeps forever, its oldest row (what is before it holds nothing of it). So
an organisation that keeps forever holds back every partition from its oldest row on. The rows left past their
cutoff are then deleted in batches, organisation by organisation.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from accounts import audit
from accounts.models import AuditEvent, Organization
from insights import partitions
from insights.models import Event, Query
from insights.validation import Errors, format_timestamp
from lifecycle import aggregates
from lifecycle.batches import delete_in_batches
from lifecycle.models import RetentionPolicy
from project.conf import ubi_settings

MAX_DAYS = 100 * 366
EXPIRED_OBJECT = "expired UBI data"


@dataclass(frozen=True)
class Expired:
    """What retention deleted of one organisation."""

    organization_id: object
    organization: str
    cutoff: datetime
    queries: int
    events: int


@dataclass
class RetentionReport:
    partitions: list[str] = field(default_factory=list)
    organizations: list[Expired] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(expired.queries + expired.events for expired in self.organizations)


def retention_days(organization_id) -> int:
    """The organisation's period in days, the default when it has none of its own; 0: forever."""
    days = RetentionPolicy.objects.filter(organization_id=organization_id).values_list("days", flat=True).first()
    return ubi_settings.RETENTION_DAYS_DEFAULT if days is None else days


def set_retention(organization: Organization, *, days) -> RetentionPolicy:
    """Give ``organization`` a period of ``days`` (0: forever), audited with the old and new values. Raises
    ``InvalidInput`` keyed ``days`` for anything but a whole number from 0 to ``MAX_DAYS``."""
    errors = Errors()
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_DAYS:
        errors.add("days", f"A whole number of days from 0 (keep forever) to {MAX_DAYS}.")
    errors.raise_if_any()
    previous = retention_days(organization.pk)
    policy, _ = RetentionPolicy.objects.update_or_create(organization=organization, defaults={"days": days})
    audit.record(
        AuditEvent.Action.CHANGED, policy, changes={"fields": ["days"], "days": days, "previous_days": previous}
    )
    return policy


def cutoffs(now: datetime) -> dict:
    """``{organization id: cutoff}`` of every organisation with a period (those keeping forever are absent)."""
    own = dict(RetentionPolicy.objects.values_list("organization_id", "days"))
    default = ubi_settings.RETENTION_DAYS_DEFAULT
    return {
        pk: now - timedelta(days=days)
        for pk in Organization.objects.values_list("pk", flat=True)
        if (days := own.get(pk, default))
    }


def expired_count(now: datetime) -> int:
    """How many rows ``enforce_retention`` would delete at ``now``, for a progress bar's total: two ``COUNT``\\ s
    per organisation over its time index."""
    return sum(
        model.objects.filter(organization_id=pk, timestamp__lt=cutoff).count()
        for pk, cutoff in cutoffs(now).items()
        for model in (Query, Event)
    )


def enforce_retention(*, now: datetime | None = None, progress: Callable[[int], None] | None = None) -> RetentionReport:
    """Delete every query and event before its organisation's cutoff at ``now`` (default: the current time), and
    the aggregates built from them. ``progress`` is called with the rows of each batch deleted. Each organisation
    with rows deleted gets one audit event with the counts; each run that drops partitions, one platform-wide."""
    now = now or timezone.now()
    by_organization = cutoffs(now)
    report = RetentionReport(partitions=_drop_partitions(by_organization))
    names = dict(Organization.objects.filter(pk__in=by_organization).values_list("pk", "name"))
    for pk, cutoff in by_organization.items():
        queries = delete_in_batches(Query.objects.filter(organization_id=pk, timestamp__lt=cutoff), progress=progress)
        events = delete_in_batches(Event.objects.filter(organization_id=pk, timestamp__lt=cutoff), progress=progress)
        if queries or events or report.partitions:
            aggregates.forget_before(pk, cutoff)
        if queries or events:
            expired = Expired(pk, names.get(pk, ""), cutoff, queries, events)
            report.organizations.append(expired)
            _record(expired)
    return report


def partition_cutoff(by_organization: dict) -> datetime | None:
    """The instant before which no organisation keeps a row: the smallest effective cutoff (module docstring),
    its oldest row for an organisation that keeps forever (one probe of its time index per table; without rows it
    holds nothing back); ``None`` when nothing is to be kept or deleted."""
    effective = list(by_organization.values())
    for pk in Organization.objects.exclude(pk__in=list(by_organization)).values_list("pk", flat=True):
        for model in (Query, Event):
            oldest = model.objects.filter(organization_id=pk).order_by("timestamp").values_list("timestamp", flat=True)
            if (first := oldest.first()) is not None:
                effective.append(first)
    return min(effective, default=None)


def _drop_partitions(by_organization: dict) -> list[str]:
    """The partitions wholly before ``partition_cutoff`` dropped (``insights.partitions``); none where the
    tables are not partitioned."""
    if not partitions.is_partitioned() or (cutoff := partition_cutoff(by_organization)) is None:
        return []
    dropped = partitions.drop_expired(cutoff)
    if dropped:
        audit.record_about(
            AuditEvent.Action.DELETED,
            organization_id=None,
            object_type="partition",
            object_id=dropped[0],
            object_repr=", ".join(dropped),
            changes={"partitions": dropped, "before": format_timestamp(cutoff)},
        )
    return dropped


def _record(expired: Expired) -> None:
    audit.record_about(
        AuditEvent.Action.DELETED,
        organization_id=expired.organization_id,
        object_type=EXPIRED_OBJECT,
        object_id=str(expired.organization_id),
        object_repr=f"{expired.organization}: queries and events before {format_timestamp(expired.cutoff)}",
        changes={"queries": expired.queries, "events": expired.events, "before": format_timestamp(expired.cutoff)},
    )
