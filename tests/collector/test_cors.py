"""CORS on the collector endpoints, judged per key: preflights, allowed and refused origins, requests without one."""

import json

import pytest
import requests

from insights.models import Event, Query
from tests.support import factories
from tests.support.collector import APPLICATION, ORIGIN, collect_url, ubi_js_event, ubi_js_query
from tests.support.problems import assert_problem

PATHS = ("ubi_events", "ubi_queries")
DOCUMENTS = {"ubi_events": [ubi_js_event()], "ubi_queries": [ubi_js_query()]}
OTHER_ORIGINS = (
    "http://evil.example", "https://shop.example", "http://shop.example:8080", "null", "http://SHOP.example"
)


@pytest.fixture
def url(live_server, org):
    key = factories.make_ingest_key(org, APPLICATION, [ORIGIN, "http://localhost:3000"])
    return collect_url(live_server.url, key)


def preflight(url: str, origin: str):
    """What Chromium sends before ubi.js's post: no body, no credentials."""
    headers = {
        "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"
    }
    return requests.options(url, headers=headers, timeout=30)


def vary(response) -> set[str]:
    return {name.strip().lower() for name in response.headers.get("Vary", "").split(",")}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("origin", [ORIGIN, "http://localhost:3000"])
def test_a_preflight_from_an_allowed_origin_is_answered_exactly(url, path, origin):
    answer = preflight(f"{url}/{path}", origin)
    assert answer.status_code == 204 and answer.content == b""
    headers = {name: value for name, value in answer.headers.items() if name.lower().startswith("access-control-")}
    assert headers == {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "POST",
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": "3600",
        "Access-Control-Expose-Headers": "Retry-After",
    }
    assert "origin" in vary(answer)


def test_the_max_age_is_a_setting(url, settings):
    settings.UBI = {"COLLECTOR_PREFLIGHT_MAX_AGE": 600}
    assert preflight(f"{url}/ubi_events", ORIGIN).headers["Access-Control-Max-Age"] == "600"


@pytest.mark.parametrize("path", PATHS)
def test_a_post_from_an_allowed_origin_may_be_read_by_its_page(url, path):
    answer = requests.post(f"{url}/{path}", json=DOCUMENTS[path], headers={"Origin": ORIGIN}, timeout=30)
    assert answer.status_code == 201
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Access-Control-Allow-Credentials" not in answer.headers
    assert "origin" in vary(answer)
    # So are its refusals: the page's script can read the problem (and a 429's Retry-After).
    refused = requests.post(f"{url}/{path}", json=[{"application": 1}], headers={"Origin": ORIGIN}, timeout=30)
    assert assert_problem(refused, 400) and refused.headers["Access-Control-Allow-Origin"] == ORIGIN


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("origin", OTHER_ORIGINS)
def test_an_origin_the_key_does_not_list_is_refused_and_stores_nothing(url, path, origin):
    refused = preflight(f"{url}/{path}", origin)
    assert assert_problem(refused, 403)["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in refused.headers and "origin" in vary(refused)
    for content_type in ("application/json", "text/plain;charset=UTF-8"):  # a beacon needs no preflight
        posted = requests.post(
            f"{url}/{path}", data=json.dumps(DOCUMENTS[path]),
            headers={"Origin": origin, "Content-Type": content_type}, timeout=30,
        )
        assert assert_problem(posted, 403)["code"] == "origin_not_allowed"
        assert "Access-Control-Allow-Origin" not in posted.headers
    assert not Event.objects.exists() and not Query.objects.exists()


def test_a_key_without_origins_takes_only_requests_without_one(live_server, org):
    url = collect_url(live_server.url, factories.make_ingest_key(org, APPLICATION))
    assert assert_problem(preflight(f"{url}/ubi_events", ORIGIN), 403)["code"] == "origin_not_allowed"
    assert requests.post(f"{url}/ubi_events", json=[ubi_js_event()], timeout=30).status_code == 201


@pytest.mark.parametrize("path", PATHS)
def test_a_request_without_origin_is_accepted_without_cors_headers(url, path):
    answer = requests.post(f"{url}/{path}", json=DOCUMENTS[path], timeout=30)
    assert answer.status_code == 201
    assert not [name for name in answer.headers if name.lower().startswith("access-control-")]
    assert "origin" in vary(answer)


def test_the_api_answers_no_preflight(live_server):
    answer = preflight(f"{live_server.url}/api/v1/ubi/events", ORIGIN)
    assert "Access-Control-Allow-Origin" not in answer.headers
