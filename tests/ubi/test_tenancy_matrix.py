"""Every REST endpoint and every gRPC RPC, read and write, with two organisations holding look-alike data.

Organisation B's rows share every filterable value with A's (application, client_id, user_query, action_name,
query_id, session_id, user_id, time) and even A's ``query_id`` and ``event_id``; each row says whose it is
(``query_attributes.owner``, ``message``). Calling as A, nothing of B is visible, counted, or collided with, and
B's rows are unchanged afterwards. The matrix is checked against the URL patterns and the service descriptor,
so an endpoint, an RPC or a filter added without a row here fails the first tests.
"""

import grpc
import pytest
import requests
from django.urls import URLPattern, URLResolver, get_resolver
from google.protobuf import timestamp_pb2

from analytics.models import JudgmentList
from analytics.services import compute_judgment_list
from grpc_api import convert
from grpc_api.generated import user_behavior_insights_pb2 as ubi
from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from insights import services
from insights.models import Event, Query
from insights.selectors import EVENT_FILTERS, QUERY_FILTERS, TIME_FILTERS
from lifecycle.erasure import ERASE_ROLE
from lifecycle.erasure import KINDS as ERASURE_KINDS
from oauth.principals import principal_from_bearer
from tests.support import factories
from tests.support.api import Api
from tests.support.grpc import bearer_metadata, rejected
from tests.support.ubi_documents import make_event, make_query

ROLES = ["insights:read", "insights:write"]
SERVICE = rpc.DESCRIPTOR.services_by_name["UserBehaviorInsightsService"]
# The same for every caller: documentation, not tenant data.
# Documents the same for everyone: the API's description, its .proto files, and the collector script.
NOT_TENANT_DATA = {
    "/api/v1/openapi.json", "/api/v1/docs", "/api/v1/protos/", "/api/v1/protos/<str:name>", "/collect/ubi.js",
}

SHARED_QUERY_ID, A_ONLY_QUERY_ID, B_ONLY_QUERY_ID = "shared-q", "a-only-q", "b-only-q"
SHARED_EVENT_ID, B_ONLY_EVENT_ID = "shared-e", "b-only-e"
# Every filter's value matches A's rows and B's alike.
FILTER_VALUES = {
    "application": "shop",
    "client_id": "device-1",
    "user_query": "toner",
    "action_name": "click",
    "query_id": SHARED_QUERY_ID,
    "session_id": "session-1",
    "user_id": "user-1",
    "from": "2024-05-01T00:00:00Z",
    "to": "2024-06-01T00:00:00Z",
}


def query_of(owner: str, query_id: str) -> dict:
    return make_query(
        query_id=query_id, application="shop", client_id="device-1", user_query="toner",
        timestamp="2024-05-16T12:00:00Z", query_attributes={"owner": owner},
    )


def event_of(owner: str, event_id: str | None = None) -> dict:
    event = make_event(
        query_id=SHARED_QUERY_ID, application="shop", client_id="device-1", session_id="session-1",
        user_id="user-1", message=owner, timestamp="2024-05-16T12:01:00Z",
    )
    return {**event, "event_id": event_id} if event_id else event


class World:
    """A and B, each a client with both roles and its tracked data; A owns one query and one event."""

    def __init__(self):
        self.org_a, self.org_b = factories.make_org("A"), factories.make_org("B")
        self.token_a = factories.bearer_for(factories.make_client(self.org_a, roles=ROLES).client)
        b = principal_from_bearer(factories.bearer_for(factories.make_client(self.org_b, roles=ROLES).client))
        a = principal_from_bearer(self.token_a)
        services.track_query(a, query=query_of("A", SHARED_QUERY_ID))
        services.track_events(a, events=[event_of("A", SHARED_EVENT_ID)])
        for query_id in (SHARED_QUERY_ID, B_ONLY_QUERY_ID):
            services.track_query(b, query=query_of("B", query_id))
        services.track_events(b, events=[event_of("B", SHARED_EVENT_ID), event_of("B", B_ONLY_EVENT_ID), event_of("B")])
        self.b_rows = self.rows_of_b()

    def rows_of_b(self) -> tuple[list, list]:
        return (
            list(Query.objects.filter(organization=self.org_b).order_by("pk").values()),
            list(Event.objects.filter(organization=self.org_b).order_by("pk").values()),
        )


