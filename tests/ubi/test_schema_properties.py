"""Property tests driven by the published UBI 1.3.0 JSON Schemas (``docs/reference/ubi/schema/1.3.0``).

What ``jsonschema`` accepts, the API accepts and gives back; what it rejects for a wrong type, a string too long or
a missing required field, the API rejects with 400 and an ``errors`` entry naming the field. "jsonschema" here is
the published schema with exactly the leniencies README.md lists, which the last tests show are needed.
"""

import copy
import math
import types
import uuid

import hypothesis_jsonschema._from_schema
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import utils as conjecture_utils
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator

from insights import validation
from tests.support.paths import UBI_REFERENCE
from tests.support.problems import assert_problem
from tests.support.ubi_documents import EVENTS, QUERIES, make_event, schema


class _ManyWithMore(conjecture_utils.many):
    """hypothesis-jsonschema 0.23.1 (the latest) draws objects with ``many.more()``, which hypothesis 6.170
    replaced by ``with many(...) as elements: for _ in elements``. This gives it ``more()`` on top of that."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.__enter__()
        self._elements = iter(self)

    def more(self) -> bool:
        return next(self._elements, False) is None


# Only hypothesis-jsonschema sees the shim; hypothesis keeps its own ``many``.
hypothesis_jsonschema._from_schema.cu = types.SimpleNamespace(**{**vars(conjecture_utils), "many": _ManyWithMore})

# Modest and deterministic, so the suite stays fast and CI reproducible: enough to cover the schema's shapes.
PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
# A mutation test runs once per field and way of breaking it, so each needs fewer examples.
MUTATION_SETTINGS = settings(PROPERTY_SETTINGS, max_examples=8)
WRONG_TYPED_VALUES = [None, True, 12345, 1.5, "text", [], {}]
XY_SCHEMA_PATH = ("properties", "event_attributes", "properties", "position", "oneOf", 1, "properties", "xy")


def published(name: str) -> dict:
    return schema(UBI_REFERENCE, name)


def lenient_event_schema() -> dict:
    """The event schema with the README's leniencies: anyOf for the oneOfs, any position, object_id optional,
    object_id and internal_id null as ubi.js sends them, and null for the optional strings."""
    lenient = copy.deepcopy(published("event"))
    if "properties" not in lenient:
        return lenient
    attributes = lenient["properties"]["event_attributes"]
    xy = published("event")
    for step in XY_SCHEMA_PATH:
        xy = xy[step]
    lenient["properties"]["action_name"] = {"type": "string", "maxLength": 100}
    for name in validation.EVENT_NULLABLE:
        lenient["properties"][name] = {"anyOf": [lenient["properties"][name], {"type": "null"}]}
    attributes["properties"]["position"] = {
        "type": "object",
        "properties": {"ordinal": {"type": "integer"}, "xy": xy},
    }
    target = attributes["properties"]["object"]
    target["properties"]["object_id_type"] = {"type": "string", "maxLength": 100}
    for name in ("object_id", "internal_id"):
        target["properties"][name]["anyOf"].append({"type": "null"})
    target.pop("required")
    return lenient


QUERY_SCHEMA = published("query.request")
EVENT_SCHEMA = lenient_event_schema()
QUERY_VALIDATOR = Draft202012Validator(QUERY_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
EVENT_VALIDATOR = Draft202012Validator(EVENT_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
STRICT_EVENT_VALIDATOR = Draft202012Validator(published("event"), format_checker=Draft202012Validator.FORMAT_CHECKER)


def storable(document: dict) -> bool:
    """Within the README's "Limits", which the schema does not state: what else the API refuses on purpose."""
    if validation.storage_problem(document, validation.ubi_settings.MAX_JSON_DEPTH):
        return False
    try:
        validation.parse_timestamp(document.get("timestamp", "2024-01-01T00:00:00Z"))
    except ValueError:
        return False  # an instant outside the years 1 to 9999 once in UTC
    return not set(document) & {"event_id", *validation.RESERVED_QUERY_FIELDS}


