"""The impressions and clicks of a scope: the one place that knows how UBI data says what was shown and clicked.

- An **impression** is an event whose ``action_name`` is the organisation's impression action, at
  ``event_attributes.position.ordinal`` of ``event_attributes.object.object_id``. A query with no impression event
  at all (in any time range) has its ``query_response_hit_ids`` as impressions instead, at ordinal index + 1:
  many sites never log impressions.
- A **click** is an event whose ``action_name`` is the click action, with an ordinal and an object id likewise.
- The **user query** of an event is its own ``user_query``, else its query's (through ``query_id``); its
  **search** is its ``query_id``.
- Only integral ordinals (JSON numbers) from 1 to ``max_rank`` count, and only rows with an object id.

The scope bounds each row by its own timestamp and application: an event's for events, the query's for the
impressions taken from its hit ids. Every figure is computed by the database, one statement per call; the rows of
``pair_rank_counts`` and ``search_results`` are streamed from a server-side cursor where the database has them.
"""

from collections.abc import Iterator
from typing import NamedTuple

from django.db import connection

from accounts.models import Organization
from analytics import dialects
from analytics.models import action_names
from analytics.scope import Scope
from insights.models import Event, Query

IMPRESSION = "impression"
CLICK = "click"
# Rows fetched from the database at a time by the streamed reads.
CHUNK_SIZE = 2000


class Buckets(NamedTuple):
    """UTC hours or days (``unit``), by their starts."""

    unit: str
    starts: list


class RankCount(NamedTuple):
    rank: int
    impressions: int
    clicks: int


class PairRankCount(NamedTuple):
    user_query: str
    object_id: str
    rank: int
    impressions: int
    clicks: int


class PairTotal(NamedTuple):
    """The impressions and clicks of one (user query, object id) at every rank, and the best (lowest) rank it has
    either at."""

    user_query: str
    object_id: str
    impressions: int
    clicks: int
    best_rank: int


class SearchResult(NamedTuple):
    search_id: str
    user_query: str
    object_id: str
    rank: int
    clicked: bool


# The keys of the pair counts: a (user query, object id) at a rank.
PAIR_KEYS = {"user_query": "user_query", "object_id": "object_id", "rank": "rank"}


def rank_counts(scope: Scope, *, max_rank: int) -> list[RankCount]:
    """Impressions and clicks at each rank from 1 to ``max_rank``, ranks with neither included as zeros."""
    return rank_totals(counts_sql(scope, max_rank=max_rank, keys={"rank": "rank"}, user_queries=False),
                       max_rank=max_rank)


def pair_rank_counts(scope: Scope, *, max_rank: int) -> Iterator[PairRankCount]:
    """Impressions and clicks of each (user query, object id, rank), ordered by user query, object id and rank."""
    return pair_rank_totals(counts_sql(scope, max_rank=max_rank, keys=PAIR_KEYS))


def pair_totals(scope: Scope, *, max_rank: int) -> Iterator[PairTotal]:
    """The totals of each (user query, object id) over ranks 1 to ``max_rank``, ordered by user query and object
    id."""
    return pair_totals_of(counts_sql(scope, max_rank=max_rank, keys=PAIR_KEYS))


def counts_sql(
    scope: Scope, *, max_rank: int, keys: dict[str, str], user_queries: bool = True, buckets: Buckets | None = None
) -> tuple[str, list]:
    """A SELECT of the impressions and clicks of ``interactions_sql``'s rows grouped by ``keys`` (column name:
    SQL expression over those rows), as rows ``(*keys, impressions, clicks)``, and its parameters."""
    sql, params = interactions_sql(scope, max_rank=max_rank, user_queries=user_queries, buckets=buckets)
    columns = ", ".join(f"{expression} AS {name}" for name, expression in keys.items())
    grouped = ", ".join(keys.values())
    counted = (
        f"SELECT {columns}, {_count_of(IMPRESSION)} AS impressions, {_count_of(CLICK)} AS clicks "
        f"FROM ({sql}) AS interactions GROUP BY {grouped}"
    )
    return counted, params


def rank_totals(counts: tuple[str, list], *, max_rank: int) -> list[RankCount]:
    """``rank_counts`` of a SELECT of rows ``(rank, impressions, clicks)`` with ranks up to ``max_rank``, summed by
    rank."""
    sql, params = counts
    totals = f"SELECT rank, SUM(impressions), SUM(clicks) FROM ({sql}) AS counts GROUP BY rank"
    with dialects.aggregate_cursor() as cursor:
        cursor.execute(totals, params)
        found = {rank: RankCount(rank, int(shown), int(clicked)) for rank, shown, clicked in cursor.fetchall()}
    return [found.get(rank, RankCount(rank, 0, 0)) for rank in range(1, max_rank + 1)]


