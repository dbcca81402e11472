"""The limits README.md states: body size, batch size, string lengths, JSON depth. A 400 or 413, never a 500."""

import pytest

from insights.models import Event, Query
from tests.support.problems import assert_problem
from tests.support.ubi_documents import EVENTS, QUERIES, make_event, make_query


@pytest.fixture
def small_body_limit(settings):
    settings.UBI = {**settings.UBI, "MAX_REQUEST_BYTES": 2000}


@pytest.mark.parametrize("path", [QUERIES, EVENTS])
def test_a_body_over_the_byte_limit_is_413(api, small_body_limit, path):
    document = make_query(user_query="x" * 3000) if path == QUERIES else make_event(user_query="x" * 3000)
    body = assert_problem(api.post(path, json=document), 413)
    assert "2000" in body["detail"]
    assert Query.objects.count() + Event.objects.count() == 0


def test_a_body_at_the_byte_limit_is_accepted(api, small_body_limit):
    assert api.post(QUERIES, json=make_query(user_query="x" * 1500)).status_code == 201


def test_the_batch_limit_is_a_setting(api, settings):
    settings.UBI = {**settings.UBI, "MAX_EVENTS_PER_REQUEST": 3}
    assert api.post(EVENTS, json=[make_event()] * 3).status_code == 201
    assert "" in assert_problem(api.post(EVENTS, json=[make_event()] * 4), 400)["errors"]


def nested(depth: int):
    """A JSON value whose containers nest ``depth`` levels."""
    value = "leaf"
    for _ in range(depth):
        value = {"next": value}
    return value


def test_nesting_up_to_32_levels_is_accepted(api):
    # The query itself is level 1.
    assert api.post(QUERIES, json=make_query(deep=nested(31))).status_code == 201


@pytest.mark.parametrize("depth", [32, 5000])
def test_nesting_deeper_is_400(api, depth):
    response = api.post(
        QUERIES,
        data='{"user_query": "x", "deep": ' + '{"a": ' * depth + "1" + "}" * depth + "}",
        headers={"Content-Type": "application/json"},
    )
    body = assert_problem(response, 400)
    assert set(body["errors"]) <= {"deep", ""}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"user_query": "x", "n": 1e400}', "n"),
        ('{"user_query": "x", "n": NaN}', ""),
        ('{"user_query": "a\\u0000b"}', "user_query"),
        ('{"user_query": "x", "extra": ["\\ud800"]}', "extra"),
        ('{"user_query": "x", "extra": {"\\u0000": 1}}', "extra"),
        ('{"user_query": "x", "\\u0000": 1}', ""),
        # Text that orjson cannot write (an integer beyond 64 bits) is checked string by string instead.
        ('{"user_query": "a\\u0000b", "big": 100000000000000000000000}', "user_query"),
        ('{"user_query": "x", "extra": {"list": [1, "y", 1e400]}}', "extra"),
    ],
)
def test_what_the_database_cannot_store_is_400(api, raw, field):
    response = api.post(QUERIES, data=raw.encode(), headers={"Content-Type": "application/json"})
    assert field in assert_problem(response, 400)["errors"]


def test_invalid_utf8_is_400(api):
    response = api.post(QUERIES, data=b'{"user_query": "\xff"}', headers={"Content-Type": "application/json"})
    assert "" in assert_problem(response, 400)["errors"]


def test_a_body_that_is_not_json_is_415(api):
    assert_problem(api.post(QUERIES, data="user_query=x", headers={"Content-Type": "text/plain"}), 415)


def test_big_integers_are_kept_exactly(api):
    query = make_query(big=2**70, negative=-(2**65), small=0.1)
    api.post(QUERIES, json=query)
    body = api.get(f"{QUERIES}/{query['query_id']}").json()
    assert (body["big"], body["negative"], body["small"]) == (2**70, -(2**65), 0.1)