def same_json(sent, read) -> bool:
    """JSON equality: 1e16 and 10000000000000000 are the same number (PostgreSQL's jsonb writes the latter)."""
    if isinstance(sent, dict):
        return isinstance(read, dict) and sent.keys() == read.keys() and all(same_json(sent[k], read[k]) for k in sent)
    if isinstance(sent, list):
        return isinstance(read, list) and len(sent) == len(read) and all(map(same_json, sent, read))
    if isinstance(sent, bool) or isinstance(read, bool) or not isinstance(sent, int | float):
        return sent == read and type(sent) is type(read)
    return isinstance(read, int | float) and math.isclose(sent, read, rel_tol=1e-15)


def valid_queries():
    return from_schema(QUERY_SCHEMA).filter(storable).map(lambda query: {**query, "query_id": str(uuid.uuid4())})


def valid_events():
    return from_schema(EVENT_SCHEMA).filter(storable)


@PROPERTY_SETTINGS
@given(query=valid_queries())
def test_a_query_the_schema_accepts_is_tracked_and_read_back(api, query):
    assert QUERY_VALIDATOR.is_valid(query)
    response = api.post(QUERIES, json=query)
    assert response.status_code == 201, response.text
    read = api.get(f"{QUERIES}/{query['query_id']}").json()
    assert same_json({**query, "events": []}, read), (query, read)


@PROPERTY_SETTINGS
@given(event=valid_events())
def test_an_event_the_schema_accepts_is_tracked_and_read_back(api, event):
    assert EVENT_VALIDATOR.is_valid(event)
    response = api.post(EVENTS, json=event)
    assert response.status_code == 201, response.text
    event_id = response.json()["event_id"]
    read = api.get(EVENTS, params={"pageSize": 1000}).json()["items"]
    assert any(same_json({**event, "event_id": event_id}, item) for item in read)


# (path of the field, what breaks it): "type" replaces the value with one of another JSON type, "long" with a
# string one character over its maxLength, "missing" deletes it.
def string_mutations(limits: dict) -> list[tuple[tuple[str], str]]:
    """A wrong type for every string field, and one character too many for those with a maxLength."""
    return [((name,), kind) for name, limit in limits.items() for kind in ("type", "long") if limit or kind == "type"]


QUERY_MUTATIONS = [
    (("user_query",), "missing"),
    *string_mutations(validation.QUERY_STRINGS),
    (("query_attributes",), "type"),
    (("query_response_hit_ids",), "type"),
    (("timestamp",), "type"),
]
EVENT_MUTATIONS = [
    (("action_name",), "missing"),
    (("timestamp",), "missing"),
    (("timestamp",), "type"),
    *string_mutations({name: limit for name, limit in validation.EVENT_STRINGS.items() if name != "event_id"}),
    (("event_attributes",), "type"),
    (("event_attributes", "position"), "missing"),
    (("event_attributes", "position"), "type"),
    (("event_attributes", "position", "ordinal"), "type"),
    (("event_attributes", "position", "xy"), "type"),
    (("event_attributes", "position", "xy", "x"), "type"),
    (("event_attributes", "object"), "type"),
    (("event_attributes", "object", "object_id"), "type"),
    (("event_attributes", "object", "object_id"), "long"),
    (("event_attributes", "object", "object_id_type"), "long"),
    (("event_attributes", "object", "internal_id"), "type"),
]
LIMITS = {**validation.QUERY_STRINGS, **validation.EVENT_STRINGS, **validation.OBJECT_STRINGS, **validation.OBJECT_IDS}


def mutation_id(value) -> str:
    return ".".join(value) if isinstance(value, tuple) else value.rsplit("/", 1)[-1]


# The containers up to a mutated field, each valid on its own (what they require).
VALID_CONTAINERS = {"event_attributes": {"position": {}}, "xy": {"x": 0, "y": 0}}


