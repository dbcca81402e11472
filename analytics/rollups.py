"""The rollups: the analytics' raw definitions materialised, kept up to date with the rows ingested.

Three tables (``analytics.models``) hold what the reads would otherwise aggregate from raw rows:

- ``SearchFact``: one row per search, ``analytics.searches.searches_sql``'s;
- ``RankHour``: impressions and clicks per (UTC hour, application, rank), ``analytics.interactions``' rows counted
  in the hour of their own timestamp;
- ``PairDay``: impressions and clicks per (UTC day, application, user query, object id, rank), likewise per day.

Ranks are kept up to ``ANALYTICS_MAX_RANK``. Ingestion never writes them: ``refresh`` derives them afterwards,
idempotently, from the raw rows, by running those definitions again over what changed. The changed rows are the
queries and events with an id above the highest the previous refresh read, those in its gaps (below), and those of
the ranges marked stale (``mark_stale``, ``forget``, an ``AnalyticsSettings`` saved). From them, per organisation,
it finds the touched searches (the query ids of changed queries and events) and the touched hours and days (those
of changed queries and events, of the queries that changed events refer to, whose hit-id impressions an impression
event takes away, and of the events that refer to changed queries, which give those events their user query),
deletes their rollup rows and inserts them again, one statement per table.

**Pairs on demand.** ``PairDay`` is the largest table and only the click models read it, so a refresh rebuilds its
touched days only when asked to (``pairs``, what the judgment lists ask for; the metrics do not): otherwise it
records them (``PairDayBacklog``), and the next refresh that reads pairs rebuilds the recorded days with its own,
merged into runs of consecutive days, one statement a run.

**Late commits.** PostgreSQL takes ids at insert and commits them in any order, so a row may become visible
after a refresh has read a higher id. Each refresh records the highest ids it read (``RollupRefresh``) and the ids
missing below them when it looked (``RollupGap``: rows not committed yet, or rolled back); the next refreshes count
the rows that appear in a gap, until ``ANALYTICS_LATE_COMMIT_SECONDS`` after it opened (longer than any ingest
transaction: a gRPC stream of ``MAX_EVENTS_PER_STREAM`` events is the longest), when its ids are taken to be rolled
back. The gaps are read before the changed rows, so a row missed by the counting was missing from the gaps' reading
too. Counting a row again is harmless: the rollups of a touched search or bucket are rebuilt whole.

Refreshes serialise on a lock (PostgreSQL: a transaction-level advisory lock; SQLite serialises writes anyway),
and each runs in one transaction: a reader sees the rollups before or after it, whole. Every analytics read
refreshes first, so its answer is exact; ``manage.py refresh_analytics`` does it from cron and after bulk loads.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from analytics import dialects
from analytics.interactions import Buckets, counts_sql, organization_parameter, scope_conditions
from analytics.models import PairDay, PairDayBacklog, RankHour, RollupGap, RollupRefresh, SearchFact, StaleRange
from analytics.scope import Scope
from analytics.searches import COLUMNS, searches_sql
from insights.models import Event, Query
from project.conf import ubi_settings

# The key of the advisory lock refreshes take on PostgreSQL ("rollups" in ASCII).
LOCK_KEY = 0x726F6C6C757073
# Rows written to a rollup table by one refresh from which PostgreSQL's statistics of it are refreshed too.
ANALYZE_AFTER_ROWS = 10_000
STEPS_PER_ORGANIZATION = 3  # search facts, rank hours, pair days (the last only when asked for)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
TABLES = (Query, Event)  # in the order of the (query, event) pairs of ids


@dataclass(frozen=True)
class RefreshReport:
    """What a refresh did: the organisations refreshed, the rollup rows written per table, the ids it read up to."""

    organizations: int
    searches: int
    rank_hours: int
    pair_days: int
    query_id_seen: int
    event_id_seen: int


def refresh(*, pairs: bool = True, progress: Callable[[int, int], None] | None = None) -> RefreshReport:
    """Bring every organisation's rollups up to date with the rows committed so far (module docstring); without
    ``pairs``, the search facts and rank hours only, the pair days out of date being recorded for later.

    ``progress`` is called with the steps done and the steps in all (per organisation refreshed: three, two without
    ``pairs``)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
                # The planner prices the joins of the gaps on their possible widths and would compile even an
                # empty refresh's (docs/analytics.md, "Performance"); no statement here gains from JIT.
                cursor.execute("SET LOCAL jit = off")
        previous = RollupRefresh.objects.order_by("-id").first()
        since = (previous.query_id_seen, previous.event_id_seen) if previous else (0, 0)
        seen = (
            Query.objects.aggregate(top=Max("id"))["top"] or 0,
            Event.objects.aggregate(top=Max("id"))["top"] or 0,
        )
        taken_at = timezone.now()
        # Ids below the previous refresh's highest (a table emptied with its ids restarted): count everything.
        restarted = seen[0] < since[0] or seen[1] < since[1]
        if restarted:
            since = (0, 0)
            for model in (SearchFact, RankHour, PairDay):
                model.objects.all().delete()
        open_gaps = [_remaining_gaps(model, since[index], seen[index], taken_at) for index, model in enumerate(TABLES)]
        stale = list(StaleRange.objects.all())
        organizations = _changed_organizations(since, seen) | {row.organization_id for row in stale}
        if pairs:
            organizations |= set(PairDayBacklog.objects.values_list("organization_id", flat=True))
        gaps = [gap for table_gaps in open_gaps for gap in table_gaps]
        if not organizations and seen == since and _unchanged(gaps):
            return RefreshReport(0, 0, 0, 0, *seen)  # nothing to write: a read takes no more than this
        steps = STEPS_PER_ORGANIZATION if pairs else STEPS_PER_ORGANIZATION - 1
        total = len(organizations) * steps
        written = [0, 0, 0]
        for number, organization_id in enumerate(sorted(organizations, key=str)):
            ranges = [(row.start, row.end) for row in stale if row.organization_id == organization_id]
            rebuilt = _refresh_organization(organization_id, since, seen, ranges,
                                            everything=previous is None or restarted)
            if pairs:
                rebuilt.append(_rebuild_pairs(organization_id))
            for step, count in enumerate(rebuilt):
                written[step] += count
                if progress is not None:
                    progress(number * steps + step + 1, total)
        _analyze(written)
        StaleRange.objects.filter(id__in=[row.id for row in stale]).delete()
        RollupGap.objects.all().delete()
        RollupGap.objects.bulk_create(gaps)
        RollupRefresh.objects.all().delete()
        RollupRefresh.objects.create(taken_at=taken_at, query_id_seen=seen[0], event_id_seen=seen[1])
    return RefreshReport(len(organizations), *written, *seen)


