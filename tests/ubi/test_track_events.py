"""POST /api/v1/ubi/events: one event or an array of them, all or nothing, safe to retry."""

import hashlib
import json
import uuid

import pytest

from insights.models import Event
from tests.support.problems import assert_problem
from tests.support.ubi_documents import EVENTS, make_event


OBJECT_ID = "event_attributes.object.object_id"


def events_of(api, **filters):
    return api.get(EVENTS, params={"pageSize": 1000, **filters}).json()["items"]


def test_one_event_answers_its_generated_event_id(api):
    response = api.post(EVENTS, json=make_event())
    assert response.status_code == 201
    assert uuid.UUID(response.json()["event_id"]).version == 4


def test_a_batch_without_event_ids_gets_distinct_random_uuids(api):
    event_ids = api.post(EVENTS, json=[make_event() for _ in range(50)]).json()["event_ids"]
    generated = [uuid.UUID(event_id) for event_id in event_ids]
    assert {(each.version, each.variant) for each in generated} == {(4, uuid.RFC_4122)}
    assert len(set(generated)) == 50
    assert [str(each) for each in generated] == event_ids  # the canonical lowercase text form


@pytest.mark.parametrize("action_name", ["click", "purchase", "add_to_cart", "page_exit"])
def test_any_action_name_is_accepted_standard_or_not(api, action_name):
    # The schema's oneOf rejects the standard values; read as anyOf (README, "Leniencies").
    event = make_event(action_name=action_name)
    event["event_attributes"]["object"]["object_id_type"] = "product"
    assert api.post(EVENTS, json=event).status_code == 201


@pytest.mark.parametrize(
    "position",
    [{}, {"ordinal": 3}, {"xy": {"x": 1.5, "y": 2}}, {"ordinal": 3, "xy": {"x": 0, "y": 0}}, {"ordinal": 2.0}],
)
def test_any_well_typed_position_is_accepted(api, position):
    assert api.post(EVENTS, json=make_event(event_attributes={"position": position})).status_code == 201


def test_a_batch_is_stored_in_order_and_answers_every_event_id(api):
    batch = [make_event(session_id=f"s{index}") for index in range(5)]
    response = api.post(EVENTS, json=batch)
    assert response.status_code == 201
    event_ids = response.json()["event_ids"]
    assert len(set(event_ids)) == 5
    stored = {event["event_id"]: event["session_id"] for event in events_of(api)}
    assert [stored[event_id] for event_id in event_ids] == [f"s{index}" for index in range(5)]


def test_a_batch_keeps_every_character_that_needs_escaping(api):
    """PostgreSQL takes batches by COPY (insights/bulk.py), whose text format escapes tabs, newlines and
    backslashes: what is read back is what was sent, in named columns, free-form attributes and unnamed fields."""
    tricky = "tab\there\nnew line\r\\N \\ back\\slash 'quote' \"double\" \u00e9\u4e2d\U0001f600 \\x00 end"
    batch = [
        make_event(session_id=tricky, message=tricky[:1024], user_query=tricky,
                   event_attributes={"object": {"object_id": tricky, "description": tricky}, "position": {}},
                   anything=tricky),
        make_event(session_id="plain"),
    ]
    response = api.post(EVENTS, json=batch)
    assert response.status_code == 201, response.text
    stored = {event["event_id"]: event for event in events_of(api)}
    sent_back = [stored[event_id] for event_id in response.json()["event_ids"]]
    assert sent_back == [{**event, "event_id": event_id} for event, event_id in zip(batch, response.json()["event_ids"])]


def test_a_batch_of_1000_events_is_accepted(api):
    response = api.post(EVENTS, json=[make_event(message=str(index)) for index in range(1000)])
    assert response.status_code == 201
    assert len(response.json()["event_ids"]) == 1000
    assert Event.objects.count() == 1000


def test_a_batch_of_1001_events_is_400_and_stores_nothing(api):
    body = assert_problem(api.post(EVENTS, json=[make_event() for _ in range(1001)]), 400)
    assert "" in body["errors"]
    assert Event.objects.count() == 0


