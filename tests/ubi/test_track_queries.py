"""POST /api/v1/ubi/queries: track a UBI query, safe to retry."""

from datetime import UTC, datetime

import pytest

from insights.models import Query
from tests.support.problems import assert_problem
from tests.support.ubi_documents import QUERIES, make_query


def test_unknown_fields_are_kept_and_given_back(api):
    query = make_query(experiment={"arm": "b", "weights": [1, 2.5, None, True]}, page_id="/search")
    api.post(QUERIES, json=query)
    assert api.get(f"{QUERIES}/{query['query_id']}").json() == {**query, "events": []}


@pytest.mark.parametrize(
    ("sent", "utc"),
    [
        ("2018-11-13T20:20:39+00:00", datetime(2018, 11, 13, 20, 20, 39, tzinfo=UTC)),
        ("2018-11-13T20:20:39Z", datetime(2018, 11, 13, 20, 20, 39, tzinfo=UTC)),
        ("2018-11-13T20:20:39", datetime(2018, 11, 13, 20, 20, 39, tzinfo=UTC)),
        ("2018-11-13T22:20:39.5+02:00", datetime(2018, 11, 13, 20, 20, 39, 500000, tzinfo=UTC)),
        ("2018-11-13t20:20:39z", datetime(2018, 11, 13, 20, 20, 39, tzinfo=UTC)),
    ],
)
def test_every_iso_8601_form_of_the_schema_examples_is_stored_in_utc(api, sent, utc):
    query = make_query(timestamp=sent)
    assert api.post(QUERIES, json=query).status_code == 201
    row = Query.objects.get(query_id=query["query_id"])
    assert row.timestamp == utc
    assert api.get(f"{QUERIES}/{query['query_id']}").json()["timestamp"] == sent


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"application": "shop"}, "user_query"),
        ({"user_query": 42}, "user_query"),
        ({"user_query": "x", "application": "a" * 101}, "application"),
        ({"user_query": "x", "query_id": "q" * 101}, "query_id"),
        ({"user_query": "x", "query_attributes": ["not", "an", "object"]}, "query_attributes"),
        ({"user_query": "x", "query_response_hit_ids": ["a", 1]}, "query_response_hit_ids"),
        ({"user_query": "x", "timestamp": "yesterday"}, "timestamp"),
        ({"user_query": "x", "timestamp": "2018-11-13"}, "timestamp"),
        ({"user_query": "x", "timestamp": "0001-01-01T00:00:00+01:00"}, "timestamp"),
        ({"user_query": "x", "client_id": None}, "client_id"),
    ],
)
def test_an_invalid_query_is_400_naming_the_field(api, query, field):
    body = assert_problem(api.post(QUERIES, json=query), 400)
    assert field in body["errors"], body
    assert Query.objects.count() == 0


@pytest.mark.parametrize("body", [[], "a string", 3])
def test_a_body_that_is_no_object_is_400_for_the_whole_request(api, body):
    assert "" in assert_problem(api.post(QUERIES, json=body), 400)["errors"]


def test_malformed_json_is_400(api):
    response = api.post(QUERIES, data=b'{"user_query": ', headers={"Content-Type": "application/json"})
    assert "" in assert_problem(response, 400)["errors"]