def _unchanged(gaps: list[RollupGap]) -> bool:
    """Whether ``gaps`` are the gaps recorded."""
    recorded = set(RollupGap.objects.values_list("source", "low", "high", "opened_at"))
    return recorded == {(gap.source, gap.low, gap.high, gap.opened_at) for gap in gaps}


def _analyze(written: list[int]) -> None:
    """Have PostgreSQL's planner learn the tables a refresh wrote many rows to (a backlog's), before the reads."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model, count in zip((SearchFact, RankHour, PairDay), written):
            if count >= ANALYZE_AFTER_ROWS:
                cursor.execute(f"ANALYZE {model._meta.db_table}")


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


def _remaining_gaps(model, since: int, seen: int, now: datetime) -> list[RollupGap]:
    """The ids of ``model``'s table missing now: those of the recorded gaps not expired, and those in
    ``(since, seen]``, as gaps to record."""
    table = model._meta.db_table
    expired = now - timedelta(seconds=ubi_settings.ANALYTICS_LATE_COMMIT_SECONDS)
    recorded = list(RollupGap.objects.filter(source=table, opened_at__gte=expired).order_by("low"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT x.id FROM {RollupGap._meta.db_table} AS g JOIN {table} AS x ON x.id BETWEEN g.low AND g.high "
            "WHERE g.source = %s AND g.opened_at >= %s",
            [table, connection.ops.adapt_datetimefield_value(expired)],
        )
        present = sorted(row_id for (row_id,) in cursor.fetchall())
        # Each pair of consecutive ids of (since, seen], with since and seen + 1 as sentinels, around a gap.
        cursor.execute(
            "SELECT id + 1, next_id - 1 FROM (SELECT id, LEAD(id) OVER (ORDER BY id) AS next_id FROM ("
            f"SELECT %s AS id UNION ALL SELECT id FROM {table} WHERE id > %s AND id <= %s UNION ALL SELECT %s"
            ") AS ids) AS pairs WHERE next_id > id + 1",
            [since, since, seen, seen + 1],
        )
        fresh = [RollupGap(source=table, low=low, high=high, opened_at=now) for low, high in cursor.fetchall()]
    remaining = []
    for gap in recorded:
        low = gap.low
        for row_id in (row_id for row_id in present if gap.low <= row_id <= gap.high):
            if row_id > low:
                remaining.append(RollupGap(source=table, low=low, high=row_id - 1, opened_at=gap.opened_at))
            low = row_id + 1
        if low <= gap.high:
            remaining.append(RollupGap(source=table, low=low, high=gap.high, opened_at=gap.opened_at))
    return remaining + fresh


def _changed_organizations(since: tuple[int, int], seen: tuple[int, int]) -> set:
    """The organisations with rows above ``since`` or in the recorded gaps."""
    found = set()
    with connection.cursor() as cursor:
        for index, model in enumerate(TABLES):
            table = model._meta.db_table
            cursor.execute(
                f"SELECT DISTINCT organization_id FROM {table} WHERE id > %s AND id <= %s UNION "
                f"SELECT x.organization_id FROM {RollupGap._meta.db_table} AS g JOIN {table} AS x "
                "ON x.id BETWEEN g.low AND g.high WHERE g.source = %s",
                [since[index], seen[index], table],
            )
            found.update(_organization_id(value) for (value,) in cursor.fetchall())
    return found


def _refresh_organization(organization_id: uuid.UUID, since, seen, ranges: list, *, everything: bool) -> list[int]:
    """Rebuild the search facts and rank hours of one organisation's changed rows (``everything``: all its rows),
    and record its pair days out of date in the backlog; the rows written per table."""
    everything = everything or any(start is None and end is None for start, end in ranges)
    for start, end in ranges:
        _delete_range(organization_id, start, end)
    changed = _Changed(organization_id, since, seen, [] if everything else ranges)
    if everything:
        _delete_range(organization_id, None, None)
        _record_pairs(organization_id, [(None, None)])
        return [_insert_searches(organization_id, None), _insert_counts(RankHour, organization_id, None)]
    written = [_refresh_searches(organization_id, changed)]
    hours = changed.hours()
    _record_pairs(organization_id, [*ranges, *((day, day + DAY) for day in _days(hours))])
    if not hours:
        return [*written, 0]
    within, params = dialects.one_of("hour", hours)
    _execute(f"DELETE FROM {RankHour._meta.db_table} WHERE organization_id = %s AND {within}",
             [organization_parameter(organization_id), *params])
    return [*written, _insert_counts(RankHour, organization_id, Buckets("hour", hours))]


def _days(hours: list[datetime]) -> list[datetime]:
    """The UTC days of ``hours``, in order."""
    return sorted({hour.replace(hour=0) for hour in hours})


def _record_pairs(organization_id, ranges: list[tuple]) -> None:
    """Record ``ranges`` (whole days) of the organisation's pair days as out of date."""
    PairDayBacklog.objects.bulk_create(
        PairDayBacklog(organization_id=organization_id, start=start, end=end) for start, end in _merged(ranges)
    )


