"""UBI 1.3.0 validation, written out by hand so that a batch of a thousand events costs little.

The rules are those of ``event.schema.json`` and ``query.request.schema.json`` (types, required fields, lengths),
with the leniencies docs/rest-api.md lists where the published schema is defective: ``action_name`` and
``object_id_type`` are any string up to 100 characters (its ``oneOf`` rejects ``"click"``), ``position`` is any
object whose ``ordinal``/``xy`` are well typed when present (its ``oneOf`` rejects ``{}`` and both together), and
``object`` needs no ``object_id`` (the published sample has none).

On top of the schema, what the store needs (docs/rest-api.md, "Limits"): requests of at most ``MAX_REQUEST_BYTES``,
nesting at most ``MAX_JSON_DEPTH`` levels, finite numbers, no U+0000 or unpaired surrogates in strings, timestamps
that are an instant between years 1 and 9999.

Errors are keyed by input name (``"action_name"``, ``"event_attributes.position.ordinal"``), prefixed by the
item's index in a batch (``"[3].action_name"``); ``""`` is the whole request.
"""

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from project.conf import ubi_settings
from project.errors import InvalidInput, PayloadTooLarge

# maxLength of every string field, from the 1.3.0 schemas (None: the schema sets none). ``event_id`` is ours.
QUERY_STRINGS = {
    "query_id": 100,
    "application": 100,
    "client_id": 100,
    "user_query": None,
    "object_id_field": 100,
    "query_response_id": None,
}
EVENT_STRINGS = {
    "event_id": 100,
    "application": 100,
    "action_name": 100,
    "query_id": 100,
    "session_id": 100,
    "client_id": 100,
    "user_id": 100,
    "message_type": 100,
    "message": 1024,
    "user_query": None,
}
# The event's strings that may be null, which is kept and read back as sent: ubi.js sends null for one it has no
# value of (message_type, when trackEvent is given no type). Null is no identifier and no action.
EVENT_NULLABLE = frozenset(EVENT_STRINGS) - {"event_id", "action_name"}
OBJECT_STRINGS = {"object_id_type": 100, "object_id_field": 100}
OBJECT_IDS = {"object_id": 256, "internal_id": 256}  # a string up to 256 characters, or an integer
QUERY_REQUIRED = ("user_query",)
EVENT_REQUIRED = ("action_name", "timestamp")
# ``query_get`` answers a query with its events under this key, so a query may not carry a field of that name.
RESERVED_QUERY_FIELDS = ("events",)

# PostgreSQL stores neither NUL characters nor lone surrogates; SQLite would, so refuse them everywhere alike.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# The JSON values that can have no storage problem, with and without strings.
_ATOMS = (int, bool, type(None))
_TEXT_AND_ATOMS = (str, *_ATOMS)


@dataclass(frozen=True, slots=True)
class Cleaned:
    """A valid UBI document and its timestamp in UTC (``None`` when the document has none)."""

    document: dict
    timestamp: datetime | None


class Errors(dict):
    """``{input name: [messages]}``, the shape of ``InvalidInput.errors``."""

    def add(self, key: str, message: str) -> None:
        self.setdefault(key, []).append(message)

    def raise_if_any(self) -> None:
        if self:
            raise InvalidInput(dict(self))


def check_request_size(size: int) -> None:
    """``PayloadTooLarge`` for a request, a REST body or a gRPC message, of more than ``MAX_REQUEST_BYTES``."""
    limit = ubi_settings.MAX_REQUEST_BYTES
    if size > limit:
        raise PayloadTooLarge(f"The request is larger than {limit} bytes.")


def clean_query(document) -> Cleaned:
    """Validate one tracked query. Raises ``InvalidInput`` keyed by field name."""
    errors = Errors()
    timestamp = _check_query(document, errors, "")
    errors.raise_if_any()
    return Cleaned(document, timestamp)


def clean_event(document) -> Cleaned:
    """Validate one tracked event. Raises ``InvalidInput`` keyed by field name."""
    errors = Errors()
    timestamp = _check_event(document, errors, "")
    errors.raise_if_any()
    return Cleaned(document, timestamp)


def clean_events(documents) -> list[Cleaned]:
    """Validate a batch, all of it: raises ``InvalidInput`` naming every invalid event as ``"[i].field"``."""
    return _clean_batch(documents, _check_event, "events")


def clean_queries(documents) -> list[Cleaned]:
    """Validate a batch of queries as ``clean_events`` does a batch of events."""
    return _clean_batch(documents, _check_query, "queries")


