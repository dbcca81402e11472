"""Tracking and reading back, over REST and gRPC alike: the published samples come back unchanged, identifiers are
generated when not given, a retry is one row and a different document under the same identifier a conflict.

What only one protocol has is tested beside it: batches as JSON arrays and their errors by index
(``test_track_events.py``), the client-streaming ``TrackEvents`` and protobuf's own shapes (``test_track_grpc.py``).
"""

import uuid

import pytest

from insights.models import Event, Query
from tests.support.doors import Answer
from tests.support.ubi_documents import make_event, make_query, sample_events, sample_queries


@pytest.mark.parametrize("name", ["query-opensearch", "query-solr"])
def test_a_published_query_sample_is_tracked_and_read_back_unchanged(door, token, ubi_dir, name):
    sample = sample_queries(ubi_dir)[name]
    assert door.call("track_query", token, sample) == Answer("ok", {"query_id": sample["query_id"]})
    assert door.query_with_events(token, sample["query_id"]) == {**sample, "events": []}


def test_the_published_event_sample_is_tracked_and_read_back_unchanged(door, token, ubi_dir):
    # Two leniencies at once: its position is {} and its object has no object_id (README, "Leniencies").
    sample = sample_events(ubi_dir)["event-opensearch"]
    answer = door.call("track_event", token, sample)
    assert answer.outcome == "ok", answer
    event_id = answer.document["event_id"]
    assert Event.objects.get(event_id=event_id).to_document() == {**sample, "event_id": event_id}
    assert door.call("list_events", token).document["items"] == [{**sample, "event_id": event_id}]


def test_a_query_without_query_id_gets_a_generated_uuid(door, token):
    answer = door.call("track_query", token, {"user_query": "red shoes"})
    assert answer.outcome == "ok", answer
    query_id = answer.document["query_id"]
    assert uuid.UUID(query_id)
    assert door.query_with_events(token, query_id) == {"query_id": query_id, "user_query": "red shoes", "events": []}


def test_the_same_query_tracked_twice_is_one_row_and_succeeds_both_times(door, token):
    query = make_query(timestamp="2024-01-01T00:00:00Z")
    first, second = door.call("track_query", token, query), door.call("track_query", token, query)
    assert first == second == Answer("ok", {"query_id": query["query_id"]})
    assert Query.objects.filter(query_id=query["query_id"]).count() == 1


def test_the_same_query_id_with_different_content_is_a_conflict(door, token):
    query = make_query()
    assert door.call("track_query", token, query).outcome == "ok"
    assert door.call("track_query", token, {**query, "user_query": "something else"}).outcome == "conflict"
    assert door.query_with_events(token, query["query_id"])["user_query"] == query["user_query"]
    assert Query.objects.filter(query_id=query["query_id"]).count() == 1


def test_a_retried_event_is_one_row_and_different_content_a_conflict(door, token):
    event = make_event(event_id="checkout-42")
    assert door.call("track_event", token, event) == Answer("ok", {"event_id": "checkout-42"})
    assert door.call("track_event", token, event) == Answer("ok", {"event_id": "checkout-42"})
    assert Event.objects.filter(event_id="checkout-42").count() == 1
    assert door.call("track_event", token, {**event, "action_name": "purchase"}).outcome == "conflict"
    assert Event.objects.get(event_id="checkout-42").action_name == "click"


def test_an_empty_batch_is_invalid_as_a_whole(door, token):
    answer = door.call("track_events", token, [])
    assert (answer.outcome, set(answer.errors)) == ("invalid", {""})


def test_an_unknown_query_id_is_not_found(door, token):
    assert door.call("get_query", token, "no-such-query").outcome == "not found"