def names_field(errors: dict, path: tuple[str, ...]) -> bool:
    """An entry for the field or inside it (``{}`` for event_attributes lacks ``event_attributes.position``)."""
    name = ".".join(path)
    return any(key == name or key.startswith(f"{name}.") for key in errors)


def mutated(document: dict, path: tuple[str, ...], kind: str, wrong_value) -> dict:
    document = copy.deepcopy(document)
    parent = document
    for step in path[:-1]:
        if not isinstance(parent.get(step), dict):
            parent[step] = copy.deepcopy(VALID_CONTAINERS.get(step, {}))
        parent = parent[step]
    if kind == "missing":
        parent.pop(path[-1], None)
    elif kind == "long":
        parent[path[-1]] = "x" * (LIMITS[path[-1]] + 1)
    else:
        parent[path[-1]] = wrong_value
    return document


# Per endpoint: the valid documents to break, and the schema that must reject them once broken.
BREAKABLE = {QUERIES: (valid_queries, QUERY_VALIDATOR), EVENTS: (valid_events, EVENT_VALIDATOR)}
MUTATIONS = [(QUERIES, *mutation) for mutation in QUERY_MUTATIONS]
MUTATIONS += [(EVENTS, *mutation) for mutation in EVENT_MUTATIONS]


@pytest.mark.parametrize(("endpoint", "path", "kind"), MUTATIONS, ids=mutation_id)
@MUTATION_SETTINGS
@given(data=st.data())
def test_a_document_the_schema_rejects_is_400_naming_the_field(api, endpoint, path, kind, data):
    documents, validator = BREAKABLE[endpoint]
    document = mutated(data.draw(documents()), path, kind, data.draw(st.sampled_from(WRONG_TYPED_VALUES)))
    assume(not validator.is_valid(document))
    assert names_field(assert_problem(api.post(endpoint, json=document), 400)["errors"], path)


def schema_limits(properties: dict) -> dict:
    """The maxLength of each string property (None: unlimited), a oneOf/anyOf's string branch included."""
    limits = {}
    for name, spec in properties.items():
        strings = [branch for branch in spec.get("oneOf", spec.get("anyOf", [spec])) if branch.get("type") == "string"]
        if strings and spec.get("format") != "date-time":
            limits[name] = strings[-1].get("maxLength")
    return limits


def test_the_length_limits_are_the_schemas():
    event_properties = published("event")["properties"]
    object_properties = event_properties["event_attributes"]["properties"]["object"]["properties"]
    assert schema_limits(published("query.request")["properties"]) == validation.QUERY_STRINGS
    assert schema_limits(event_properties) == {
        name: limit for name, limit in validation.EVENT_STRINGS.items() if name != "event_id"
    }
    assert schema_limits(object_properties) == {**validation.OBJECT_STRINGS, **validation.OBJECT_IDS}


# Each leniency of README.md: the published schema rejects the document, and the API accepts it.
LENIENCIES = {
    "a standard action_name": make_event(action_name="click"),
    "a standard object_id_type": make_event(
        event_attributes={"position": {}, "object": {"object_id": "1", "object_id_type": "product"}}
    ),
    "an empty position": make_event(event_attributes={"position": {}}),
    "a position with ordinal and xy": make_event(event_attributes={"position": {"ordinal": 1, "xy": {"x": 1, "y": 2}}}),
    "an object without object_id": make_event(event_attributes={"position": {"ordinal": 1}, "object": {"sku": "x"}}),
    "an object_id of null": make_event(
        event_attributes={"position": {"ordinal": 1}, "object": {"object_id": None, "description": None}}
    ),
    "a message_type of null, as ubi.js sends it": make_event(message_type=None, message=None, user_id=None),
    "a timestamp without offset": make_event(action_name="page_exit", timestamp="2018-11-13T20:20:39"),
}


@pytest.mark.parametrize("event", LENIENCIES.values(), ids=LENIENCIES.keys())
def test_each_leniency_accepts_what_the_published_schema_rejects(api, event):
    assert not STRICT_EVENT_VALIDATOR.is_valid(event)
    assert api.post(EVENTS, json=event).status_code == 201
