"""The rollups: the analytics' raw definitions materialised, kept up to date with the rows ingested.

Three tables (``analytics.models``) hold what the reads would otherwise aggregate from raw rows:

- ``SearchFact``: one row per search, ``analytics.searches.searches_sql``'s;
- ``RankHour``: impressions and clicks per (UTC hour, application, rank), ``analytics.interactions``' rows counted
  in the hour of their own timestamp;
- ``PairDay``: impressions and clicks per (UTC day, application, user query, object id, rank), likewise per day.

Ranks are kept up to ``ANALYTICS_MAX_RANK``. Ingestion never writes them: ``refresh`` derives them afterwards,
idempotently, from the raw rows, by running those definitions again over what changed. The changed rows are the
queries and events with an id above a **watermark**, and those of the ranges marked stale (``mark_stale``,
``forget``, an ``AnalyticsSettings`` saved). From them, per organisation, it finds the touched searches (the
query ids of changed queries and events) and the touched hours and days (those of changed queries and events, of
the queries that changed events refer to, whose hit-id impressions an impression event takes away, and of the
events that refer to changed queries, which give those events their user query), deletes their rollup rows and
inserts them again, one statement per table.

**Late commits.** PostgreSQL takes ids at insert and commits them in any order, so a row may become visible
after a refresh has read a higher id. Each refresh records the highest ids it read and when
(``RollupRefresh``); the next one starts from the ids of the latest refresh taken at least
``ANALYTICS_LATE_COMMIT_SECONDS`` before the previous one (longer than any ingest transaction: a gRPC stream of
``MAX_EVENTS_PER_STREAM`` events is the longest). Every row below that watermark was committed before the previous
refresh ran, which processed it. Processing a row twice is harmless, so the overlap costs time only.

Refreshes serialise on a lock (PostgreSQL: a transaction-level advisory lock; SQLite serialises writes anyway),
and each runs in one transaction: a reader sees the rollups before or after it, whole. Every analytics read
refreshes first, so its answer is exact; ``manage.py refresh_analytics`` does it from cron and after bulk loads.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from analytics import dialects
from analytics.interactions import Buckets, counts_sql, organization_parameter, scope_conditions
from analytics.models import PairDay, RankHour, RollupRefresh, SearchFact, StaleRange
from analytics.scope import Scope
from analytics.searches import COLUMNS, searches_sql
from insights.models import Event, Query
from project.conf import ubi_settings

# The key of the advisory lock refreshes take on PostgreSQL ("rollups" in ASCII).
LOCK_KEY = 0x726F6C6C757073
STEPS_PER_ORGANIZATION = 3  # search facts, rank hours, pair days
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class RefreshReport:
    """What a refresh did: the organisations refreshed, the rollup rows written per table, the ids it read up to."""

    organizations: int
    searches: int
    rank_hours: int
    pair_days: int
    query_id_seen: int
    event_id_seen: int


def refresh(*, progress: Callable[[int, int], None] | None = None) -> RefreshReport:
    """Bring every organisation's rollups up to date with the rows committed so far (module docstring).

    ``progress`` is called with the steps done and the steps in all (three per organisation refreshed)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        first = not RollupRefresh.objects.exists()
        watermark = _watermark()
        seen = (
            Query.objects.aggregate(top=Max("id"))["top"] or 0,
            Event.objects.aggregate(top=Max("id"))["top"] or 0,
        )
        taken_at = timezone.now()
        stale = list(StaleRange.objects.all())
        organizations = _changed_organizations(watermark, seen) | {row.organization_id for row in stale}
        total = len(organizations) * STEPS_PER_ORGANIZATION
        written = [0, 0, 0]
        for number, organization_id in enumerate(sorted(organizations, key=str)):
            ranges = [(row.start, row.end) for row in stale if row.organization_id == organization_id]
            rebuilt = _refresh_organization(organization_id, watermark, seen, ranges, everything=first)
            for step, count in enumerate(rebuilt):
                written[step] += count
                if progress is not None:
                    progress(number * STEPS_PER_ORGANIZATION + step + 1, total)
        StaleRange.objects.filter(id__in=[row.id for row in stale]).delete()
        _record(seen, taken_at)
    return RefreshReport(len(organizations), *written, *seen)


def mark_stale(organization_id, *, start: datetime | None = None, end: datetime | None = None) -> None:
    """Have the next refresh rebuild the organisation's rollups of ``[start, end)`` (no bound: all of time),
    widened to whole UTC days, from the raw rows there are then."""
    StaleRange.objects.create(organization_id=organization_id, **_whole_days(start, end))