def assert_only_a(queries: list[dict] = (), events: list[dict] = ()) -> None:
    assert [query["query_attributes"]["owner"] for query in queries] == ["A"] * len(queries)
    assert [event["message"] for event in events] == ["A"] * len(events)


# REST: each case calls as A and checks the answer. Lists run once unfiltered and once per filter.


def rest_track_query(api: Api, world: World, _filter):
    # B's query_id with other content: a new query of A's, not B's query and not a 409.
    assert api.post("/api/v1/ubi/queries", json=query_of("A", B_ONLY_QUERY_ID)).status_code == 201
    assert api.post("/api/v1/ubi/queries", json=query_of("A", A_ONLY_QUERY_ID)).status_code == 201
    assert_only_a(queries=[api.get(f"/api/v1/ubi/queries/{B_ONLY_QUERY_ID}").json()])


def rest_track_events(api: Api, world: World, _filter):
    assert api.post("/api/v1/ubi/events", json=event_of("A", B_ONLY_EVENT_ID)).status_code == 201  # one
    batch = [event_of("A", B_ONLY_EVENT_ID), event_of("A", "a-new-e")]
    assert api.post("/api/v1/ubi/events", json=batch).status_code == 201  # a batch; the retry changes nothing
    listed = api.get("/api/v1/ubi/events").json()
    assert listed["totalItems"] == 3
    assert_only_a(events=listed["items"])


def rest_list_queries(api: Api, world: World, name):
    page = api.get("/api/v1/ubi/queries", params={name: FILTER_VALUES[name]} if name else {}).json()
    assert (page["totalItems"], page["totalPages"], len(page["items"])) == (1, 1, 1), page
    assert_only_a(queries=page["items"])


def rest_get_query(api: Api, world: World, _filter):
    query = api.get(f"/api/v1/ubi/queries/{SHARED_QUERY_ID}").json()
    assert_only_a(queries=[query], events=query["events"])
    assert len(query["events"]) == 1
    assert api.get(f"/api/v1/ubi/queries/{B_ONLY_QUERY_ID}").status_code == 404


def rest_list_events(api: Api, world: World, name):
    page = api.get("/api/v1/ubi/events", params={name: FILTER_VALUES[name]} if name else {}).json()
    assert (page["totalItems"], page["totalPages"], len(page["items"])) == (1, 1, 1), page
    assert_only_a(events=page["items"])


def rest_erase_subject(api: Api, world: World, kind):
    # B's look-alike rows carry the same user_id, client_id and session_id: A's one event and its query go only.
    eraser = Api(api.base_url, factories.bearer_for(factories.make_client(world.org_a, roles=[ERASE_ROLE]).client))
    answer = eraser.delete(f"/api/v1/ubi/subjects/{kind}/{FILTER_VALUES[kind]}")
    assert answer.json() == {"queries": 1, "events": 1, "suppressed": False}
    assert api.get("/api/v1/ubi/events").json()["totalItems"] == 0
    assert api.get("/api/v1/ubi/queries").json()["totalItems"] == 0


def rest_me(api: Api, world: World, _filter):
    assert api.get("/api/v1/me").json()["organization"] == str(world.org_a.pk)


def list_of_b(world: World) -> str:
    """A judgment list of B's (computed from B's rows, which it leaves as they are): its id."""
    b = principal_from_bearer(factories.bearer_for(factories.make_client(world.org_b, roles=ROLES).client))
    return compute_judgment_list(b, name="B's", model="coec", filters={})["id"]


