"""The search metrics of an organisation (docs/analytics.md), as the REST API and the dashboard show them.

Every selector checks ``insights:read``, reads only ``principal.org_id``'s rows, and takes ``filters``, the query
parameters as received: the scope's ``from``, ``to``, ``application`` (``analytics.scope``) and its own. A search
and what makes it clicked, shown, zero-result, zero-click or abandoned are ``analytics.searches``'; the selectors
refresh the rollups (``analytics.rollups``) and read the searches from them (``analytics.aggregates``). Each
answer is one aggregate statement computed by the database, so memory stays flat whatever the data. The
``*_of`` functions compute a figure from any SELECT of searches: the rollups' or the raw definition's.
"""

from datetime import UTC, datetime, timedelta

from django.db.models import Count
from django.db.models.functions import Trunc

from analytics import aggregates, dialects, rollups
from analytics.parameters import clean_max_rank
from analytics.scope import Scope, clean_scope
from insights.parameters import clean_choice, clean_integer
from insights.validation import Errors, format_timestamp
from oauth.principals import Principal, require_role
from project.conf import ubi_settings

READ_ROLE = "insights:read"
QUERY_TABLE_KINDS = ("top", "zero-result", "zero-click")
BUCKETS = {"day": timedelta(days=1), "hour": timedelta(hours=1), "week": timedelta(weeks=1)}
DEFAULT_QUERY_ROWS = 20
# The most points searches_over_time gives: a year of hours.
MAX_TIME_POINTS = 9000

# Per search, 0 or 1, over the columns of ``analytics.searches.searches_sql``.
_CLICKED = "CASE WHEN clicks > 0 THEN 1 ELSE 0 END"
_ZERO_RESULT = "CASE WHEN hits = 0 THEN 1 ELSE 0 END"
_ZERO_CLICK = "CASE WHEN clicks = 0 AND shown = 1 THEN 1 ELSE 0 END"
_RANKED = "CASE WHEN clicks > 0 OR shown = 1 THEN 1 ELSE 0 END"
_KIND_CONDITIONS = {"top": "1 = 1", "zero-result": "hits = 0", "zero-click": f"{_ZERO_CLICK} = 1"}


def summary(principal: Principal, *, filters: dict) -> dict:
    """The headline figures of the scope: searches, distinct user queries, and rates from 0 to 1 (0 without
    searches). ``meanReciprocalRank`` is the mean, over the searches shown or clicked, of 1 / the ordinal of the
    first click (0 for a search without a click at an ordinal)."""
    scope = _scope(principal, filters, Errors())
    return summary_of(aggregates.searches_sql(scope))


def summary_of(searches: tuple[str, list]) -> dict:
    """``summary`` of the searches a SELECT gives (``analytics.searches.COLUMNS``), with its parameters."""
    searches_sql, params = searches
    # Distinct by grouping (a hash), which PostgreSQL does several times faster than COUNT(DISTINCT) (a sort).
    distinct_sql = (
        f"SELECT COUNT(*) FROM (SELECT user_query FROM ({searches_sql}) AS searched "
        "GROUP BY user_query) AS distinct_queries"
    )
    sql = (
        f"SELECT COUNT(*), ({distinct_sql}), SUM({_CLICKED}), SUM({_ZERO_RESULT}), SUM({_ZERO_CLICK}), "
        f"SUM({_RANKED}), SUM(CASE WHEN first_click_rank IS NULL THEN 0 ELSE 1.0 / first_click_rank END), "
        f"SUM(abandoned) FROM ({searches_sql}) AS searches"
    )
    with dialects.aggregate_cursor() as cursor:
        cursor.execute(sql, [*params, *params])
        searches, distinct, clicked, zero_result, zero_click, ranked, reciprocal_ranks, abandoned = cursor.fetchone()
    return {
        "searches": searches,
        "distinctQueries": distinct,
        "ctr": _share(clicked, searches),
        "zeroResultRate": _share(zero_result, searches),
        "zeroClickRate": _share(zero_click, searches),
        "meanReciprocalRank": _share(reciprocal_ranks, ranked),
        "abandonmentRate": _share(abandoned, searches),
    }


def ctr_by_rank(principal: Principal, *, filters: dict) -> dict:
    """Impressions, clicks and their ratio at each rank from 1 to ``maxRank`` (default 20), across all searches
    (``analytics.interactions.rank_counts``)."""
    errors = Errors()
    max_rank = clean_max_rank(filters, errors)
    scope = _scope(principal, filters, errors)
    return {
        "ranks": [
            {"rank": row.rank, "impressions": row.impressions, "clicks": row.clicks,
             "ctr": _share(row.clicks, row.impressions)}
            for row in aggregates.rank_counts(scope, max_rank=max_rank)
        ]
    }