def _clean_batch(documents, check, noun: str) -> list[Cleaned]:
    errors = Errors()
    if not isinstance(documents, list):
        errors.add("", f"Expected an array of {noun}.")
    elif not documents:
        errors.add("", f"The array of {noun} is empty.")
    elif len(documents) > ubi_settings.MAX_EVENTS_PER_REQUEST:
        errors.add("", f"At most {ubi_settings.MAX_EVENTS_PER_REQUEST} {noun} per request, got {len(documents)}.")
    errors.raise_if_any()
    cleaned = [Cleaned(document, check(document, errors, f"[{index}]")) for index, document in enumerate(documents)]
    errors.raise_if_any()
    return cleaned


def format_timestamp(moment: datetime, *, timespec: str = "auto") -> str:
    """An aware datetime as ISO 8601 in UTC with ``Z``, as the API writes moments (``timespec`` as
    ``datetime.isoformat``'s: ``"milliseconds"`` is a browser's ``toISOString()`` and OpenSearch's
    ``strict_date_time``)."""
    return moment.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def parse_timestamp(value) -> datetime:
    """An ISO 8601 date and time as an aware UTC datetime; no offset means UTC. Raises ``ValueError``."""
    if not isinstance(value, str):
        raise ValueError("Expected an ISO 8601 date-time string.")
    # RFC 3339 allows a lowercase "t" and "z"; a date alone is not a moment.
    text = value.upper()
    if "T" not in text and " " not in text:
        raise ValueError("Expected an ISO 8601 date-time such as 2018-11-13T20:20:39Z.")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("Expected an ISO 8601 date-time such as 2018-11-13T20:20:39Z.") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("The date-time is outside the years 1 to 9999 in UTC.") from None