def forget(organization_id, *, start: datetime | None = None, end: datetime | None = None) -> None:
    """Delete the organisation's rollups of ``[start, end)`` widened to whole UTC days (no bound: all of time),
    now, and mark the range stale: what raw rows remain there are counted again on the next refresh. For the
    callers that delete raw rows (retention, erasure)."""
    bounds = _whole_days(start, end)
    with transaction.atomic():
        _delete_range(organization_id, bounds["start"], bounds["end"])
        StaleRange.objects.create(organization_id=organization_id, **bounds)


def _watermark() -> tuple[int, int]:
    """The query and event ids below which every row has been processed (module docstring, "Late commits")."""
    previous = RollupRefresh.objects.order_by("-id").first()
    if previous is None:
        return 0, 0
    settled = previous.taken_at - timedelta(seconds=ubi_settings.ANALYTICS_LATE_COMMIT_SECONDS)
    base = RollupRefresh.objects.filter(taken_at__lte=settled).order_by("-id").first()
    if base is None:
        return 0, 0
    RollupRefresh.objects.filter(id__lt=base.id).delete()
    return base.query_id_seen, base.event_id_seen


def _record(seen: tuple[int, int], taken_at: datetime) -> None:
    RollupRefresh.objects.create(taken_at=taken_at, query_id_seen=seen[0], event_id_seen=seen[1])


def _changed_organizations(watermark: tuple[int, int], seen: tuple[int, int]) -> set:
    queries = Query.objects.filter(id__gt=watermark[0], id__lte=seen[0])
    events = Event.objects.filter(id__gt=watermark[1], id__lte=seen[1])
    return set(queries.values_list("organization_id", flat=True).distinct()) | set(
        events.values_list("organization_id", flat=True).distinct()
    )


def _refresh_organization(organization_id: uuid.UUID, watermark, seen, ranges: list, *, everything: bool) -> list[int]:
    """Rebuild the rollups of one organisation's changed rows (``everything``: all its rows); the rows written per
    table."""
    everything = everything or any(start is None and end is None for start, end in ranges)
    for start, end in ranges:
        _delete_range(organization_id, start, end)
    changed = _Changed(organization_id, watermark, seen, [] if everything else ranges)
    if everything:
        _delete_range(organization_id, None, None)
        return [
            _insert_searches(organization_id, None),
            _insert_counts(RankHour, organization_id, None),
            _insert_counts(PairDay, organization_id, None),
        ]
    written = [_refresh_searches(organization_id, changed)]
    hours = changed.hours()
    days = sorted({hour.replace(hour=0) for hour in hours})
    for model, buckets in ((RankHour, Buckets("hour", hours)), (PairDay, Buckets("day", days))):
        if not buckets.starts:
            written.append(0)
            continue
        field = _BUCKET_FIELD[model]
        within, params = dialects.one_of(field, buckets.starts)
        _execute(f"DELETE FROM {model._meta.db_table} WHERE organization_id = %s AND {within}",
                 [organization_parameter(organization_id), *params])
        written.append(_insert_counts(model, organization_id, buckets))
    return written


