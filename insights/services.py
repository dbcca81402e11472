"""Writes: track UBI queries and events for the principal's organisation.

REST views and the gRPC servicer are thin adapters over these functions. Inputs are plain dicts exactly as a JSON
body gives them; each function checks the role first, then that maintenance mode is off (``Unavailable``), then
validates (``insights.validation``), then stores, and raises only ``project.errors`` exceptions.

The documents of a person the organisation suppressed are acknowledged and not stored (``insights.suppressions``).

Retries are safe: a document whose identifier (``query_id``, or a client-chosen ``event_id``) is already stored
with the same content succeeds again and stores nothing; with different content it is ``Conflict``. "Same content"
is compared through a SHA-256 fingerprint of the document, so a retried batch is checked in one query, and only
once its insert has collided: a first attempt costs the insert alone.
"""

import contextlib
import hashlib
import itertools
import os
import re
from collections.abc import Iterable, Iterator

from django.db import IntegrityError, transaction
from django.utils import timezone

from insights import bulk, identifiers, jsontext, maintenance, suppressions, validation
from insights.models import Event, Query
from oauth.principals import Principal, require_role
from observability import metrics
from project.conf import ubi_settings
from project.errors import Conflict, InvalidInput, PayloadTooLarge

WRITE_ROLE = "insights:write"
# After a collision, a concurrent request may insert the same identifier between our check and our insert;
# checking again once then finds its row, so a second attempt always settles it.
_ATTEMPTS = 2
_BATCH_INDEX = re.compile(r"^\[(\d+)\]")


def track_query(principal: Principal, *, query: dict) -> str:
    """Track one UBI query for ``principal``'s organisation and return its ``query_id``.

    ``query`` is a UBI 1.3.0 query document; a ``query_id`` (UUID) is generated when absent, and a query without
    ``timestamp`` is filed under the time it was received. Raises ``PermissionDenied`` without
    ``insights:write``, ``InvalidInput`` keyed by field name (``"user_query"``, ``"query_attributes"``, ...), and
    ``Conflict`` when the ``query_id`` is already tracked in this organisation with different content (the same
    content succeeds and stores nothing). Another organisation's queries never collide with it. A principal
    restricted to one application (an ingest key) files a query naming none under it, and one naming another is
    ``InvalidInput`` keyed ``"application"``.
    """
    _require_writer(principal)
    query_id = _track(principal, Query, [validation.clean_query(query)], batch=False)[0]
    metrics.QUERIES_TRACKED.inc()
    return query_id


def track_queries(principal: Principal, *, queries: list[dict]) -> list[str]:
    """Track a batch of UBI queries, all or nothing, and return their ``query_id``\\ s in the order given.

    The twin of ``track_events`` for queries: at most ``MAX_EVENTS_PER_REQUEST`` of them, each as for
    ``track_query``, errors keyed ``"[i].field"``, the same ``query_id`` twice in one batch one query if the content
    is the same (else ``InvalidInput``), one transaction and one bulk insert.
    """
    _require_writer(principal)
    query_ids = _track(principal, Query, validation.clean_queries(queries))
    metrics.QUERIES_TRACKED.inc(len(query_ids))
    return query_ids


def track_event(principal: Principal, *, event: dict) -> str:
    """Track one UBI event for ``principal``'s organisation and return its ``event_id``.

    ``event`` is a UBI 1.3.0 event document, plus an optional client-chosen ``event_id`` (a string up to 100
    characters) that makes a retry safe; without one a UUID is generated. Raises ``PermissionDenied`` without
    ``insights:write``, ``InvalidInput`` keyed by field name (``"action_name"``,
    ``"event_attributes.position.ordinal"``), and ``Conflict`` when the ``event_id`` is already tracked in this
    organisation with different content. A principal restricted to one application is as for ``track_query``.
    """
    _require_writer(principal)
    event_id = _track(principal, Event, [validation.clean_event(event)], batch=False)[0]
    metrics.EVENTS_TRACKED.inc()
    return event_id


