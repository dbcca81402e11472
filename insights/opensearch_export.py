"""An organisation's UBI queries and events as OpenSearch ``_bulk`` files, for the OpenSearch UBI plugin's indexes.

Two files, ``ubi_queries.ndjson`` and ``ubi_events.ndjson``: each document is an action line
(``{"index": {"_index": "ubi_queries", "_id": <query_id>}}``; events by their ``event_id``) followed by the
document, and the file ends with a newline, as ``POST _bulk`` wants. Documents fit the plugin's mappings
(docs/reference/ubi/opensearch-*-mapping.json): the document as tracked, with ``timestamp`` the stored UTC instant
in ``strict_date_time`` form (``2026-12-06T10:58:42.123Z``), which that date field accepts whatever form the client
sent; ``event_id`` is the event's ``_id`` rather than a field of it. Importing a file twice overwrites, never
duplicates.

Rows are read in timestamp order through a server-side cursor (``iterator(chunk_size=...)``) and written as they
come: memory stays the same for a thousand rows or a hundred million.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.db.models import QuerySet

from insights import jsontext, parameters, validation
from insights.models import Event, Query
from insights.selectors import READ_ROLE
from oauth.principals import Principal, require_role

QUERIES_INDEX = "ubi_queries"
EVENTS_INDEX = "ubi_events"
FILTERS = ("from", "to", "application")
CHUNK_SIZE = 2000


@dataclass(frozen=True)
class Export:
    queries_path: Path
    events_path: Path
    queries: int
    events: int


def export_opensearch(
    principal: Principal, *, out_dir: Path, filters: dict, progress: Callable[[int], None] | None = None
) -> Export:
    """Write ``principal``'s organisation's queries and events to ``out_dir`` (created if needed) as ``_bulk``
    NDJSON files; ``progress`` is called with the number of documents written since its last call.

    ``filters`` may hold ``from`` (inclusive) and ``to`` (exclusive), ISO 8601, and ``application``; ``None`` or
    ``""`` filters nothing. Raises ``PermissionDenied`` without ``insights:read`` and ``InvalidInput`` keyed by the
    filter for a bad value or an unknown filter.
    """
    require_role(principal, READ_ROLE)
    conditions = _clean(filters)
    queries = Query.objects.filter(organization_id=principal.org_id, **conditions)
    events = Event.objects.filter(organization_id=principal.org_id, **conditions)
    out_dir.mkdir(parents=True, exist_ok=True)
    queries_path, events_path = out_dir / f"{QUERIES_INDEX}.ndjson", out_dir / f"{EVENTS_INDEX}.ndjson"
    query_count = _write(queries_path, QUERIES_INDEX, queries, _query_document, progress)
    event_count = _write(events_path, EVENTS_INDEX, events, _event_document, progress)
    return Export(queries_path, events_path, query_count, event_count)


def document_count(principal: Principal, *, filters: dict) -> int:
    """How many documents ``export_opensearch`` writes with ``filters``, for a progress bar's total: two
    ``COUNT``\\ s over the time index. Raises as ``export_opensearch``."""
    require_role(principal, READ_ROLE)
    conditions = _clean(filters)
    return sum(model.objects.filter(organization_id=principal.org_id, **conditions).count() for model in (Query, Event))


def strict_date_time(moment: datetime) -> str:
    """``moment`` in UTC as OpenSearch's ``strict_date_time`` wants it: ``yyyy-MM-dd'T'HH:mm:ss.SSSZ``."""
    return validation.format_timestamp(moment, timespec="milliseconds")


def _clean(filters: dict) -> dict:
    """The lookups ``filters`` stand for, the same for queries and events. Raises ``InvalidInput``."""
    errors = validation.Errors()
    for name, value in filters.items():
        if name not in FILTERS and value is not None and value != "":
            errors.add(name, f"Unknown filter; the filters are {', '.join(FILTERS)}.")
    lookups = {
        "timestamp__gte": parameters.clean_moment(filters, "from", errors),
        "timestamp__lt": parameters.clean_moment(filters, "to", errors),
        "application": parameters.clean_text(filters, "application", errors),
    }
    errors.raise_if_any()
    return {lookup: value for lookup, value in lookups.items() if value is not None}


def _write(path: Path, index: str, rows: QuerySet, document: Callable, progress) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for row in rows.defer("fingerprint").order_by("timestamp", "id").iterator(chunk_size=CHUNK_SIZE):
            natural_id, body = document(row)
            out.write(jsontext.dumps({"index": {"_index": index, "_id": natural_id}}))
            out.write("\n")
            out.write(jsontext.dumps(body))
            out.write("\n")
            count += 1
            if progress is not None and count % CHUNK_SIZE == 0:
                progress(CHUNK_SIZE)
    if progress is not None:
        progress(count % CHUNK_SIZE)
    return count


def _query_document(row: Query) -> tuple[str, dict]:
    return row.query_id, {**row.to_document(), "timestamp": strict_date_time(row.timestamp)}


def _event_document(row: Event) -> tuple[str, dict]:
    body = {**row.to_document(), "timestamp": strict_date_time(row.timestamp)}
    return body.pop("event_id"), body
