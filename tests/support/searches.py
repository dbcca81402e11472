"""Hand-made searches for the analytics tests, tracked through the real services by an app client's principal."""

import datetime
import uuid

from insights import services
from oauth.principals import Principal, principal_from_bearer
from tests.support import factories


def writer(org) -> Principal:
    """The principal of a new app client of ``org`` holding both insights roles, as its bearer token proves it."""
    return principal_from_bearer(factories.bearer_for(factories.make_client(org).client))


def track_search(
    principal: Principal,
    *,
    user_query: str,
    at: datetime.datetime,
    hits: list[str],
    clicks: tuple[str, ...] = (),
    application: str = "shop",
) -> str:
    """One search of ``user_query`` at ``at`` that returned ``hits`` (no impression events: ranks are the hits'
    places), and a click a minute later on each of ``clicks``, at its rank. Returns the query id."""
    query_id = str(uuid.uuid4())
    services.track_query(
        principal,
        query={
            "query_id": query_id,
            "user_query": user_query,
            "application": application,
            "timestamp": at.isoformat(),
            "query_response_hit_ids": hits,
        },
    )
    if clicks:
        services.track_events(
            principal,
            events=[
                {
                    "action_name": "click",
                    "application": application,
                    "query_id": query_id,
                    "timestamp": (at + datetime.timedelta(minutes=1)).isoformat(),
                    "event_attributes": {
                        "object": {"object_id": object_id},
                        "position": {"ordinal": hits.index(object_id) + 1},
                    },
                }
                for object_id in clicks
            ],
        )
    return query_id
