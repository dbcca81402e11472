"""Demo data with a known truth, tracked through the batch services as a client's would be.

``generate_demo_data`` simulates (``analytics.simulation``), writes the truth file, then tracks every query with
``insights.services.track_query`` and the events with ``track_events`` in batches of ``MAX_EVENTS_PER_REQUEST``:
the rows are exactly those a site sending the same documents would store.
"""

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from analytics.simulation import Parameters, simulate
from insights import services
from insights.models import Query
from oauth.principals import Principal, require_role
from project.conf import ubi_settings

# Searches stored per transaction: one commit per chunk, not per row (SQLite's fsync), yet no transaction that
# holds a million rows.
SEARCHES_PER_TRANSACTION = 500


@dataclass(frozen=True)
class DemoData:
    truth_path: Path
    queries: int
    events: int


def generate_demo_data(
    principal: Principal,
    *,
    parameters: Parameters,
    truth_path: Path,
    progress: Callable[[int], None] | None = None,
    only_if_empty: bool = False,
) -> DemoData | None:
    """Simulate ``parameters`` for ``principal``'s organisation, write the truth to ``truth_path`` (JSON) and
    track the searches and their events; ``progress`` is called with the number of searches tracked since its
    last call.

    With ``only_if_empty``, an organisation that has any query is left as it is and the answer is ``None``.
    Raises ``PermissionDenied`` without ``insights:write`` and what the tracking services raise.
    """
    require_role(principal, services.WRITE_ROLE)
    if only_if_empty and Query.objects.filter(organization_id=principal.org_id).exists():
        return None
    truth, searches = simulate(parameters)
    truth_path.parent.mkdir(parents=True, exist_ok=True)
    truth_path.write_text(json.dumps(truth.as_json(), indent=1) + "\n")
    queries = events = 0
    pending: list[dict] = []
    batch_size = ubi_settings.MAX_EVENTS_PER_REQUEST
    while chunk := list(itertools.islice(searches, SEARCHES_PER_TRANSACTION)):
        with transaction.atomic():
            for search in chunk:
                services.track_query(principal, query=search.query)
                pending += search.events
            while len(pending) >= batch_size:
                events += len(services.track_events(principal, events=pending[:batch_size]))
                del pending[:batch_size]
        queries += len(chunk)
        if progress is not None:
            progress(len(chunk))
    if pending:
        events += len(services.track_events(principal, events=pending))
    return DemoData(truth_path, queries, events)