def rest_compute_judgments(api: Api, world: World, _filter):
    # A shows sku-1 once at rank 1, where A clicked it once; B's three clicks there are never counted.
    impression = event_of("A") | {"action_name": "impression"}
    assert api.post("/api/v1/ubi/events", json=impression).status_code == 201
    created = api.post("/api/v1/judgments", json={"name": "A's", "model": "coec"}).json()
    judgments = api.get(f"/api/v1/judgments/{created['id']}").json()["judgments"]
    assert judgments == [{"query": "toner", "docId": "sku-1", "rating": 1.0, "impressions": 1, "clicks": 1}]


def rest_list_judgments(api: Api, world: World, _filter):
    list_of_b(world)
    assert api.get("/api/v1/judgments").json() == []


def rest_get_judgments(api: Api, world: World, _filter):
    list_id = list_of_b(world)
    for format_name in ("json", "csv", "trec", "trec-queries", "srw"):
        assert api.get(f"/api/v1/judgments/{list_id}", params={"format": format_name}).status_code == 404


def rest_delete_judgments(api: Api, world: World, _filter):
    list_id = list_of_b(world)
    assert api.delete(f"/api/v1/judgments/{list_id}").status_code == 404
    assert JudgmentList.objects.filter(pk=list_id).exists()


def analytics_params(name: str | None) -> dict:
    return {name: FILTER_VALUES[name]} if name else {}


# A's one search has one click, at rank 1 (its query has no hit ids, so no impressions); B's three clicks, one of
# them on the query_id A's search shares, and B's two searches would each change every figure.
def rest_analytics_summary(api: Api, world: World, name):
    summary = api.get("/api/v1/analytics/summary", params=analytics_params(name)).json()
    assert (summary["searches"], summary["distinctQueries"], summary["ctr"]) == (1, 1, 1.0), summary


def rest_analytics_ctr_by_rank(api: Api, world: World, name):
    ranks = api.get("/api/v1/analytics/ctr-by-rank", params=analytics_params(name)).json()["ranks"]
    assert (ranks[0]["impressions"], ranks[0]["clicks"]) == (0, 1), ranks[0]
    assert sum(rank["clicks"] for rank in ranks) == 1


def rest_analytics_queries(api: Api, world: World, name):
    table = api.get("/api/v1/analytics/queries", params=analytics_params(name)).json()
    assert table["queries"] == [{"query": "toner", "searches": 1, "clicks": 1, "ctr": 1.0}]


def rest_analytics_over_time(api: Api, world: World, name):
    points = api.get("/api/v1/analytics/searches-over-time", params=analytics_params(name)).json()["points"]
    assert sum(point["searches"] for point in points) == 1


def collect_url_of_a(api: Api, world: World) -> str:
    """The collector URL of a new ingest key of A's for the application all rows share."""
    return f"{api.base_url}/collect/{factories.make_ingest_key(world.org_a, FILTER_VALUES['application']).key}"


def collect_queries(api: Api, world: World, _filter):
    # With A's key, B's query_id with other content: a new query of A's, not B's query and not a 409.
    url = collect_url_of_a(api, world)
    assert requests.post(f"{url}/ubi_queries", json=[query_of("A", B_ONLY_QUERY_ID)], timeout=30).status_code == 201
    assert_only_a(queries=[api.get(f"/api/v1/ubi/queries/{B_ONLY_QUERY_ID}").json()])


def collect_events(api: Api, world: World, _filter):
    url = collect_url_of_a(api, world)
    batch = [event_of("A", B_ONLY_EVENT_ID), event_of("A", SHARED_EVENT_ID)]  # the second: a retry of A's own
    assert requests.post(f"{url}/ubi_events", json=batch, timeout=30).status_code == 201
    listed = api.get("/api/v1/ubi/events").json()
    assert listed["totalItems"] == 2
    assert_only_a(events=listed["items"])


ANALYTICS_FILTERS = [None, "application", *TIME_FILTERS]

