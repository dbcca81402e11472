"""GET /api/v1/ubi/queries, /ubi/queries/{query_id} and /ubi/events: filters, pagination, roles."""

import pytest

from tests.support.problems import assert_problem
from tests.support.ubi_documents import EVENTS, QUERIES, make_event, make_query


@pytest.fixture
def queries(api):
    """Three queries of two applications, an hour apart, oldest first."""
    tracked = [
        make_query(application="shop", client_id="c1", user_query="toner", timestamp="2024-01-01T10:00:00Z"),
        make_query(application="shop", client_id="c2", user_query="paper", timestamp="2024-01-01T11:00:00Z"),
        make_query(application="docs", client_id="c1", user_query="toner", timestamp="2024-01-01T12:00:00+00:00"),
    ]
    for query in tracked:
        assert api.post(QUERIES, json=query).status_code == 201
    return tracked


@pytest.fixture
def events(api, queries):
    """Per query: an impression, then a click; the second query's session also purchases."""
    tracked = []
    for number, query in enumerate(queries):
        for minute, action in enumerate(["impression", "click"]):
            tracked.append(
                make_event(
                    action_name=action,
                    query_id=query["query_id"],
                    session_id=f"s{number}",
                    user_id=f"u{number % 2}",
                    client_id=query["client_id"],
                    application=query["application"],
                    timestamp=f"{query['timestamp'][:13]}:0{minute}:00Z",
                )
            )
    tracked.append(make_event(action_name="purchase", session_id="s1", timestamp="2024-01-01T11:30:00Z"))
    assert api.post(EVENTS, json=tracked).status_code == 201
    return tracked


def ids(response, field="query_id"):
    assert response.status_code == 200, response.text
    return [item[field] for item in response.json()["items"]]


def test_queries_are_listed_newest_first_as_tracked(api, queries):
    response = api.get(QUERIES)
    assert response.json() == {
        "items": list(reversed(queries)),
        "page": 1,
        "pageSize": 50,
        "totalItems": 3,
        "totalPages": 1,
    }


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"application": "shop"}, [1, 0]),
        ({"client_id": "c1"}, [2, 0]),
        ({"user_query": "toner"}, [2, 0]),
        ({"application": "shop", "client_id": "c1"}, [0]),
        ({"from": "2024-01-01T11:00:00Z"}, [2, 1]),
        ({"to": "2024-01-01T11:00:00Z"}, [0]),
        ({"from": "2024-01-01T11:30:00+01:00", "to": "2024-01-01T12:00:00"}, [1]),
        ({"application": "nothing"}, []),
        ({"application": ""}, [2, 1, 0]),
    ],
)
def test_queries_filter(api, queries, filters, expected):
    assert ids(api.get(QUERIES, params=filters)) == [queries[index]["query_id"] for index in expected]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"action_name": "purchase"}, ["purchase"]),
        ({"session_id": "s1"}, ["purchase", "click", "impression"]),
        ({"user_id": "u1", "action_name": "click"}, ["click"]),
        ({"application": "docs"}, ["click", "impression"]),
        ({"client_id": "c2"}, ["click", "impression"]),
        ({"from": "2024-01-01T11:01:00Z", "to": "2024-01-01T12:00:00Z"}, ["purchase", "click"]),
    ],
)
def test_events_filter(api, events, filters, expected):
    assert ids(api.get(EVENTS, params=filters), "action_name") == expected


def test_events_filter_by_query_id(api, queries, events):
    response = api.get(EVENTS, params={"query_id": queries[0]["query_id"]})
    assert ids(response, "action_name") == ["click", "impression"]


def test_a_query_is_read_with_its_events_oldest_first(api, queries, events):
    query = queries[1]
    body = api.get(f"{QUERIES}/{query['query_id']}").json()
    assert [event["action_name"] for event in body.pop("events")] == ["impression", "click"]
    assert body == query


@pytest.mark.parametrize("path", [QUERIES, EVENTS])
def test_pagination(api, events, path):
    total = len(events) if path == EVENTS else 3
    first = api.get(path, params={"pageSize": 2}).json()
    second = api.get(path, params={"pageSize": 2, "page": 2}).json()
    assert (first["page"], first["pageSize"], first["totalItems"]) == (1, 2, total)
    assert first["totalPages"] == second["totalPages"] == -(-total // 2)
    everything = api.get(path, params={"pageSize": 1000}).json()["items"]
    assert first["items"] + second["items"] == everything[:4]


@pytest.mark.parametrize("path", [QUERIES, EVENTS])
@pytest.mark.parametrize("page", ["99", "99999999999"])
def test_a_page_past_the_end_is_empty(api, queries, path, page):
    body = api.get(path, params={"page": page}).json()
    assert body["items"] == [] and body["page"] == int(page)


@pytest.mark.parametrize("path", [QUERIES, EVENTS])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"pageSize": "0"}, "pageSize"),
        ({"pageSize": "1001"}, "pageSize"),
        ({"pageSize": "ten"}, "pageSize"),
        ({"pageSize": "-1"}, "pageSize"),
        ({"page": "0"}, "page"),
        ({"page": "1.5"}, "page"),
        ({"page": "abc"}, "page"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2024-13-01T00:00:00Z"}, "to"),
        ({"no_such_filter": "x"}, "no_such_filter"),
        ({"application": "a\x00b"}, "application"),
    ],
)
def test_bad_list_parameters_are_400_naming_them(api, path, params, field):
    assert field in assert_problem(api.get(path, params=params), 400)["errors"]


def test_page_size_1000_is_allowed(api, queries):
    assert api.get(QUERIES, params={"pageSize": "1000"}).json()["pageSize"] == 1000