def _rebuild_pairs(organization_id) -> int:
    """Rebuild the organisation's pair days recorded as out of date, a run of consecutive days a statement; the
    rows written."""
    backlog = PairDayBacklog.objects.filter(organization_id=organization_id)
    written = 0
    for start, end in _merged(list(backlog.values_list("start", "end"))):
        _delete_range(organization_id, start, end, tables=_PAIR_TABLE)
        written += _insert_counts(PairDay, organization_id, Scope(organization_id, start, end, None))
    backlog.delete()
    return written


def _merged(ranges: list[tuple]) -> list[tuple]:
    """``ranges`` (``(start, end)``, ``None`` unbounded) as the fewest disjoint ranges covering the same time, in
    order; ranges that touch are joined."""
    merged = []
    for start, end in sorted(ranges, key=lambda bounds: (bounds[0] is not None, bounds[0] or datetime.min)):
        if merged and (merged[-1][1] is None or (start is not None and start <= merged[-1][1])):
            last_start, last_end = merged[-1]
            merged[-1] = (last_start, None if last_end is None or end is None else max(last_end, end))
        else:
            merged.append((start, end))
    return merged


class _Changed:
    """The changed rows of one organisation: ids in ``(since, seen]`` or in a recorded gap, or timestamps in a
    stale range."""

    def __init__(self, organization_id, since, seen, ranges):
        self.organization = organization_parameter(organization_id)
        self.since, self.seen, self.ranges = since, seen, ranges

    def rows(self, model) -> tuple[str, list]:
        """A SELECT of the ``query_id`` and ``timestamp`` of the changed rows of ``model`` (``Query``, ``Event``):
        a union, each part read through an index."""
        table, index = model._meta.db_table, TABLES.index(model)
        parts = [
            f"SELECT x.query_id, x.timestamp FROM {table} AS x WHERE x.organization_id = %s AND x.id > %s "
            "AND x.id <= %s",
            f"SELECT x.query_id, x.timestamp FROM {RollupGap._meta.db_table} AS g JOIN {table} AS x "
            "ON x.id BETWEEN g.low AND g.high WHERE g.source = %s AND x.organization_id = %s",
        ]
        params = [self.organization, self.since[index], self.seen[index], table, self.organization]
        for start, end in self.ranges:
            within, within_params = scope_conditions("x", Scope(None, start, end, None))
            parts.append(f"SELECT x.query_id, x.timestamp FROM {table} AS x WHERE x.organization_id = %s{within}")
            params.extend([self.organization, *within_params])
        return " UNION ALL ".join(parts), params

    def query_ids(self) -> tuple[str, list]:
        """A SELECT of the query ids of the touched searches."""
        queries, query_params = self.rows(Query)
        events, event_params = self.rows(Event)
        return (
            f"SELECT query_id FROM ({queries}) AS changed_queries UNION "
            f"SELECT query_id FROM ({events}) AS changed_events WHERE query_id IS NOT NULL",
            [*query_params, *event_params],
        )

    def hours(self) -> list[datetime]:
        """The touched hours, in order."""
        queries, query_params = self.rows(Query)
        events, event_params = self.rows(Event)
        query_table, event_table = Query._meta.db_table, Event._meta.db_table
        moments = (
            f"SELECT timestamp AS moment FROM ({queries}) AS changed_queries "
            f"UNION ALL SELECT timestamp FROM ({events}) AS changed_events "
            f"UNION ALL SELECT r.timestamp FROM {query_table} AS r WHERE r.organization_id = %s AND r.query_id IN "
            f"(SELECT query_id FROM ({events}) AS changed_events) "
            f"UNION ALL SELECT r.timestamp FROM {event_table} AS r WHERE r.organization_id = %s AND r.query_id IN "
            f"(SELECT query_id FROM ({queries}) AS changed_queries)"
        )
        sql = f"SELECT DISTINCT {dialects.truncated('moment', 'hour')} FROM ({moments}) AS moments"
        with connection.cursor() as cursor:
            cursor.execute(sql, [*query_params, *event_params, self.organization, *event_params, self.organization,
                                 *query_params])
            return sorted(_moment(hour) for (hour,) in cursor.fetchall())


