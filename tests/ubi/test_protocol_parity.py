"""REST and gRPC are two doors to the same services: the same input stores the same row and gets the same errors."""

import pytest

from grpc_api.convert import fill_message
from grpc_api.generated import user_behavior_insights_pb2 as ubi
from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from insights.models import Event, Query
from tests.support import factories
from tests.support.api import Api
from tests.support.grpc import bearer_metadata, field_violations, rejected
from tests.support.ubi_documents import EVENTS, QUERIES, make_event, make_query, sample_events, sample_queries

QUERY_DOCUMENTS = {
    "full": make_query(
        query_id="parity-1",
        client_id="browser-7",
        object_id_field="sku",
        timestamp="2024-05-16T12:34:56.789Z",
        query_response_id="r-1",
        query_response_hit_ids=["a", "b"],
        query_attributes={"page": 2, "ratio": 0.5, "flags": [True, None, "x"], "nested": {"deep": {}}},
        experiment="b",
    ),
    "minimal": {"query_id": "parity-2", "user_query": "toner"},
}
EVENT_DOCUMENTS = {
    "full": make_event(
        event_id="parity-e1",
        application="shop",
        query_id="q",
        session_id="s",
        client_id="c",
        user_id="u",
        message_type="CONVERSION",
        message="bought",
        user_query="toner",
        page_id="/cart",
        event_attributes={
            "object": {"object_id": 123, "object_id_type": "product", "internal_id": "i-9", "price": 9.99},
            "position": {"ordinal": 4, "xy": {"x": 1.5, "y": -2}, "page": 1},
            "browser": "firefox",
        },
    ),
}
INVALID_QUERIES = {
    "no user_query": {"application": "shop"},
    "too long and wrong types": {"user_query": "q", "query_id": "q" * 101, "query_attributes": [1], "query_response_hit_ids": [1]},
    "bad timestamp": {"user_query": "q", "timestamp": "yesterday"},
    "reserved events": {"user_query": "q", "events": []},
}
INVALID_EVENTS = {
    "nothing required": {"application": "shop"},
    "bad attributes": make_event(event_attributes={"position": {"ordinal": "3", "xy": {"x": "1"}}, "object": {"object_id": True}}),
    "message too long": make_event(message="m" * 1025, event_id=""),
    "no position": make_event(event_attributes={"object": {}}),
}


@pytest.fixture
def rest(live_server):
    """The REST API, called by a client of one organisation."""
    return Api(live_server.url, factories.bearer_for(factories.make_client().client))


@pytest.fixture
def grpc_metadata(transactional_db):
    """gRPC call metadata of a client of another organisation, so the same identifiers can be tracked twice."""
    return bearer_metadata(factories.bearer_for(factories.make_client().client))


def stored_row(model, document: dict, **identifier) -> dict:
    """The row's columns but its own id and organisation (and the received time of a document without one)."""
    rows = {row["organization_id"]: row for row in model.objects.filter(**identifier).values()}
    assert len(rows) == 2, "tracked once over each protocol"
    ignored = {"id", "organization_id"} | (set() if "timestamp" in document else {"timestamp"})
    first, second = ({k: v for k, v in row.items() if k not in ignored} for row in rows.values())
    assert first == second
    return first


def all_query_documents(ubi_dir):
    return {**QUERY_DOCUMENTS, **sample_queries(ubi_dir)}


@pytest.mark.parametrize("name", [*QUERY_DOCUMENTS, "query-opensearch", "query-solr"])
def test_a_query_is_stored_the_same_over_rest_and_grpc(rest, ubi_stub, grpc_metadata, ubi_dir, name):
    query = all_query_documents(ubi_dir)[name]
    assert rest.post(QUERIES, json=query).status_code == 201
    ubi_stub.TrackQuery(rpc.TrackQueryRequest(query=fill_message(ubi.Query(), query)), metadata=grpc_metadata)
    assert stored_row(Query, query, query_id=query["query_id"])["fingerprint"]


@pytest.mark.parametrize("name", [*EVENT_DOCUMENTS, "event-opensearch"])
def test_an_event_is_stored_the_same_over_rest_and_grpc(rest, ubi_stub, grpc_metadata, ubi_dir, name):
    event = {"event_id": f"parity-{name}", **{**EVENT_DOCUMENTS, **sample_events(ubi_dir)}[name]}
    assert rest.post(EVENTS, json=event).status_code == 201
    ubi_stub.TrackEvent(rpc.TrackEventRequest(event=fill_message(ubi.Event(), event)), metadata=grpc_metadata)
    stored_row(Event, event, event_id=event["event_id"])


@pytest.mark.parametrize("name", sorted(INVALID_QUERIES))
def test_an_invalid_query_gets_the_same_errors(rest, ubi_stub, grpc_metadata, name):
    query = INVALID_QUERIES[name]
    request = rpc.TrackQueryRequest(query=fill_message(ubi.Query(), query))
    grpc_errors = field_violations(rejected(ubi_stub.TrackQuery, request, metadata=grpc_metadata))
    assert grpc_errors == rest.post(QUERIES, json=query).json()["errors"]


@pytest.mark.parametrize("name", sorted(INVALID_EVENTS))
def test_an_invalid_event_gets_the_same_errors(rest, ubi_stub, grpc_metadata, name):
    event = INVALID_EVENTS[name]
    request = rpc.TrackEventRequest(event=fill_message(ubi.Event(), event))
    grpc_errors = field_violations(rejected(ubi_stub.TrackEvent, request, metadata=grpc_metadata))
    assert grpc_errors == rest.post(EVENTS, json=event).json()["errors"]


def test_a_batch_gets_the_same_errors_as_a_stream(rest, ubi_stub, grpc_metadata):
    batch = [make_event(), *INVALID_EVENTS.values(), make_event()]
    stream = iter([rpc.TrackEventsRequest(events=[fill_message(ubi.Event(), event) for event in batch])])
    grpc_errors = field_violations(rejected(ubi_stub.TrackEvents, stream, metadata=grpc_metadata))
    assert grpc_errors == rest.post(EVENTS, json=batch).json()["errors"]
    assert not Event.objects.exists()


def test_a_list_reads_the_same_over_rest_and_grpc(rest, ubi_stub):
    # One organisation this time: both doors read what the REST one tracked.
    rest_metadata = (("authorization", rest.session.headers["Authorization"]),)
    for query in QUERY_DOCUMENTS.values():
        rest.post(QUERIES, json=query)
    over_rest = rest.get(QUERIES, params={"pageSize": 1}).json()
    over_grpc = ubi_stub.ListQueries(rpc.ListQueriesRequest(page_size=1), metadata=rest_metadata)
    assert [fill_message(ubi.Query(), item) for item in over_rest["items"]] == list(over_grpc.items)
    assert (over_rest["page"], over_rest["pageSize"], over_rest["totalItems"], over_rest["totalPages"]) == (
        over_grpc.page,
        over_grpc.page_size,
        over_grpc.total_items,
        over_grpc.total_pages,
    )