def track_events(principal: Principal, *, events: list[dict]) -> list[str]:
    """Track a batch of UBI events, all or nothing, and return their ``event_id``\\ s in the order given.

    At most ``MAX_EVENTS_PER_REQUEST`` events (and at least one). Each event is as for ``track_event``. One
    invalid event stores nothing: ``InvalidInput`` then names every invalid field as ``"[i].field"`` (``""`` for
    the batch itself). The same ``event_id`` twice in one batch is one event if the content is the same, else
    ``InvalidInput``. Raises ``PermissionDenied`` without ``insights:write`` and ``Conflict`` when an
    ``event_id`` is already tracked with different content. One transaction, one bulk insert.
    """
    _require_writer(principal)
    event_ids = _track(principal, Event, validation.clean_events(events))
    metrics.EVENTS_TRACKED.inc(len(event_ids))
    return event_ids


def track_event_stream(principal: Principal, *, events: Iterable[dict]) -> list[str]:
    """Track a stream of UBI events, all or nothing, and return their ``event_id``\\ s in the order received.

    The role is checked before the first event is taken from ``events``: a caller without ``insights:write`` costs
    nothing of its stream. ``events`` is then read to its end before the first write, so a slow sender never holds
    a write transaction; past ``MAX_EVENTS_PER_STREAM`` events it is read no further (``PayloadTooLarge``). An
    error ``events`` raises while it is read (a protocol's limit, say) ends the call, storing nothing. The events
    are then tracked in batches of ``MAX_EVENTS_PER_REQUEST``, each as ``track_events`` tracks one, inside one
    transaction. ``InvalidInput`` names every invalid event by its position in the stream, ``"[i].field"``; an
    empty stream is invalid as an empty batch is.
    """
    _require_writer(principal)
    limit = ubi_settings.MAX_EVENTS_PER_STREAM
    received = list(itertools.islice(events, limit + 1))
    if len(received) > limit:
        raise PayloadTooLarge(f"A stream carries at most {limit} events.")
    maintenance.refuse_writes()  # again: the switch may have been flipped while the stream was read
    batch_size = ubi_settings.MAX_EVENTS_PER_REQUEST
    event_ids, errors = [], validation.Errors()
    with transaction.atomic():
        # At least one batch, even for an empty stream: validation says what an empty batch is.
        for start in range(0, max(len(received), 1), batch_size):
            try:
                event_ids += _track(principal, Event, validation.clean_events(received[start : start + batch_size]))
            except InvalidInput as exc:
                # Validated before stored, so the transaction is intact: go on, to name every invalid event.
                errors.update(_offset_batch_errors(exc.errors, start))
        errors.raise_if_any()  # and roll back the batches stored so far
    metrics.EVENTS_TRACKED.inc(len(event_ids))
    return event_ids


def _offset_batch_errors(errors: dict[str, list[str]], start: int) -> dict[str, list[str]]:
    """A batch's errors are keyed ``[i].field``; in the stream, that event is ``[start + i]``."""
    return {
        _BATCH_INDEX.sub(lambda match: f"[{start + int(match.group(1))}]", name): texts
        for name, texts in errors.items()
    }


def _require_writer(principal: Principal) -> None:
    """Every write's first step: ``PermissionDenied`` without ``insights:write``, ``Unavailable`` in maintenance."""
    require_role(principal, WRITE_ROLE)
    maintenance.refuse_writes()