class _Changed:
    """The changed rows of one organisation: ids in ``(watermark, seen]``, or timestamps in a stale range."""

    def __init__(self, organization_id, watermark, seen, ranges):
        self.organization = organization_parameter(organization_id)
        self.watermark, self.seen, self.ranges = watermark, seen, ranges

    def condition(self, alias: str, table: int) -> tuple[str, list]:
        """``alias`` is a query (``table`` 0) or an event (1) row of the organisation that changed."""
        conditions, params = [f"({alias}.id > %s AND {alias}.id <= %s)"], [self.watermark[table], self.seen[table]]
        for start, end in self.ranges:
            within, within_params = scope_conditions(alias, Scope(None, start, end, None))
            conditions.append(f"(1 = 1{within})")
            params.extend(within_params)
        return f"{alias}.organization_id = %s AND ({' OR '.join(conditions)})", [self.organization, *params]

    def query_ids(self) -> tuple[str, list]:
        """A SELECT of the query ids of the touched searches."""
        queries, query_params = self.condition("q", 0)
        events, event_params = self.condition("e", 1)
        return (
            f"SELECT q.query_id FROM {Query._meta.db_table} AS q WHERE {queries} UNION "
            f"SELECT e.query_id FROM {Event._meta.db_table} AS e WHERE {events} AND e.query_id IS NOT NULL",
            [*query_params, *event_params],
        )

    def hours(self) -> list[datetime]:
        """The touched hours, in order."""
        queries, query_params = self.condition("q", 0)
        events, event_params = self.condition("e", 1)
        query_table, event_table = Query._meta.db_table, Event._meta.db_table
        moments = (
            f"SELECT q.timestamp AS moment FROM {query_table} AS q WHERE {queries} "
            f"UNION ALL SELECT e.timestamp FROM {event_table} AS e WHERE {events} "
            f"UNION ALL SELECT r.timestamp FROM {query_table} AS r WHERE r.organization_id = %s AND r.query_id IN "
            f"(SELECT e.query_id FROM {event_table} AS e WHERE {events}) "
            f"UNION ALL SELECT r.timestamp FROM {event_table} AS r WHERE r.organization_id = %s AND r.query_id IN "
            f"(SELECT q.query_id FROM {query_table} AS q WHERE {queries})"
        )
        sql = f"SELECT DISTINCT {dialects.truncated('moment', 'hour')} FROM ({moments}) AS moments"
        with connection.cursor() as cursor:
            cursor.execute(sql, [*query_params, *event_params, self.organization, *event_params, self.organization,
                                 *query_params])
            return sorted(_moment(hour) for (hour,) in cursor.fetchall())


def _refresh_searches(organization_id, changed: _Changed) -> int:
    query_ids, params = changed.query_ids()
    _execute(f"DELETE FROM {SearchFact._meta.db_table} WHERE organization_id = %s AND query_id IN ({query_ids})",
             [organization_parameter(organization_id), *params])
    return _insert_searches(organization_id, (query_ids, params))


def _insert_searches(organization_id, query_ids: tuple[str, list] | None) -> int:
    sql, params = searches_sql(Scope(organization_id, None, None, None), query_ids=query_ids)
    columns = ", ".join(COLUMNS)
    return _execute(
        f"INSERT INTO {SearchFact._meta.db_table} (organization_id, {columns}) "
        f"SELECT %s, {columns} FROM ({sql}) AS searches",
        [organization_parameter(organization_id), *params],
    )


_BUCKET_FIELD = {RankHour: "hour", PairDay: "day"}
_BUCKET_UNIT = {RankHour: HOUR, PairDay: DAY}
_KEYS = {RankHour: ("application", "rank"), PairDay: ("application", "user_query", "object_id", "rank")}


def _insert_counts(model, organization_id, buckets: Buckets | None) -> int:
    """Insert the counts of ``model`` (``RankHour`` or ``PairDay``) of the organisation's interactions in
    ``buckets`` (``None``: all of them)."""
    field = _BUCKET_FIELD[model]
    if buckets is None:
        scope = Scope(organization_id, None, None, None)
    else:
        scope = Scope(organization_id, buckets.starts[0], buckets.starts[-1] + _BUCKET_UNIT[model], None)
    keys = {field: dialects.truncated("timestamp", field), **{key: key for key in _KEYS[model]}}
    sql, params = counts_sql(scope, max_rank=ubi_settings.ANALYTICS_MAX_RANK, keys=keys,
                             user_queries=model is PairDay, buckets=buckets)
    columns = ", ".join([*keys, "impressions", "clicks"])
    return _execute(
        f"INSERT INTO {model._meta.db_table} (organization_id, {columns}) SELECT %s, {columns} FROM ({sql}) AS counts",
        [organization_parameter(organization_id), *params],
    )


def _delete_range(organization_id, start: datetime | None, end: datetime | None) -> None:
    for model, field in ((SearchFact, "timestamp"), (RankHour, "hour"), (PairDay, "day")):
        rows = model.objects.filter(organization_id=organization_id)
        if start is not None:
            rows = rows.filter(Q(**{f"{field}__gte": start}))
        if end is not None:
            rows = rows.filter(Q(**{f"{field}__lt": end}))
        rows.delete()


def _whole_days(start: datetime | None, end: datetime | None) -> dict:
    if start is not None:
        start = _moment(start).replace(hour=0, minute=0, second=0, microsecond=0)
    if end is not None:
        end = _moment(end)
        day = end.replace(hour=0, minute=0, second=0, microsecond=0)
        end = day if day == end else day + DAY
    return {"start": start, "end": end}


def _moment(value) -> datetime:
    """A UTC datetime from what the database gives for a timestamp (text on SQLite)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _execute(sql: str, params: list) -> int:
    with dialects.aggregate_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