def query_table(principal: Principal, *, filters: dict) -> dict:
    """The user queries with the most searches of ``kind``: ``top`` (every search), ``zero-result`` or
    ``zero-click``; at most ``limit`` (default 20) rows, most searches first, then by query. Per row, over those
    searches: ``searches``, ``clicks`` (click events) and ``ctr`` (the share of them with a click)."""
    errors = Errors()
    kind = clean_choice(filters, "kind", choices=QUERY_TABLE_KINDS, errors=errors)
    limit = clean_integer(filters, "limit", default=DEFAULT_QUERY_ROWS, maximum=ubi_settings.ANALYTICS_MAX_QUERY_ROWS,
                          errors=errors)
    scope = _scope(principal, filters, errors)
    return {"kind": kind, "queries": query_table_of(aggregates.searches_sql(scope), kind=kind, limit=limit)}


def query_table_of(searches: tuple[str, list], *, kind: str, limit: int) -> list[dict]:
    """The rows of ``query_table`` from the searches a SELECT gives, with its parameters."""
    searches_sql, params = searches
    sql = (
        f"SELECT user_query, COUNT(*) AS searches, SUM(clicks), SUM({_CLICKED}) FROM ({searches_sql}) AS searches "
        f"WHERE {_KIND_CONDITIONS[kind]} GROUP BY user_query ORDER BY searches DESC, user_query LIMIT %s"
    )
    with dialects.aggregate_cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        rows = cursor.fetchall()
    return [
        {"query": query, "searches": searches, "clicks": int(clicks), "ctr": _share(clicked, searches)}
        for query, searches, clicks, clicked in rows
    ]


def searches_over_time(principal: Principal, *, filters: dict) -> dict:
    """Searches per ``bucket`` (``day``, ``hour`` or ``week`` from Monday; UTC), oldest first, every bucket between
    included, 0 where there was none. The points span the buckets of ``from`` and ``to`` when they are given (so a
    chart shows the whole range asked for), else the first and the last bucket with a search; at most
    ``MAX_TIME_POINTS`` of them."""
    errors = Errors()
    bucket = clean_choice(filters, "bucket", choices=tuple(BUCKETS), errors=errors)
    scope = _scope(principal, filters, errors)
    step = BUCKETS[bucket]
    first = _bucket_start(scope.start, bucket) if scope.start is not None else None
    last = _bucket_start(scope.end - timedelta(microseconds=1), bucket) if scope.end is not None else None
    if first is not None and last is not None and (last - first) // step >= MAX_TIME_POINTS:
        errors.add("bucket", f"From {filters['from']} to {filters['to']} holds more than {MAX_TIME_POINTS} "
                             f"{bucket} buckets; choose a larger bucket or a shorter range.")
        errors.raise_if_any()
    counts = search_counts_of(aggregates.search_rows(scope), bucket=bucket)
    return {"bucket": bucket, "points": list(_with_empty_buckets(counts, step, first=first, last=last))}


def search_counts_of(searches, *, bucket: str):
    """``(bucket start, searches)`` of a queryset of searches (with a ``timestamp``), oldest first, buckets with
    a search only."""
    return (
        searches.annotate(start=Trunc("timestamp", bucket, tzinfo=UTC))
        .values("start")
        .annotate(searches=Count("id"))
        .order_by("start")
        .values_list("start", "searches")
    )


def _scope(principal: Principal, filters: dict, errors: Errors) -> Scope:
    """Checks the role, then the scope; raises every error of ``errors`` and the scope's together."""
    require_role(principal, READ_ROLE)
    scope = clean_scope(principal.org_id, filters, errors)
    errors.raise_if_any()
    rollups.refresh(pairs=False)  # the metrics read no pair counts
    return scope


def _with_empty_buckets(counts, step: timedelta, *, first: datetime | None, last: datetime | None):
    expected = first
    for start, searches in counts:
        start = _utc(start)
        while expected is not None and expected < start:
            yield {"start": format_timestamp(expected), "searches": 0}
            expected += step
        yield {"start": format_timestamp(start), "searches": searches}
        expected = start + step
    while expected is not None and last is not None and expected <= last:
        yield {"start": format_timestamp(expected), "searches": 0}
        expected += step


def _bucket_start(moment: datetime, bucket: str) -> datetime:
    """The start of the UTC ``bucket`` holding ``moment``, as the database's ``Trunc`` gives it."""
    moment = _utc(moment)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if bucket == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    return day


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _share(part, whole) -> float:
    return round(float(part) / whole, 6) if whole else 0.0