# The query ids of the searches a refresh rebuilds, kept for the length of its transaction.
TOUCHED_SEARCHES = "analytics_touched_searches"


def _refresh_searches(organization_id, changed: _Changed) -> int:
    """Rebuild the search facts of the touched searches. Their ids are collected in a temporary table first, with
    its statistics: the planner, left to estimate the union of changed rows (and its joins of the gaps), expected
    hundreds of thousands and aggregated every click event of the organisation (3 s at 10 million events, for 1 %
    more searches), where probing the events of a thousand searches takes milliseconds."""
    query_ids, params = changed.query_ids()
    _execute(f"CREATE TEMPORARY TABLE {TOUCHED_SEARCHES} AS {query_ids}", params)
    if connection.vendor == "postgresql":
        _execute(f"ANALYZE {TOUCHED_SEARCHES}", [])
    touched = (f"SELECT query_id FROM {TOUCHED_SEARCHES}", [])
    _execute(f"DELETE FROM {SearchFact._meta.db_table} WHERE organization_id = %s AND query_id IN ({touched[0]})",
             [organization_parameter(organization_id)])
    written = _insert_searches(organization_id, touched)
    _execute(f"DROP TABLE {TOUCHED_SEARCHES}", [])
    return written


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


def _insert_counts(model, organization_id, within: Buckets | Scope | None) -> int:
    """Insert the counts of ``model`` (``RankHour`` or ``PairDay``) of the organisation's interactions in
    ``within``: some buckets, a scope of whole buckets, or ``None`` (all of them)."""
    field = _BUCKET_FIELD[model]
    buckets = within if isinstance(within, Buckets) else None
    if buckets is not None:
        scope = Scope(organization_id, buckets.starts[0], buckets.starts[-1] + _BUCKET_UNIT[model], None)
    else:
        scope = within or Scope(organization_id, None, None, None)
    keys = {field: dialects.truncated("timestamp", field), **{key: key for key in _KEYS[model]}}
    sql, params = counts_sql(scope, max_rank=ubi_settings.ANALYTICS_MAX_RANK, keys=keys,
                             user_queries=model is PairDay, buckets=buckets)
    columns = ", ".join([*keys, "impressions", "clicks"])
    return _execute(
        f"INSERT INTO {model._meta.db_table} (organization_id, {columns}) SELECT %s, {columns} FROM ({sql}) AS counts",
        [organization_parameter(organization_id), *params],
    )


