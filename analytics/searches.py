"""The searches of a scope, one row each with what its events say about it: the definition the search metrics
(``analytics.metrics``) stand on, materialised by the rollups (``analytics.rollups``, the ``SearchFact`` table).

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

from analytics import dialects
from analytics.interactions import is_rank, organization_parameter, scope_conditions
from analytics.models import action_names
from analytics.scope import Scope
from insights.models import Event, Query

MAX_ORDINAL = 2**31 - 1  # the first click's ordinal is any whole number from 1 that an INTEGER holds
# The columns of a search, as searches_sql gives them and SearchFact stores them.
COLUMNS = ("query_id", "timestamp", "application", "user_query", "hits", "clicks", "first_click_rank", "shown",
           "abandoned")


def searches_sql(scope: Scope, *, query_ids: tuple[str, list] | None = None) -> tuple[str, list]:
    """A SELECT of one row per search of ``scope`` (with ``query_ids``, a SELECT of query ids and its parameters:
    only those searches), as ``COLUMNS``: ``query_id``, ``timestamp``, ``application``, ``user_query``, ``hits``
    (the length of its hit ids, NULL without an array), ``clicks`` (its click events), ``first_click_rank``, and
    ``shown`` and ``abandoned`` (0 or 1); and its parameters.

    Only click events are aggregated; whether a search has an impression event, or any event, is one index probe
    of ``(organization, query_id)``, made only when its hit ids or its clicks have not already answered it."""
    actions = action_names(scope.organization_id)
    organization = organization_parameter(scope.organization_id)
    conditions, scope_params = scope_conditions("q", scope)
    if query_ids is not None:
        conditions += f" AND q.query_id IN ({query_ids[0]})"
        scope_params = [*scope_params, *query_ids[1]]
    ordinal = dialects.json_number("e.event_attributes", "position", "ordinal")
    hits = dialects.array_length("q.query_response_hit_ids")
    events = Event._meta.db_table
    any_event = (
        f"EXISTS (SELECT 1 FROM {events} AS a WHERE a.organization_id = q.organization_id "
        "AND a.query_id = q.query_id"
    )
    sql = (
        "SELECT q.query_id AS query_id, q.timestamp AS timestamp, q.application AS application, "
        f"q.user_query AS user_query, {hits} AS hits, "
        "COALESCE(clicked.clicks, 0) AS clicks, CAST(clicked.first_click_rank AS INTEGER) AS first_click_rank, "
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
