"""The search metrics of an organisation (docs/analytics.md), as the REST API and the dashboard show them.

Every selector checks ``insights:read``, reads only ``principal.org_id``'s rows, and takes ``filters``, the query
parameters as received: the scope's ``from``, ``to``, ``application`` (``analytics.scope``) and its own. Each
answer is one aggregate statement computed by the database, so memory stays flat whatever the data.

A **search** is a tracked query whose timestamp and application are in the scope. Its events are those carrying
its ``query_id``, whenever they happened (a click a second after ``to`` still belongs to its search):

- *clicked*: it has a click event (any ordinal); *its first click* is its click with the lowest integral
  ordinal of at least 1;
- *shown*: it has an impression event or a non-empty ``query_response_hit_ids`` (its impressions, as
  ``analytics.interactions`` defines them);
- *zero-result*: its ``query_response_hit_ids`` is an empty array (absent hit ids say nothing);
- *zero-click*: shown and not clicked;
- *abandoned*: it has no event at all.
"""

from datetime import UTC, datetime, timedelta

from django.db.models import Count
from django.db.models.functions import Trunc

from analytics import dialects
from analytics.interactions import is_rank, organization_parameter, rank_counts, scope_conditions
from analytics.models import action_names
from analytics.parameters import clean_max_rank
from analytics.scope import Scope, clean_scope
from insights.models import Event, Query
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
MAX_ORDINAL = 2**31 - 1  # the first click's ordinal is any whole number from 1 that an INTEGER holds

# Per search, 0 or 1, over the columns of ``_searches_sql``.
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
    searches_sql, params = _searches_sql(scope)
    conditions, scope_params = scope_conditions("q", scope)
    # Distinct by grouping (a hash), which PostgreSQL does several times faster than COUNT(DISTINCT) (a sort).
    distinct_sql = (
        f"SELECT COUNT(*) FROM (SELECT q.user_query FROM {Query._meta.db_table} AS q "
        f"WHERE q.organization_id = %s{conditions} GROUP BY q.user_query) AS distinct_queries"
    )
    sql = (
        f"SELECT COUNT(*), ({distinct_sql}), SUM({_CLICKED}), SUM({_ZERO_RESULT}), SUM({_ZERO_CLICK}), "
        f"SUM({_RANKED}), SUM(CASE WHEN first_click_rank IS NULL THEN 0 ELSE 1.0 / first_click_rank END), "
        f"SUM(abandoned) FROM ({searches_sql}) AS searches"
    )
    with dialects.aggregate_cursor() as cursor:
        cursor.execute(sql, [organization_parameter(scope.organization_id), *scope_params, *params])
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
            for row in rank_counts(scope, max_rank=max_rank)
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
    searches_sql, params = _searches_sql(scope)
    sql = (
        f"SELECT user_query, COUNT(*) AS searches, SUM(clicks), SUM({_CLICKED}) FROM ({searches_sql}) AS searches "
        f"WHERE {_KIND_CONDITIONS[kind]} GROUP BY user_query ORDER BY searches DESC, user_query LIMIT %s"
    )
    with dialects.aggregate_cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        rows = cursor.fetchall()
    return {
        "kind": kind,
        "queries": [
            {"query": query, "searches": searches, "clicks": int(clicks), "ctr": _share(clicked, searches)}
            for query, searches, clicks, clicked in rows
        ],
    }


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
    counts = (
        _scoped_queries(scope)
        .annotate(start=Trunc("timestamp", bucket, tzinfo=UTC))
        .values("start")
        .annotate(searches=Count("id"))
        .order_by("start")
        .values_list("start", "searches")
    )
    return {"bucket": bucket, "points": list(_with_empty_buckets(counts, step, first=first, last=last))}


def _scope(principal: Principal, filters: dict, errors: Errors) -> Scope:
    """Checks the role, then the scope; raises every error of ``errors`` and the scope's together."""
    require_role(principal, READ_ROLE)
    scope = clean_scope(principal.org_id, filters, errors)
    errors.raise_if_any()
    return scope


def _scoped_queries(scope: Scope):
    queries = Query.objects.filter(organization_id=scope.organization_id)
    if scope.start is not None:
        queries = queries.filter(timestamp__gte=scope.start)
    if scope.end is not None:
        queries = queries.filter(timestamp__lt=scope.end)
    if scope.application is not None:
        queries = queries.filter(application=scope.application)
    return queries


def _searches_sql(scope: Scope) -> tuple[str, list]:
    """A SELECT of one row per search of ``scope``: ``user_query``, ``hits`` (the length of its hit ids, NULL
    without an array), ``clicks`` (its click events), ``first_click_rank``, and ``shown`` and ``abandoned`` (0 or 1).

    Only click events are aggregated; whether a search has an impression event, or any event, is one index probe
    of ``(organization, query_id)``, made only when its hit ids or its clicks have not already answered it."""
    actions = action_names(scope.organization_id)
    organization = organization_parameter(scope.organization_id)
    conditions, scope_params = scope_conditions("q", scope)
    ordinal = dialects.json_number("e.event_attributes", "position", "ordinal")
    hits = dialects.array_length("q.query_response_hit_ids")
    events = Event._meta.db_table
    any_event = (
        f"EXISTS (SELECT 1 FROM {events} AS a WHERE a.organization_id = q.organization_id "
        "AND a.query_id = q.query_id"
    )
    sql = (
        f"SELECT q.user_query AS user_query, {hits} AS hits, "
        "COALESCE(clicked.clicks, 0) AS clicks, clicked.first_click_rank AS first_click_rank, "
        f"CASE WHEN {hits} > 0 THEN 1 WHEN {any_event} AND a.action_name = %s) THEN 1 ELSE 0 END AS shown, "
        f"CASE WHEN clicked.clicks > 0 THEN 0 WHEN {any_event}) THEN 0 ELSE 1 END AS abandoned "
        f"FROM {Query._meta.db_table} AS q LEFT JOIN ("
        "SELECT e.query_id AS query_id, COUNT(*) AS clicks, "
        f"MIN(CASE WHEN {is_rank(ordinal, str(MAX_ORDINAL))} THEN {ordinal} END) AS first_click_rank "
        f"FROM {events} AS e WHERE e.organization_id = %s AND e.action_name = %s AND e.query_id IN ("
        f"SELECT q.query_id FROM {Query._meta.db_table} AS q WHERE q.organization_id = %s{conditions}) "
        "GROUP BY e.query_id"
        ") AS clicked ON clicked.query_id = q.query_id "
        f"WHERE q.organization_id = %s{conditions}"
    )
    params = [actions.impression, organization, actions.click, organization, *scope_params, organization,
              *scope_params]
    return sql, params


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
