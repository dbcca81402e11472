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

from django.db import connection
from django.db.models import Count
from django.db.models.functions import Trunc

from analytics import dialects
from analytics.interactions import organization_parameter, rank_counts, scope_conditions
from analytics.models import action_names
from analytics.parameters import clean_choice, clean_integer, clean_max_rank
from analytics.scope import Scope, clean_scope
from insights.models import Event, Query
from insights.validation import Errors
from oauth.principals import Principal, require_role
from project.conf import ubi_settings

READ_ROLE = "insights:read"
QUERY_TABLE_KINDS = ("top", "zero-result", "zero-click")
BUCKETS = {"day": timedelta(days=1), "hour": timedelta(hours=1), "week": timedelta(weeks=1)}
DEFAULT_QUERY_ROWS = 20

# Per search, 0 or 1, over the columns of ``_searches_sql``.
_CLICKED = "CASE WHEN clicks > 0 THEN 1 ELSE 0 END"
_SHOWN = "CASE WHEN impression_events > 0 OR hits > 0 THEN 1 ELSE 0 END"
_ZERO_RESULT = "CASE WHEN hits = 0 THEN 1 ELSE 0 END"
_ZERO_CLICK = "CASE WHEN clicks = 0 AND (impression_events > 0 OR hits > 0) THEN 1 ELSE 0 END"
_RANKED = "CASE WHEN clicks > 0 OR impression_events > 0 OR hits > 0 THEN 1 ELSE 0 END"
_ABANDONED = "CASE WHEN events = 0 THEN 1 ELSE 0 END"
_KIND_CONDITIONS = {"top": "1 = 1", "zero-result": "hits = 0", "zero-click": f"{_ZERO_CLICK} = 1"}


def summary(principal: Principal, *, filters: dict) -> dict:
    """The headline figures of the scope: searches, distinct user queries, and rates from 0 to 1 (0 without
    searches). ``meanReciprocalRank`` is the mean, over the searches shown or clicked, of 1 / the ordinal of the
    first click (0 for a search without a click at an ordinal)."""
    scope = _scope(principal, filters, Errors())
    searches_sql, params = _searches_sql(scope)
    sql = (
        f"SELECT COUNT(*), COUNT(DISTINCT user_query), SUM({_CLICKED}), SUM({_ZERO_RESULT}), SUM({_ZERO_CLICK}), "
        f"SUM({_RANKED}), SUM(CASE WHEN first_click_rank IS NULL THEN 0 ELSE 1.0 / first_click_rank END), "
        f"SUM({_ABANDONED}) FROM ({searches_sql}) AS searches"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
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
    with connection.cursor() as cursor:
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
    """Searches per ``bucket`` (``day``, ``hour`` or ``week`` from Monday; UTC), oldest first, from the first
    bucket with a search to the last, the buckets between with none included as 0."""
    errors = Errors()
    bucket = clean_choice(filters, "bucket", choices=tuple(BUCKETS), errors=errors)
    scope = _scope(principal, filters, errors)
    counts = (
        _scoped_queries(scope)
        .annotate(start=Trunc("timestamp", bucket, tzinfo=UTC))
        .values("start")
        .annotate(searches=Count("id"))
        .order_by("start")
        .values_list("start", "searches")
    )
    return {"bucket": bucket, "points": list(_with_empty_buckets(counts, BUCKETS[bucket]))}


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
    without an array), and of its events ``clicks``, ``impression_events``, ``events`` and ``first_click_rank``."""
    actions = action_names(scope.organization_id)
    organization = organization_parameter(scope.organization_id)
    conditions, scope_params = scope_conditions("q", scope)
    ordinal = dialects.json_integer("e.event_attributes", "position", "ordinal")
    sql = (
        "SELECT q.user_query AS user_query, "
        f"{dialects.array_length('q.query_response_hit_ids')} AS hits, "
        "COALESCE(activity.clicks, 0) AS clicks, COALESCE(activity.impression_events, 0) AS impression_events, "
        "COALESCE(activity.events, 0) AS events, activity.first_click_rank AS first_click_rank "
        f"FROM {Query._meta.db_table} AS q LEFT JOIN ("
        "SELECT e.query_id AS query_id, COUNT(*) AS events, "
        "SUM(CASE WHEN e.action_name = %s THEN 1 ELSE 0 END) AS clicks, "
        "SUM(CASE WHEN e.action_name = %s THEN 1 ELSE 0 END) AS impression_events, "
        f"MIN(CASE WHEN e.action_name = %s AND {ordinal} >= 1 THEN {ordinal} END) AS first_click_rank "
        f"FROM {Event._meta.db_table} AS e WHERE e.organization_id = %s AND e.query_id IN ("
        f"SELECT q.query_id FROM {Query._meta.db_table} AS q WHERE q.organization_id = %s{conditions}) "
        "GROUP BY e.query_id"
        ") AS activity ON activity.query_id = q.query_id "
        f"WHERE q.organization_id = %s{conditions}"
    )
    params = [actions.click, actions.impression, actions.click, organization, organization, *scope_params,
              organization, *scope_params]
    return sql, params


def _with_empty_buckets(counts, step: timedelta):
    expected = None
    for start, searches in counts:
        start = _utc(start)
        while expected is not None and expected < start:
            yield {"start": _iso(expected), "searches": 0}
            expected += step
        yield {"start": _iso(start), "searches": searches}
        expected = start + step


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _share(part, whole) -> float:
    return round(float(part) / whole, 6) if whole else 0.0
