"""ListQueries, GetQuery and ListEvents: the organisation's own data, newest first, paged as over REST."""

import grpc
import pytest
from google.protobuf import timestamp_pb2

from grpc_api.convert import fill_message
from grpc_api.generated import user_behavior_insights_pb2 as ubi
from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from tests.support import factories
from tests.support.grpc import bearer_metadata, field_violations, rejected
from tests.support.ubi_documents import make_event, make_query


def timestamp(text: str) -> timestamp_pb2.Timestamp:
    moment = timestamp_pb2.Timestamp()
    moment.FromJsonString(text)
    return moment


@pytest.fixture
def tracked(ubi_stub, auth):
    """Three queries a day apart (the last with two events), tracked over gRPC; returns their documents."""
    queries = [make_query(timestamp=f"2024-05-1{day}T10:00:00Z", application=app) for day, app in ((1, "shop"), (2, "docs"), (3, "shop"))]
    for query in queries:
        ubi_stub.TrackQuery(rpc.TrackQueryRequest(query=fill_message(ubi.Query(), query)), metadata=auth)
    events = [
        make_event(event_id=f"e{n}", query_id=queries[2]["query_id"], timestamp=f"2024-05-13T10:0{n}:00Z") for n in (1, 2)
    ]
    ubi_stub.TrackEvents(iter([rpc.TrackEventsRequest(events=[fill_message(ubi.Event(), e) for e in events])]), metadata=auth)
    return queries, events


def test_list_queries_newest_first_with_paging(ubi_stub, auth, tracked):
    queries, _ = tracked
    response = ubi_stub.ListQueries(rpc.ListQueriesRequest(page=1, page_size=2), metadata=auth)
    assert [item.query_id for item in response.items] == [queries[2]["query_id"], queries[1]["query_id"]]
    assert (response.page, response.page_size, response.total_items, response.total_pages) == (1, 2, 3, 2)
    assert response.items[0] == fill_message(ubi.Query(), queries[2])
    second = ubi_stub.ListQueries(rpc.ListQueriesRequest(page=2, page_size=2), metadata=auth)
    assert [item.query_id for item in second.items] == [queries[0]["query_id"]]


def test_unset_paging_takes_the_defaults(ubi_stub, auth, tracked):
    response = ubi_stub.ListQueries(rpc.ListQueriesRequest(), metadata=auth)
    assert (response.page, response.page_size, response.total_items) == (1, 50, 3)


def test_list_queries_filters(ubi_stub, auth, tracked):
    queries, _ = tracked
    by_application = ubi_stub.ListQueries(rpc.ListQueriesRequest(application="shop"), metadata=auth)
    assert {item.query_id for item in by_application.items} == {queries[0]["query_id"], queries[2]["query_id"]}
    # from_time inclusive, to_time exclusive, as REST's from and to.
    window = rpc.ListQueriesRequest(from_time=timestamp("2024-05-12T10:00:00Z"), to_time=timestamp("2024-05-13T10:00:00Z"))
    assert [item.query_id for item in ubi_stub.ListQueries(window, metadata=auth).items] == [queries[1]["query_id"]]


def test_get_query_with_its_events_oldest_first(ubi_stub, auth, tracked):
    queries, events = tracked
    response = ubi_stub.GetQuery(rpc.GetQueryRequest(query_id=queries[2]["query_id"]), metadata=auth)
    assert response.query == fill_message(ubi.Query(), queries[2])
    assert list(response.events) == [fill_message(ubi.Event(), event) for event in events]


def test_list_events_filters_and_paging(ubi_stub, auth, tracked):
    queries, events = tracked
    request = rpc.ListEventsRequest(query_id=queries[2]["query_id"], action_name="click", page_size=1)
    response = ubi_stub.ListEvents(request, metadata=auth)
    assert [item.event_id for item in response.items] == ["e2"]
    assert (response.total_items, response.total_pages) == (2, 2)
    assert not ubi_stub.ListEvents(rpc.ListEventsRequest(session_id="none"), metadata=auth).items


def test_another_organisations_data_is_neither_listed_nor_found(ubi_stub, tracked):
    queries, _ = tracked
    stranger = bearer_metadata(factories.bearer_for(factories.make_client().client))
    assert ubi_stub.ListQueries(rpc.ListQueriesRequest(), metadata=stranger).total_items == 0
    assert ubi_stub.ListEvents(rpc.ListEventsRequest(), metadata=stranger).total_items == 0
    error = rejected(ubi_stub.GetQuery, rpc.GetQueryRequest(query_id=queries[0]["query_id"]), metadata=stranger)
    assert error.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("request_", "fields"),
    [
        (rpc.ListQueriesRequest(page=-1), {"page"}),
        (rpc.ListQueriesRequest(page_size=1001), {"pageSize"}),
        (rpc.ListQueriesRequest(page_size=-5, application="a\x00"), {"pageSize", "application"}),
        (rpc.ListEventsRequest(page=-1, action_name="c\x00"), {"page", "action_name"}),
    ],
)
def test_bad_paging_and_filters_are_named_as_over_rest(ubi_stub, auth, request_, fields):
    method = ubi_stub.ListQueries if isinstance(request_, rpc.ListQueriesRequest) else ubi_stub.ListEvents
    assert set(field_violations(rejected(method, request_, metadata=auth))) == fields