REST_MATRIX = {
    ("POST", "/api/v1/ubi/queries"): (rest_track_query, [None]),
    ("GET", "/api/v1/ubi/queries"): (rest_list_queries, [None, *QUERY_FILTERS, *TIME_FILTERS]),
    ("GET", "/api/v1/ubi/queries/<str:query_id>"): (rest_get_query, [None]),
    ("POST", "/api/v1/ubi/events"): (rest_track_events, [None]),
    ("GET", "/api/v1/ubi/events"): (rest_list_events, [None, *EVENT_FILTERS, *TIME_FILTERS]),
    ("DELETE", "/api/v1/ubi/subjects/<str:kind>/<text:value>"): (rest_erase_subject, list(ERASURE_KINDS)),
    ("GET", "/api/v1/me"): (rest_me, [None]),
    ("POST", "/api/v1/judgments"): (rest_compute_judgments, [None]),
    ("GET", "/api/v1/judgments"): (rest_list_judgments, [None]),
    ("GET", "/api/v1/judgments/<str:list_id>"): (rest_get_judgments, [None]),
    ("DELETE", "/api/v1/judgments/<str:list_id>"): (rest_delete_judgments, [None]),
    ("GET", "/api/v1/analytics/summary"): (rest_analytics_summary, ANALYTICS_FILTERS),
    ("GET", "/api/v1/analytics/ctr-by-rank"): (rest_analytics_ctr_by_rank, ANALYTICS_FILTERS),
    ("GET", "/api/v1/analytics/queries"): (rest_analytics_queries, ANALYTICS_FILTERS),
    ("GET", "/api/v1/analytics/searches-over-time"): (rest_analytics_over_time, ANALYTICS_FILTERS),
    ("POST", "/collect/<str:key>/ubi_queries"): (collect_queries, [None]),
    ("POST", "/collect/<str:key>/ubi_events"): (collect_events, [None]),
}


# gRPC: the same, through a real channel.


def timestamp(text: str) -> timestamp_pb2.Timestamp:
    moment = timestamp_pb2.Timestamp()
    moment.FromJsonString(text)
    return moment


def grpc_filter(name: str | None) -> dict:
    """A list request's fields for one REST filter name (``from`` and ``to`` are ``from_time`` and ``to_time``)."""
    if name is None:
        return {}
    if name in TIME_FILTERS:
        return {f"{name}_time": timestamp(FILTER_VALUES[name])}
    return {name: FILTER_VALUES[name]}


def documents(messages) -> list[dict]:
    return [convert.message_to_dict(message) for message in messages]


def grpc_track_query(stub, metadata, world: World, _filter):
    for query_id in (B_ONLY_QUERY_ID, A_ONLY_QUERY_ID):
        request = rpc.TrackQueryRequest(query=convert.fill_message(ubi.Query(), query_of("A", query_id)))
        assert stub.TrackQuery(request, metadata=metadata).query_id == query_id
    fetched = stub.GetQuery(rpc.GetQueryRequest(query_id=B_ONLY_QUERY_ID), metadata=metadata)
    assert_only_a(queries=documents([fetched.query]))


def grpc_track_event(stub, metadata, world: World, _filter):
    request = rpc.TrackEventRequest(event=convert.fill_message(ubi.Event(), event_of("A", B_ONLY_EVENT_ID)))
    assert stub.TrackEvent(request, metadata=metadata).event_id == B_ONLY_EVENT_ID
    listed = stub.ListEvents(rpc.ListEventsRequest(), metadata=metadata)
    assert listed.total_items == 2
    assert_only_a(events=documents(listed.items))


def grpc_track_events(stub, metadata, world: World, _filter):
    batch = [event_of("A", B_ONLY_EVENT_ID), event_of("A", SHARED_EVENT_ID)]
    stream = iter([rpc.TrackEventsRequest(events=[convert.fill_message(ubi.Event(), event) for event in batch])])
    assert list(stub.TrackEvents(stream, metadata=metadata).event_ids) == [B_ONLY_EVENT_ID, SHARED_EVENT_ID]
    listed = stub.ListEvents(rpc.ListEventsRequest(), metadata=metadata)
    assert listed.total_items == 2
    assert_only_a(events=documents(listed.items))


