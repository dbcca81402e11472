"""TrackQuery, TrackEvent and the client-streaming TrackEvents, what only gRPC has: streams, protobuf's shapes,
errors by field in ``BadRequest``. What both protocols do alike is ``test_tracking.py``."""

import grpc
import pytest
from google.protobuf import struct_pb2

from grpc_api.convert import fill_message
from grpc_api.generated import user_behavior_insights_pb2 as ubi
from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from insights.models import Event, Query
from tests.support.grpc import field_violations, rejected, stream_of
from tests.support.ubi_documents import make_event, make_query


def query_request(document: dict) -> rpc.TrackQueryRequest:
    return rpc.TrackQueryRequest(query=fill_message(ubi.Query(), document))


def event_request(document: dict) -> rpc.TrackEventRequest:
    return rpc.TrackEventRequest(event=fill_message(ubi.Event(), document))


def test_a_query_is_stored_and_answers_its_query_id(ubi_stub, auth, org):
    query = make_query(timestamp="2024-05-16T12:34:56.789Z", query_attributes={"page": 2, "filters": ["red"]})
    response = ubi_stub.TrackQuery(query_request(query), metadata=auth)
    assert response.query_id == query["query_id"]
    row = Query.objects.get(query_id=query["query_id"])
    assert row.organization == org
    assert row.to_document() == query


def test_ten_thousand_streamed_events_are_all_stored_in_order(ubi_stub, auth):
    # Batches of several sizes, so the stream crosses the service's 1000-event batches at odd places.
    documents = [make_event(event_id=f"e{index:05}", session_id=f"s{index % 7}") for index in range(10_000)]
    sizes = [1, 999, 2, 3000, 1, 5997]
    batches, start = [], 0
    for size in sizes:
        batches.append(documents[start : start + size])
        start += size
    response = ubi_stub.TrackEvents(stream_of(*batches), metadata=auth)
    assert list(response.event_ids) == [document["event_id"] for document in documents]
    assert Event.objects.count() == 10_000
    assert Event.objects.get(event_id="e04321").to_document() == documents[4321]


def test_one_invalid_event_in_a_stream_stores_none_and_is_named_by_its_stream_position(ubi_stub, auth):
    documents = [make_event() for _ in range(2500)]
    del documents[1500]["action_name"]
    documents[2499]["message"] = "x" * 1025
    error = rejected(ubi_stub.TrackEvents, stream_of(documents[:1000], documents[1000:]), metadata=auth)
    assert set(field_violations(error)) == {"[1500].action_name", "[2499].message"}
    assert not Event.objects.exists()


def test_a_stream_over_the_limit_is_out_of_range(ubi_stub, auth, settings):
    settings.UBI = {**settings.UBI, "MAX_EVENTS_PER_STREAM": 5}
    error = rejected(ubi_stub.TrackEvents, stream_of([make_event()] * 3, [make_event()] * 3), metadata=auth)
    assert error.code() == grpc.StatusCode.OUT_OF_RANGE
    assert not Event.objects.exists()


def with_additional(message, **fields):
    message.additional_properties.update(fields)
    return message


def object_with_id(value: struct_pb2.Value) -> ubi.Event:
    event = fill_message(ubi.Event(), make_event())
    event.event_attributes.object.object_id.CopyFrom(value)
    return event


INVALID_QUERIES = {
    "no user_query": (ubi.Query(application="shop"), {"user_query"}),
    "query_id too long": (ubi.Query(user_query="q", query_id="q" * 101), {"query_id"}),
    "application too long": (ubi.Query(user_query="q", application="a" * 101), {"application"}),
    "object_id_field too long": (ubi.Query(user_query="q", object_id_field="f" * 101), {"object_id_field"}),
    "a NUL in a string": (ubi.Query(user_query="q\x00"), {"user_query"}),
    "query_attributes not an object": (with_additional(ubi.Query(user_query="q"), query_attributes=[1]), {"query_attributes"}),
    "hit ids not strings": (with_additional(ubi.Query(user_query="q"), query_response_hit_ids=[1, 2]), {"query_response_hit_ids"}),
    "events is reserved": (with_additional(ubi.Query(user_query="q"), events=[]), {"events"}),
    "given twice": (with_additional(ubi.Query(user_query="q"), user_query="r"), {"user_query"}),
}
INVALID_EVENTS = {
    "no action_name or timestamp": (ubi.Event(application="shop"), {"action_name", "timestamp"}),
    "message too long": (fill_message(ubi.Event(), make_event(message="m" * 1025)), {"message"}),
    "event_id empty": (fill_message(ubi.Event(), make_event(event_id="")), {"event_id"}),
    "no position": (fill_message(ubi.Event(), make_event(event_attributes={"object": {"object_id": 1}})), {"event_attributes.position"}),
    "ordinal not an integer": (
        fill_message(ubi.Event(), make_event(event_attributes={"position": {"ordinal": "3"}})),
        {"event_attributes.position.ordinal"},
    ),
    "xy without y": (
        fill_message(ubi.Event(), make_event(event_attributes={"position": {"xy": {"x": 1}}})),
        {"event_attributes.position.xy.y"},
    ),
    "object_id neither string nor integer": (
        object_with_id(struct_pb2.Value(bool_value=True)),
        {"event_attributes.object.object_id"},
    ),
    "object_id too long": (object_with_id(struct_pb2.Value(string_value="o" * 257)), {"event_attributes.object.object_id"}),
    "timestamp out of range": (ubi.Event(action_name="click", timestamp={"seconds": 300_000_000_000}), {"timestamp"}),
    "a number not finite": (with_additional(fill_message(ubi.Event(), make_event()), score=float("nan")), {"score"}),
    "timestamp before year 1": (ubi.Event(action_name="click", timestamp={"seconds": -62_135_596_801}), {"timestamp"}),
    "timestamp nanos negative": (ubi.Event(action_name="click", timestamp={"seconds": 0, "nanos": -1}), {"timestamp"}),
    "timestamp nanos a second": (ubi.Event(action_name="click", timestamp={"nanos": 1_000_000_000}), {"timestamp"}),
}


@pytest.mark.parametrize("case", sorted(INVALID_QUERIES))
def test_an_invalid_query_names_its_fields_in_bad_request(ubi_stub, auth, case):
    query, fields = INVALID_QUERIES[case]
    error = rejected(ubi_stub.TrackQuery, rpc.TrackQueryRequest(query=query), metadata=auth)
    violations = field_violations(error)
    assert set(violations) == fields and all(violations.values())
    assert not Query.objects.exists()


@pytest.mark.parametrize("case", sorted(INVALID_EVENTS))
def test_an_invalid_event_names_its_fields_in_bad_request(ubi_stub, auth, case):
    event, fields = INVALID_EVENTS[case]
    error = rejected(ubi_stub.TrackEvent, rpc.TrackEventRequest(event=event), metadata=auth)
    violations = field_violations(error)
    assert set(violations) == fields and all(violations.values())
    stream_error = rejected(ubi_stub.TrackEvents, iter([rpc.TrackEventsRequest(events=[ubi.Event(), event])]), metadata=auth)
    assert set(field_violations(stream_error)) >= {f"[1].{field}" for field in fields}
    assert not Event.objects.exists()