def test_one_invalid_event_stores_none_and_the_errors_name_it(api):
    batch = [make_event() for _ in range(5)]
    del batch[3]["action_name"]
    batch[4]["event_attributes"]["position"]["ordinal"] = "first"
    batch[1] = "not an event"
    body = assert_problem(api.post(EVENTS, json=batch), 400)
    assert set(body["errors"]) == {"[1]", "[3].action_name", "[4].event_attributes.position.ordinal"}
    assert Event.objects.count() == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"action_name": None}, "action_name"),
        ({"action_name": "a" * 101}, "action_name"),
        ({"timestamp": None}, "timestamp"),
        ({"timestamp": "not a time"}, "timestamp"),
        ({"message": "m" * 1025}, "message"),
        ({"session_id": 7}, "session_id"),
        ({"event_id": ""}, "event_id"),
        ({"event_attributes": {"object": {"object_id": "x"}}}, "event_attributes.position"),
        ({"event_attributes": {"position": []}}, "event_attributes.position"),
        ({"event_attributes": {"position": {"xy": {"x": 1}}}}, "event_attributes.position.xy.y"),
        ({"event_attributes": {"position": {}, "object": {"object_id": "o" * 257}}}, OBJECT_ID),
        ({"event_attributes": {"position": {}, "object": {"object_id": True}}}, OBJECT_ID),
        ({"event_attributes": {"position": {}, "object": {"object_id_type": 5}}}, f"{OBJECT_ID}_type"),
    ],
)
def test_an_invalid_event_is_400_naming_the_field(api, changes, field):
    event = {key: value for key, value in {**make_event(), **changes}.items() if value is not None}
    body = assert_problem(api.post(EVENTS, json=event), 400)
    assert field in body["errors"], body
    assert Event.objects.count() == 0


def test_a_client_chosen_event_id_makes_retries_safe(api):
    batch = [make_event(event_id="evt-1"), make_event(event_id="evt-2", action_name="purchase")]
    first, second = api.post(EVENTS, json=batch), api.post(EVENTS, json=batch)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json() == {"event_ids": ["evt-1", "evt-2"]}
    assert api.post(EVENTS, json=batch[0]).json() == {"event_id": "evt-1"}
    assert Event.objects.count() == 2


def test_the_retry_fingerprint_is_the_sha256_of_the_documents_canonical_json(api):
    # Stored fingerprints must keep matching across releases, or a retry after an upgrade would be a 409.
    # With what orjson writes differently from the standard library: a number below 1e-4, an integer beyond 64 bits.
    event = make_event(
        event_id="pinned-1", message="naïve ✓", event_attributes={"position": {"ordinal": 2.0}}, score=1e-05, big=2**70
    )
    assert api.post(EVENTS, json=event).status_code == 201

    canonical = json.dumps(event, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    stored = Event.objects.get(event_id="pinned-1")
    assert stored.fingerprint == hashlib.sha256(canonical).hexdigest()
    assert stored.extra == {"score": 1e-05, "big": 2**70}


def test_a_retry_mixing_stored_and_new_events_stores_only_the_new_ones(api):
    api.post(EVENTS, json=make_event(event_id="evt-1"))
    response = api.post(EVENTS, json=[make_event(event_id="evt-1"), make_event(event_id="evt-3")])
    assert response.json() == {"event_ids": ["evt-1", "evt-3"]}
    assert sorted(Event.objects.values_list("event_id", flat=True)) == ["evt-1", "evt-3"]


def test_a_stored_event_id_with_different_content_is_409_and_stores_nothing(api):
    api.post(EVENTS, json=make_event(event_id="evt-1"))
    batch = [make_event(event_id="evt-new"), make_event(event_id="evt-1", action_name="purchase")]
    assert_problem(api.post(EVENTS, json=batch), 409)
    assert list(Event.objects.values_list("event_id", flat=True)) == ["evt-1"]


def test_one_event_id_twice_in_a_batch(api):
    same = api.post(EVENTS, json=[make_event(event_id="e"), make_event(event_id="e")])
    assert same.json() == {"event_ids": ["e", "e"]}
    assert Event.objects.count() == 1
    different = api.post(EVENTS, json=[make_event(event_id="f"), make_event(event_id="f", message="other")])
    assert "[1].event_id" in assert_problem(different, 400)["errors"]