_PAIR_TABLE = ((PairDay, "day"),)
_TABLES_BY_TIME = ((SearchFact, "timestamp"), (RankHour, "hour"), *_PAIR_TABLE)


def _delete_range(organization_id, start: datetime | None, end: datetime | None, *, tables=_TABLES_BY_TIME) -> None:
    """Delete the organisation's rows of ``tables`` (model, time field) in ``[start, end)``."""
    for model, field in tables:
        rows = model.objects.filter(organization_id=organization_id)
        if start is not None:
            rows = rows.filter(**{f"{field}__gte": start})
        if end is not None:
            rows = rows.filter(**{f"{field}__lt": end})
        rows.delete()


def _whole_days(start: datetime | None, end: datetime | None) -> dict:
    if start is not None:
        start = _moment(start).replace(hour=0, minute=0, second=0, microsecond=0)
    if end is not None:
        end = _moment(end)
        day = end.replace(hour=0, minute=0, second=0, microsecond=0)
        end = day if day == end else day + DAY
    return {"start": start, "end": end}


def _organization_id(value) -> uuid.UUID:
    """An organisation's id as raw SQL reads it (hex text on SQLite)."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


def _moment(value) -> datetime:
    """A UTC datetime from what the database gives for a timestamp (text on SQLite)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _execute(sql: str, params: list) -> int:
    with dialects.aggregate_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