def grpc_list_queries(stub, metadata, world: World, name):
    page = stub.ListQueries(rpc.ListQueriesRequest(**grpc_filter(name)), metadata=metadata)
    assert (page.total_items, page.total_pages, len(page.items)) == (1, 1, 1), page
    assert_only_a(queries=documents(page.items))


def grpc_get_query(stub, metadata, world: World, _filter):
    response = stub.GetQuery(rpc.GetQueryRequest(query_id=SHARED_QUERY_ID), metadata=metadata)
    assert_only_a(queries=documents([response.query]), events=documents(response.events))
    assert len(response.events) == 1
    error = rejected(stub.GetQuery, rpc.GetQueryRequest(query_id=B_ONLY_QUERY_ID), metadata=metadata)
    assert error.code() == grpc.StatusCode.NOT_FOUND


def grpc_list_events(stub, metadata, world: World, name):
    page = stub.ListEvents(rpc.ListEventsRequest(**grpc_filter(name)), metadata=metadata)
    assert (page.total_items, page.total_pages, len(page.items)) == (1, 1, 1), page
    assert_only_a(events=documents(page.items))


GRPC_MATRIX = {
    "TrackQuery": (grpc_track_query, [None]),
    "TrackEvent": (grpc_track_event, [None]),
    "TrackEvents": (grpc_track_events, [None]),
    "ListQueries": (grpc_list_queries, [None, *QUERY_FILTERS, *TIME_FILTERS]),
    "GetQuery": (grpc_get_query, [None]),
    "ListEvents": (grpc_list_events, [None, *EVENT_FILTERS, *TIME_FILTERS]),
}


def cases(matrix: dict) -> list:
    return [
        pytest.param(key, variant, id=f"{' '.join(key) if isinstance(key, tuple) else key}-{variant or 'all'}")
        for key, (_case, variants) in matrix.items()
        for variant in variants
    ]


# The matrix covers everything there is.


def api_endpoints() -> set[tuple[str, str]]:
    """(method, route) of every view under /api/ and /collect/, from the URL patterns and the methods each view
    defines."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield "/" + prefix + str(pattern.pattern), pattern.callback

    return {
        (method.upper(), route)
        for route, callback in walk(get_resolver().url_patterns)
        if route.startswith(("/api/", "/collect/")) and route not in NOT_TENANT_DATA
        for view in [callback.view_class]  # a function view under /api/ fails here: give it a class
        for method in view.http_method_names
        if method not in ("options", "head") and hasattr(view, method)
    }


def test_every_api_endpoint_is_in_the_matrix():
    assert set(REST_MATRIX) == api_endpoints()


def test_every_rpc_is_in_the_matrix():
    assert set(GRPC_MATRIX) == {method.name for method in SERVICE.methods}


@pytest.mark.parametrize("request_type, filters", [
    (rpc.ListQueriesRequest, REST_MATRIX[("GET", "/api/v1/ubi/queries")][1]),
    (rpc.ListEventsRequest, REST_MATRIX[("GET", "/api/v1/ubi/events")][1]),
])
def test_every_list_filter_is_in_the_matrix(request_type, filters):
    fields = {field.name for field in request_type.DESCRIPTOR.fields} - {"page", "page_size"}
    assert fields == {next(iter(grpc_filter(name))) for name in filters if name}
    assert set(QUERY_FILTERS + EVENT_FILTERS + TIME_FILTERS) <= set(FILTER_VALUES)


# The matrix itself.


@pytest.mark.parametrize("endpoint, variant", cases(REST_MATRIX))
def test_rest(live_server, endpoint, variant):
    world = World()
    case, _variants = REST_MATRIX[endpoint]
    case(Api(live_server.url, world.token_a), world, variant)
    assert world.rows_of_b() == world.b_rows


@pytest.mark.parametrize("rpc_name, variant", cases(GRPC_MATRIX))
def test_grpc(ubi_stub, rpc_name, variant):
    world = World()
    case, _variants = GRPC_MATRIX[rpc_name]
    case(ubi_stub, bearer_metadata(world.token_a), world, variant)
    assert world.rows_of_b() == world.b_rows
