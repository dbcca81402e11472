"""Organisation A never sees, counts or collides with organisation B's UBI data."""

import pytest

from insights.models import Event, Query
from tests.support import factories
from tests.support.problems import assert_problem
from tests.support.ubi_documents import EVENTS, QUERIES, api_with_roles, make_event, make_query

ROLES = ["insights:read", "insights:write"]


@pytest.fixture
def other_api(live_server):
    return api_with_roles(live_server, factories.make_org(), ROLES)


def test_two_organisations_may_track_the_same_query_id(api, other_api):
    ours, theirs = make_query(query_id="q-1", user_query="ours"), make_query(query_id="q-1", user_query="theirs")
    assert api.post(QUERIES, json=ours).status_code == 201
    assert other_api.post(QUERIES, json=theirs).status_code == 201
    assert Query.objects.filter(query_id="q-1").count() == 2
    assert api.get(f"{QUERIES}/q-1").json()["user_query"] == "ours"
    assert other_api.get(f"{QUERIES}/q-1").json()["user_query"] == "theirs"


def test_two_organisations_may_use_the_same_event_id(api, other_api):
    assert api.post(EVENTS, json=make_event(event_id="e-1", query_id="q-1")).status_code == 201
    assert other_api.post(EVENTS, json=make_event(event_id="e-1", message="theirs")).status_code == 201
    assert Event.objects.filter(event_id="e-1").count() == 2


def test_lists_and_counts_show_only_the_callers_rows(api, other_api):
    api.post(QUERIES, json=make_query(query_id="q-1"))
    api.post(EVENTS, json=make_event(query_id="q-1"))
    other_api.post(QUERIES, json=make_query(query_id="q-b1"))
    other_api.post(QUERIES, json=make_query(query_id="q-b2"))
    other_api.post(EVENTS, json=[make_event(query_id="q-1"), make_event(query_id="q-b1")])
    queries, events = api.get(QUERIES).json(), api.get(EVENTS).json()
    assert [item["query_id"] for item in queries["items"]] == ["q-1"] and queries["totalItems"] == 1
    assert events["totalItems"] == 1
    assert api.get(EVENTS, params={"query_id": "q-b1"}).json()["totalItems"] == 0
    assert len(api.get(f"{QUERIES}/q-1").json()["events"]) == 1


def test_another_organisations_query_id_is_404_like_a_missing_one(api, other_api):
    other_api.post(QUERIES, json=make_query(query_id="theirs"))
    foreign = assert_problem(api.get(f"{QUERIES}/theirs"), 404)
    missing = assert_problem(api.get(f"{QUERIES}/nobodys"), 404)
    # Every member alike but the request id, which is each request's own.
    assert foreign.pop("requestId") != missing.pop("requestId")
    assert {key: str(value).replace("theirs", "?") for key, value in foreign.items()} == {
        key: str(value).replace("nobodys", "?") for key, value in missing.items()
    }