def pair_rank_totals(counts: tuple[str, list]) -> Iterator[PairRankCount]:
    """``pair_rank_counts`` of a SELECT of rows ``(user_query, object_id, rank, impressions, clicks)``."""
    sql, params = _pair_sums(counts)
    ordered = f"SELECT * FROM ({sql}) AS pairs WHERE user_query IS NOT NULL ORDER BY user_query, object_id, rank"
    for user_query, object_id, rank, impressions, clicks in _streamed(ordered, params):
        yield PairRankCount(user_query, object_id, rank, int(impressions), int(clicks))


def pair_totals_of(counts: tuple[str, list]) -> Iterator[PairTotal]:
    """``pair_totals`` of a SELECT of rows ``(user_query, object_id, rank, impressions, clicks)``, in one
    aggregation. Each of those rows has an impression or a click (it groups some), so the best rank is the least."""
    sql, params = counts
    totals = (
        "SELECT user_query, object_id, SUM(impressions), SUM(clicks), MIN(rank) "
        f"FROM ({sql}) AS counts WHERE user_query IS NOT NULL "
        "GROUP BY user_query, object_id ORDER BY user_query, object_id"
    )
    for user_query, object_id, impressions, clicks, best_rank in _streamed(totals, params):
        yield PairTotal(user_query, object_id, int(impressions), int(clicks), best_rank)


def _pair_sums(counts: tuple[str, list]) -> tuple[str, list]:
    sql, params = counts
    return (
        "SELECT user_query, object_id, rank, SUM(impressions) AS impressions, SUM(clicks) AS clicks "
        f"FROM ({sql}) AS counts GROUP BY user_query, object_id, rank",
        params,
    )


def search_results(scope: Scope, *, max_rank: int) -> Iterator[SearchResult]:
    """One row per impression of a search (``query_id``), ordered by search and rank; ``clicked`` says whether
    the search has a click on that object (at any rank up to ``max_rank``). Repeated impressions of one object at
    one rank of a search are one row."""
    sql, params = interactions_sql(scope, max_rank=max_rank)
    results = (
        f"WITH interactions AS ({sql}) "
        "SELECT shown.search_id, MIN(shown.user_query), shown.object_id, shown.rank, "
        "MAX(CASE WHEN clicked.object_id IS NULL THEN 0 ELSE 1 END) "
        "FROM interactions AS shown "
        "LEFT JOIN (SELECT DISTINCT search_id, object_id FROM interactions "
        f"WHERE kind = '{CLICK}' AND search_id IS NOT NULL) AS clicked "
        "ON clicked.search_id = shown.search_id AND clicked.object_id = shown.object_id "
        f"WHERE shown.kind = '{IMPRESSION}' AND shown.search_id IS NOT NULL AND shown.user_query IS NOT NULL "
        "GROUP BY shown.search_id, shown.object_id, shown.rank ORDER BY shown.search_id, shown.rank, shown.object_id"
    )
    for search_id, user_query, object_id, rank, clicked in _streamed(results, params):
        yield SearchResult(search_id, user_query, object_id, rank, bool(clicked))


def interactions_sql(
    scope: Scope, *, max_rank: int, user_queries: bool = True, buckets: Buckets | None = None
) -> tuple[str, list]:
    """A SELECT of every impression and click of ``scope`` with a rank from 1 to ``max_rank``, as rows
    ``(kind, search_id, user_query, object_id, rank, application, timestamp)`` (``kind`` is ``'impression'`` or
    ``'click'``; the application and timestamp the scope bounds the row by), and its parameters: the one definition
    the counts above, the metrics and the rollups (``analytics.rollups``) build on. Without ``user_queries``, an
    event's ``user_query`` is NULL, which spares a join for the counts that do not need it. With ``buckets``, only
    the rows whose timestamp falls in one of those buckets."""
    actions = action_names(scope.organization_id)
    organization = organization_parameter(scope.organization_id)
    shown, shown_params = _events_sql(IMPRESSION, actions.impression, scope, buckets, organization, user_queries)
    hits, hit_params = _hit_ids_sql(actions.impression, scope, buckets, organization)
    clicked, click_params = _events_sql(CLICK, actions.click, scope, buckets, organization, user_queries)
    branches = " UNION ALL ".join(
        f"SELECT * FROM {dialects.evaluated_once(branch, name)}"
        for branch, name in ((shown, "shown"), (hits, "hits"), (clicked, "clicked"))
    )
    sql = (
        "SELECT kind, search_id, user_query, object_id, CAST(rank AS INTEGER) AS rank, application, timestamp "
        f"FROM ({branches}) AS found WHERE object_id IS NOT NULL AND {is_rank('rank', '%s')}"
    )
    return sql, [*shown_params, *hit_params, *click_params, max_rank]


