"""The reads of the rollups (``analytics.rollups``): the figures of ``analytics.searches`` and
``analytics.interactions`` for a scope, from the rollup tables, as the raw definitions give them.

A search's row is read from ``SearchFact`` by its own timestamp, so any ``[from, to)`` is exact. The counts are
additive over disjoint time ranges: the whole hours (``RankHour``) or days (``PairDay``) inside the scope come from
the table, the partial ones at its edges from the raw rows (``interactions.counts_sql``), summed in one statement.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from django.db import connection

from analytics import interactions
from analytics.interactions import PAIR_KEYS, PairRankCount, PairTotal, RankCount, organization_parameter
from analytics.models import PairDay, RankHour, SearchFact
from analytics.scope import Scope
from analytics.searches import COLUMNS

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def searches_sql(scope: Scope) -> tuple[str, list]:
    """``analytics.searches.searches_sql`` of ``scope``, from the search facts."""
    conditions, params = interactions.scope_conditions("f", scope)
    return (
        f"SELECT {', '.join(f'f.{column}' for column in COLUMNS)} FROM {SearchFact._meta.db_table} AS f "
        f"WHERE f.organization_id = %s{conditions}",
        [organization_parameter(scope.organization_id), *params],
    )


def search_rows(scope: Scope):
    """The search facts of ``scope``, a queryset."""
    return scope.filtered(SearchFact.objects.filter(organization_id=scope.organization_id))


def rank_counts(scope: Scope, *, max_rank: int) -> list[RankCount]:
    """``interactions.rank_counts``, from the rank hours."""
    keys = {"rank": "rank"}
    return interactions.rank_totals(
        _counts(RankHour, "hour", HOUR, scope, max_rank=max_rank, keys=keys, user_queries=False), max_rank=max_rank
    )


def pair_rank_counts(scope: Scope, *, max_rank: int) -> Iterator[PairRankCount]:
    """``interactions.pair_rank_counts``, from the pair days."""
    return interactions.pair_rank_totals(_counts(PairDay, "day", DAY, scope, max_rank=max_rank, keys=PAIR_KEYS))


def pair_totals(scope: Scope, *, max_rank: int) -> Iterator[PairTotal]:
    """``interactions.pair_totals``, from the pair days."""
    return interactions.pair_totals_of(_counts(PairDay, "day", DAY, scope, max_rank=max_rank, keys=PAIR_KEYS))


def _counts(model, field: str, unit: timedelta, scope: Scope, *, max_rank: int, keys: dict,
            user_queries: bool = True) -> tuple[str, list]:
    """A SELECT of rows ``(*keys, impressions, clicks)`` of ``scope``: the whole buckets from ``model``'s table,
    the edges from the raw rows; the same key may come several times (the caller sums)."""
    first = _ceiling(scope.start, unit) if scope.start is not None else None
    last = _floor(scope.end, unit) if scope.end is not None else None
    if first is not None and last is not None and first >= last:
        return interactions.counts_sql(scope, max_rank=max_rank, keys=keys, user_queries=user_queries)
    conditions, params = ["r.organization_id = %s", "r.rank <= %s"], [
        organization_parameter(scope.organization_id), max_rank
    ]
    for bound, operator in ((first, ">="), (last, "<")):
        if bound is not None:
            conditions.append(f"r.{field} {operator} %s")
            params.append(connection.ops.adapt_datetimefield_value(bound))
    if scope.application is not None:
        conditions.append("r.application = %s")
        params.append(scope.application)
    parts = [
        f"SELECT {', '.join(keys)}, impressions, clicks FROM {model._meta.db_table} AS r "
        f"WHERE {' AND '.join(conditions)}"
    ]
    edges = []
    if first is not None and scope.start < first:
        edges.append(Scope(scope.organization_id, scope.start, first, scope.application))
    if last is not None and last < scope.end:
        edges.append(Scope(scope.organization_id, last, scope.end, scope.application))
    for edge in edges:
        sql, edge_params = interactions.counts_sql(edge, max_rank=max_rank, keys=keys, user_queries=user_queries)
        parts.append(sql)
        params.extend(edge_params)
    return " UNION ALL ".join(parts), params


def _floor(moment: datetime, unit: timedelta) -> datetime:
    moment = moment.astimezone(UTC)
    hour = moment.replace(minute=0, second=0, microsecond=0)
    return hour if unit == HOUR else hour.replace(hour=0)


def _ceiling(moment: datetime, unit: timedelta) -> datetime:
    floor = _floor(moment, unit)
    return floor if floor == moment else floor + unit