def key(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def check_string(value, errors: Errors, prefix: str, name: str, max_length: int | None) -> None:
    """A JSON string of at most ``max_length`` characters (``storage_problem`` says whether it can be stored).

    Errors are keyed ``prefix.name``, joined only for an error: a valid batch checks some ten thousand strings.
    """
    if not isinstance(value, str):
        errors.add(key(prefix, name), f"{name} must be a string.")
    elif max_length is not None and len(value) > max_length:
        errors.add(key(prefix, name), f"{name} must be at most {max_length} characters long.")


def _check_query(document, errors: Errors, prefix: str):
    if not _check_document(document, errors, prefix, QUERY_REQUIRED):
        return None
    for name, max_length in QUERY_STRINGS.items():
        if name in document:
            check_string(document[name], errors, prefix, name, max_length)
    for name in RESERVED_QUERY_FIELDS:
        if name in document:
            errors.add(key(prefix, name), f"{name} is reserved: a query is read back with its events under this name.")
    if "query_attributes" in document and not isinstance(document["query_attributes"], dict):
        errors.add(key(prefix, "query_attributes"), "query_attributes must be an object.")
    if "query_response_hit_ids" in document:
        hit_ids = document["query_response_hit_ids"]
        if not isinstance(hit_ids, list) or not all(isinstance(hit_id, str) for hit_id in hit_ids):
            errors.add(key(prefix, "query_response_hit_ids"), "query_response_hit_ids must be an array of strings.")
    return _check_timestamp(document, errors, prefix)


def _check_event(document, errors: Errors, prefix: str):
    if not _check_document(document, errors, prefix, EVENT_REQUIRED):
        return None
    for name, max_length in EVENT_STRINGS.items():
        if name in document and (document[name] is not None or name not in EVENT_NULLABLE):
            check_string(document[name], errors, prefix, name, max_length)
    if document.get("event_id") == "":
        errors.add(key(prefix, "event_id"), "event_id must not be empty.")
    if "event_attributes" in document:
        _check_event_attributes(document["event_attributes"], errors, key(prefix, "event_attributes"))
    return _check_timestamp(document, errors, prefix)


def _check_document(document, errors: Errors, prefix: str, required: tuple[str, ...]) -> bool:
    """The checks every document passes first. False when it is no object, so no field can be checked."""
    if not isinstance(document, dict):
        errors.add(prefix, "Expected a JSON object.")
        return False
    for name in required:
        if name not in document:
            errors.add(key(prefix, name), f"{name} is required.")
    depth_left = ubi_settings.MAX_JSON_DEPTH - 1
    check_text = not _text_storable(document)
    atoms = _ATOMS if check_text else _TEXT_AND_ATOMS
    for name, value in document.items():
        if check_text and _UNSTORABLE.search(name):
            errors.add(prefix, "Field names must not contain U+0000 or unpaired surrogates.")
            continue
        if type(value) not in atoms:
            problem = storage_problem(value, depth_left, check_text=check_text)
            if problem:
                errors.add(key(prefix, name), problem)
    return True


def storage_problem(value, depth_left: int = 0, *, check_text: bool = True) -> str | None:
    """Why the store cannot keep ``value`` (nested deeper than ``depth_left`` more levels, not finite, text with
    U+0000 or unpaired surrogates), or None. ``check_text=False`` leaves out strings and names, for a document
    ``_text_storable`` has cleared."""
    if isinstance(value, str):
        return "Strings must not contain U+0000 or unpaired surrogates." if check_text and _UNSTORABLE.search(value) else None
    if isinstance(value, float):
        return None if math.isfinite(value) else "Numbers must be finite."
    if isinstance(value, dict | list):
        if depth_left <= 0:
            return f"Nested deeper than {ubi_settings.MAX_JSON_DEPTH} levels."
        if isinstance(value, dict):
            if check_text and _UNSTORABLE.search("".join(value)):  # joined names cannot pair up surrogates
                return "Names must not contain U+0000 or unpaired surrogates."
            value = value.values()
        atoms = _ATOMS if check_text else _TEXT_AND_ATOMS
        for item in value:
            if type(item) not in atoms:  # no call for an item that can have no problem: most items are such
                problem = storage_problem(item, depth_left - 1, check_text=check_text)
                if problem:
                    return problem
    return None


def _text_storable(document: dict) -> bool:
    """Whether every name and string in ``document`` can be stored, found in one pass of C (orjson) instead of a
    regular expression per string: orjson refuses unpaired surrogates and writes U+0000 as ``\\u0000``. False
    also for what orjson cannot write at all (an integer beyond 64 bits), which the walk then judges."""
    try:
        return b"\\u0000" not in orjson.dumps(document)
    except TypeError:
        return False


def _check_timestamp(document: dict, errors: Errors, prefix: str):
    if "timestamp" not in document:
        return None
    try:
        return parse_timestamp(document["timestamp"])
    except ValueError as error:
        errors.add(key(prefix, "timestamp"), f"timestamp: {error}")
        return None


def _check_event_attributes(attributes, errors: Errors, name: str) -> None:
    if not isinstance(attributes, dict):
        errors.add(name, "event_attributes must be an object.")
        return
    if "position" not in attributes:
        errors.add(key(name, "position"), "position is required.")
    else:
        _check_position(attributes["position"], errors, key(name, "position"))
    if "object" in attributes:
        _check_object(attributes["object"], errors, key(name, "object"))


def _check_position(position, errors: Errors, name: str) -> None:
    # Lenient: the schema's oneOf of {ordinal} and {xy} rejects {} and a position with both (docs/rest-api.md).
    if not isinstance(position, dict):
        errors.add(name, "position must be an object.")
        return
    if "ordinal" in position and not _is_integer(position["ordinal"]):
        errors.add(key(name, "ordinal"), "ordinal must be an integer.")
    if "xy" in position:
        xy = position["xy"]
        if not isinstance(xy, dict):
            errors.add(key(name, "xy"), "xy must be an object.")
            return
        for axis in ("x", "y"):
            if axis not in xy:
                errors.add(key(name, f"xy.{axis}"), f"{axis} is required.")
            elif not _is_number(xy[axis]):
                errors.add(key(name, f"xy.{axis}"), f"{axis} must be a number.")


def _check_object(target, errors: Errors, name: str) -> None:
    # Lenient: object_id is not required (the published event-opensearch.json sample has none), an object_id or
    # internal_id of null is no id (the UBI project's ubi.js sends null for an object it has no id of), and
    # object_id_type is any string (the schema's oneOf rejects its own enum values).
    if not isinstance(target, dict):
        errors.add(name, "object must be an object.")
        return
    for field, max_length in OBJECT_STRINGS.items():
        if field in target:
            check_string(target[field], errors, name, field, max_length)
    for field, max_length in OBJECT_IDS.items():
        if target.get(field) is None or _is_integer(target[field]):
            continue
        if isinstance(target[field], str):
            check_string(target[field], errors, name, field, max_length)
        else:
            errors.add(key(name, field), f"{field} must be a string or an integer.")


def _is_integer(value) -> bool:
    # JSON Schema counts 3.0 as an integer; JSON has no booleans among its numbers.
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