def is_rank(number: str, maximum: str) -> str:
    """A condition: the SQL ``number`` is a whole number from 1 to ``maximum``. The range is checked first, so
    the cast that tests wholeness never overflows."""
    return f"CASE WHEN {number} >= 1 AND {number} <= {maximum} THEN {number} = CAST({number} AS INTEGER) ELSE 1 = 0 END"


def organization_parameter(organization_id):
    """The organisation's id as the database compares it in raw SQL (a UUID, or hex text on SQLite)."""
    return Organization._meta.pk.get_db_prep_value(organization_id, connection)


def scope_conditions(alias: str, scope: Scope) -> tuple[str, list]:
    """``AND`` conditions on the timestamp and application of the rows of table ``alias``, and their parameters
    (the organisation is the caller's)."""
    conditions, params = [], []
    if scope.start is not None:
        conditions.append(f" AND {alias}.timestamp >= %s")
        params.append(connection.ops.adapt_datetimefield_value(scope.start))
    if scope.end is not None:
        conditions.append(f" AND {alias}.timestamp < %s")
        params.append(connection.ops.adapt_datetimefield_value(scope.end))
    if scope.application is not None:
        conditions.append(f" AND {alias}.application = %s")
        params.append(scope.application)
    return "".join(conditions), params


def bucket_conditions(alias: str, scope: Scope, buckets: Buckets | None) -> tuple[str, list]:
    """``scope_conditions``, and with ``buckets`` the condition that the row's timestamp is in one of them."""
    conditions, params = scope_conditions(alias, scope)
    if buckets is None:
        return conditions, params
    within, within_params = dialects.one_of(dialects.truncated(f"{alias}.timestamp", buckets.unit), buckets.starts)
    return f"{conditions} AND {within}", [*params, *within_params]


def _events_sql(
    kind: str, action: str, scope: Scope, buckets: Buckets | None, organization, user_queries: bool
) -> tuple[str, list]:
    conditions, params = bucket_conditions("e", scope, buckets)
    if user_queries:
        user_query = "COALESCE(e.user_query, q.user_query)"
        joined = (
            f"LEFT JOIN {Query._meta.db_table} AS q "
            "ON q.organization_id = e.organization_id AND q.query_id = e.query_id "
        )
    else:
        user_query, joined = "NULL", ""
    sql = (
        f"SELECT '{kind}' AS kind, e.query_id AS search_id, {user_query} AS user_query, "
        f"{dialects.json_text('e.event_attributes', 'object', 'object_id')} AS object_id, "
        f"{dialects.json_number('e.event_attributes', 'position', 'ordinal')} AS rank, "
        "e.application AS application, e.timestamp AS timestamp "
        f"FROM {Event._meta.db_table} AS e {joined}"
        f"WHERE e.organization_id = %s AND e.action_name = %s{conditions}"
    )
    return sql, [organization, action, *params]


def _hit_ids_sql(impression_action: str, scope: Scope, buckets: Buckets | None, organization) -> tuple[str, list]:
    conditions, params = bucket_conditions("q", scope, buckets)
    elements, element, position = dialects.array_elements("q.query_response_hit_ids", "hit")
    sql = (
        f"SELECT '{IMPRESSION}' AS kind, q.query_id AS search_id, q.user_query AS user_query, "
        f"{element} AS object_id, {position} AS rank, q.application AS application, q.timestamp AS timestamp "
        f"FROM {Query._meta.db_table} AS q {elements} "
        f"WHERE q.organization_id = %s{conditions} AND NOT EXISTS (SELECT 1 FROM {Event._meta.db_table} AS s "
        "WHERE s.organization_id = q.organization_id AND s.query_id = q.query_id AND s.action_name = %s)"
    )
    return sql, [organization, *params, impression_action]


def _count_of(kind: str) -> str:
    return f"SUM(CASE WHEN kind = '{kind}' THEN 1 ELSE 0 END)"


def _streamed(sql: str, params: list) -> Iterator[tuple]:
    """The rows of a SELECT, fetched ``CHUNK_SIZE`` at a time (a server-side cursor on PostgreSQL)."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(CHUNK_SIZE):
            yield from rows