def _track(
    principal: Principal, model, cleaned_documents: list[validation.Cleaned], *, batch: bool = True
) -> list[str]:
    """Store the cleaned documents of ``model`` (``Query`` or ``Event``) and return their identifiers in order.

    Each gets its identifier (``model.ID_FIELD``) when it has none, and the principal's application when it is
    restricted to one. Errors are keyed ``[i].field`` in a ``batch``, ``field`` for a single document.
    """
    id_field = model.ID_FIELD
    identifiers = []
    chosen_ids = []
    rows_by_id: dict[str, dict] = {}
    first_index_by_id: dict[str, int] = {}
    errors = validation.Errors()
    new_ids = _new_ids(sum(id_field not in cleaned.document for cleaned in cleaned_documents))
    received = timezone.now()
    for index, cleaned in enumerate(cleaned_documents):
        document = cleaned.document
        if principal.application is not None:
            document = _in_application(principal.application, document, errors, f"[{index}]" if batch else "")
        if id_field in document:
            chosen_ids.append(document[id_field])
        else:
            document = {**document, id_field: next(new_ids)}
        identifier = document[id_field]
        identifiers.append(identifier)
        row = model.row_from_document(
            organization_id=principal.org_id,
            document=document,
            timestamp=cleaned.timestamp or received,  # only a query may lack one
            fingerprint=_fingerprint(document),
        )
        first_index = first_index_by_id.setdefault(identifier, index)
        if rows_by_id.setdefault(identifier, row)["fingerprint"] != row["fingerprint"]:
            errors.add(f"[{index}].{id_field}", f"{id_field} repeats that of [{first_index}] with different content.")
    errors.raise_if_any()
    rows = suppressions.kept(principal.org_id, list(rows_by_id.values()))
    _store(model, id_field, principal, rows, chosen_ids=chosen_ids)
    return identifiers


def _in_application(application: str, document: dict, errors: validation.Errors, prefix: str) -> dict:
    """``document`` filed under ``application``, the only one its principal may track: given it when it names
    none, an error when it names another."""
    named = document.get("application")
    if named is None:
        return {**document, "application": application}
    if named != application:
        message = f"Only the application {application!r} may be tracked with these credentials."
        errors.add(validation.key(prefix, "application"), message)
    return document


def _store(model, id_field: str, principal: Principal, rows: list, *, chosen_ids: list[str]) -> None:
    """Insert the rows (``{attname: value}``) not stored yet, in one transaction and one statement
    (``insights.bulk``).

    Identifiers are nearly always new, so the rows are inserted first and nothing is looked up. Only when that
    insert collides (a retry) are ``chosen_ids``, the identifiers the client chose, looked up in one query: a
    stored one must have the same fingerprint, and the rest are inserted. Generated UUIDs never collide.
    """
    if _insert(model, rows):
        return
    for _attempt in range(_ATTEMPTS):
        stored = identifiers.stored_fingerprints(model, id_field, principal.org_id, chosen_ids)
        for row in rows:
            identifier = row[id_field]
            if identifier in stored and stored[identifier] != row["fingerprint"]:
                raise Conflict(f"{id_field} {identifier!r} is already tracked with different content.")
        if _insert(model, [row for row in rows if row[id_field] not in stored]):
            return
    raise Conflict(f"Another request tracked the same {id_field}s at the same moment.")


def _insert(model, rows: list) -> bool:
    """Insert ``rows`` all or nothing; False when one of their identifiers is already stored."""
    # One INSERT is atomic by itself: in autocommit it is one round trip, without BEGIN and COMMIT. Inside a
    # transaction it still needs a savepoint, so that a collision leaves the transaction usable.
    one_statement = len(rows) == 1 and not transaction.get_connection().in_atomic_block
    try:
        with contextlib.nullcontext() if one_statement else transaction.atomic():
            bulk.insert(model, rows)
    except IntegrityError:
        return False
    return True


def _fingerprint(document: dict) -> str:
    return hashlib.sha256(jsontext.canonical(document)).hexdigest()


def _new_ids(count: int) -> Iterator[str]:
    """``count`` random (version 4) UUIDs from one read of the system's randomness, as text.

    ``uuid4()`` makes a system call per id, and each lets go of the GIL, inviting the server's other threads to
    take it in the middle of a batch. Setting the version and variant bits of all of them at once and cutting one
    hex string is also cheaper than building a ``uuid.UUID`` for each only to print it.
    """
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = bytes(byte & 0x0F | 0x40 for byte in raw[6::16])  # version 4
    raw[8::16] = bytes(byte & 0x3F | 0x80 for byte in raw[8::16])  # the RFC 4122 variant
    text = raw.hex()
    return (
        f"{text[i : i + 8]}-{text[i + 8 : i + 12]}-{text[i + 12 : i + 16]}-{text[i + 16 : i + 20]}-{text[i + 20 : i + 32]}"
        for i in range(0, 32 * count, 32)
    )
