"""Hand-made UBI data for the analytics tests, tracked through the real ingestion services."""

import uuid

from insights import services
from oauth.principals import Principal, principal_from_bearer
from tests.support import factories

DAY = "2026-03-02"


def tracker(org) -> Principal:
    """The principal of a new app client of ``org`` that may read and write UBI data."""
    return principal_from_bearer(factories.bearer_for(factories.make_client(org).client))


def at(clock: str, day: str = DAY) -> str:
    """An ISO 8601 UTC timestamp on ``day`` at ``clock`` (``"10:00"``)."""
    return f"{day}T{clock}:00Z"


def track_query(principal, user_query: str, *, hit_ids=None, query_id=None, when="10:00", **fields) -> str:
    """Track a search and return its ``query_id``; ``hit_ids`` become its ``query_response_hit_ids``."""
    query = {
        "query_id": query_id or str(uuid.uuid4()),
        "user_query": user_query,
        "application": "shop",
        "timestamp": at(when),
        **fields,
    }
    if hit_ids is not None:
        query["query_response_hit_ids"] = list(hit_ids)
    return services.track_query(principal, query=query)


def interaction(action: str, query_id: str | None, object_id: str, ordinal, *, when="10:01", **fields) -> dict:
    """An event document of ``action`` on ``object_id`` shown at ``ordinal`` of the search ``query_id``."""
    event = {
        "action_name": action,
        "application": "shop",
        "timestamp": at(when),
        "event_attributes": {"object": {"object_id": object_id}, "position": {"ordinal": ordinal}},
        **fields,
    }
    if query_id is not None:
        event["query_id"] = query_id
    return event


def track_events(principal, *events: dict) -> None:
    services.track_events(principal, events=list(events))
