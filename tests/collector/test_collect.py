"""The collector endpoints over HTTP, as ``ubi.js`` and servers post to them: what is stored and read back, the
key's scope (its application, its organisation, no reads), retries, limits, beacons, and revocation."""

import json
import uuid

import pytest
import requests

from collector import services as collector_services
from insights.models import Event, Query
from tests.support import factories
from tests.support.api import Api
from tests.support.collector import APPLICATION, ORIGIN, collect_url, ubi_js_event, ubi_js_query
from tests.support.problems import assert_problem
from tests.support.ubi_documents import EVENTS, QUERIES

# Every shape of document ubi.js sends (ubi-javascript-collector/ubi.js), as its classes build them.
UBI_JS_EVENTS = {
    "ordinal, object_id null, description null": ubi_js_event(),
    "xy position": ubi_js_event("hover", position={"xy": {"x": 120.5, "y": 48}}),
    "object_id and details": ubi_js_event(object_id="sku-42", description="Red shirt", details={"price": 9.5}),
    "integer object_id": ubi_js_event(object_id=42),
    "a message, typed": {**ubi_js_event(message="added to cart"), "message_type": "CONVERSION"},
    # trackEvent(event, message) without a type: message_type null.
    "a message, untyped": {**ubi_js_event(message="added to cart"), "message_type": None},
    # trackEvent(event, message, type) on an event that has a message already: extra_info and extra_info_type.
    "extra_info": {**ubi_js_event(message="first"), "extra_info": "second", "extra_info_type": "WARN"},
    "no query": {key: value for key, value in ubi_js_event("page_exit").items() if key != "query_id"},
}
UBI_JS_QUERIES = {
    "no attributes": ubi_js_query(),
    "attributes": ubi_js_query(query_attributes={"filters": {"brand": ["acme"]}, "page": 2, "sort": None}),
}


@pytest.fixture
def key(org):
    return factories.make_ingest_key(org, APPLICATION, [ORIGIN])


@pytest.fixture
def url(live_server, key):
    return collect_url(live_server.url, key)


def post_json(url: str, body, *, origin: str | None = ORIGIN, content_type="application/json", **headers):
    """A post as ``ubi.js`` (axios) sends it: JSON text, ``Accept: application/json``, no credentials."""
    headers = {"Content-Type": content_type, "Accept": "application/json", **headers}
    if origin is not None:
        headers["Origin"] = origin
    return requests.post(url, data=json.dumps(body), headers=headers, timeout=30)


@pytest.mark.parametrize("event", UBI_JS_EVENTS.values(), ids=UBI_JS_EVENTS.keys())
def test_every_event_shape_of_ubi_js_is_stored_and_read_back_as_sent(url, api, event):
    answer = post_json(f"{url}/ubi_events", [event])
    assert answer.status_code == 201, answer.text
    (event_id,) = answer.json()["event_ids"]
    (read,) = api.get(EVENTS).json()["items"]
    assert read == {**event, "event_id": event_id}


@pytest.mark.parametrize("query", UBI_JS_QUERIES.values(), ids=UBI_JS_QUERIES.keys())
def test_every_query_shape_of_ubi_js_is_stored_and_read_back_as_sent(url, api, query):
    answer = post_json(f"{url}/ubi_queries", [query])
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"query_ids": [query["query_id"]]}
    assert api.get(f"{QUERIES}/{query['query_id']}").json() == {**query, "events": []}


def test_one_document_or_an_array_is_answered_as_the_api_answers(url, api):
    assert post_json(f"{url}/ubi_queries", ubi_js_query(query_id="single")).json() == {"query_id": "single"}
    single = post_json(f"{url}/ubi_events", ubi_js_event(query_id="single"))
    assert single.status_code == 201 and set(single.json()) == {"event_id"}
    batch = [ubi_js_event(action_name=f"view-{index}", query_id="single") for index in range(3)]
    answer = post_json(f"{url}/ubi_events", batch)
    assert answer.status_code == 201 and len(answer.json()["event_ids"]) == 3
    assert api.get(f"{QUERIES}/single").json()["events"][1:] == [
        {**event, "event_id": event_id} for event, event_id in zip(batch, answer.json()["event_ids"], strict=True)
    ]


def test_a_document_naming_no_application_is_filed_under_the_keys(url, api):
    query = {key: value for key, value in ubi_js_query(query_id="no-app").items() if key != "application"}
    assert post_json(f"{url}/ubi_queries", [query]).status_code == 201
    assert api.get(f"{QUERIES}/no-app").json()["application"] == APPLICATION


def test_another_application_is_refused_and_nothing_of_the_request_is_stored(url):
    batch = [ubi_js_event(), ubi_js_event(application="blog")]
    body = assert_problem(post_json(f"{url}/ubi_events", batch), 400)
    assert body["errors"] == {"[1].application": ["Only the application 'shop' may be tracked with these credentials."]}
    body = assert_problem(post_json(f"{url}/ubi_queries", ubi_js_query(application="blog")), 400)
    assert set(body["errors"]) == {"application"}
    assert not Event.objects.exists() and not Query.objects.exists()


def test_the_documents_go_to_the_keys_organisation_and_leave_anothers_untouched(url, org):
    other = factories.make_org()
    other_api = Api(url.split("/collect/")[0], factories.bearer_for(factories.make_client(other).client))
    assert other_api.post(QUERIES, json=ubi_js_query(query_id="shared", user_query="theirs")).status_code == 201
    # The same query_id with other content: a query of the key's organisation, no conflict with the other's.
    assert post_json(f"{url}/ubi_queries", [ubi_js_query(query_id="shared")]).status_code == 201
    assert Query.objects.get(organization=org).user_query == "toner"
    assert other_api.get(f"{QUERIES}/shared").json()["user_query"] == "theirs"


def test_a_retry_stores_nothing_and_other_content_under_the_same_id_is_a_conflict(url, api):
    event = {**ubi_js_event(), "event_id": "e-1"}
    for _attempt in range(2):
        assert post_json(f"{url}/ubi_events", [event]).json() == {"event_ids": ["e-1"]}
        assert post_json(f"{url}/ubi_queries", [ubi_js_query()]).json() == {"query_ids": ["q-1"]}
    assert api.get(EVENTS).json()["totalItems"] == 1 and Query.objects.count() == 1
    assert assert_problem(post_json(f"{url}/ubi_events", [{**event, "message": "else"}]), 409)["code"] == "conflict"
    assert assert_problem(post_json(f"{url}/ubi_queries", [ubi_js_query("else")]), 409)["code"] == "conflict"


def test_an_array_of_queries_is_all_or_nothing_and_names_each_invalid_one(url):
    invalid = [ubi_js_query(query_id="ok"), {"query_id": "no-user-query"}, {"user_query": 1}]
    body = assert_problem(post_json(f"{url}/ubi_queries", invalid), 400)
    assert body["errors"] == {
        "[1].user_query": ["user_query is required."], "[2].user_query": ["user_query must be a string."]
    }
    repeated = [ubi_js_query(query_id="ok"), ubi_js_query(query_id="new"), ubi_js_query(query_id="ok", user_query="x")]
    body = assert_problem(post_json(f"{url}/ubi_queries", repeated), 400)
    assert body["errors"] == {"[2].query_id": ["query_id repeats that of [0] with different content."]}
    assert not Query.objects.exists()


def test_the_batch_and_size_limits_are_the_apis(url, settings):
    settings.UBI = {"MAX_EVENTS_PER_REQUEST": 2, "MAX_REQUEST_BYTES": 2000}
    for path, document in (("ubi_events", ubi_js_event()), ("ubi_queries", ubi_js_query())):
        body = assert_problem(post_json(f"{url}/{path}", [document] * 3), 400)
        assert body["errors"][""][0].startswith("At most 2 ")
        assert assert_problem(post_json(f"{url}/{path}", [], origin=None), 400)["errors"][""]
        too_large = {**document, "padding": "x" * 2000}
        assert assert_problem(post_json(f"{url}/{path}", [too_large]), 413)["code"] == "payload_too_large"
        assert assert_problem(post_json(f"{url}/{path}", "[{"), 400)["code"] == "invalid_input"
    assert not Event.objects.exists() and not Query.objects.exists()


def test_a_beacon_posts_text_plain_here_and_the_api_still_refuses_it(url, api):
    beacon = post_json(f"{url}/ubi_events", [ubi_js_event()], content_type="text/plain;charset=UTF-8")
    assert beacon.status_code == 201, beacon.text
    assert api.get(EVENTS).json()["totalItems"] == 1
    refused = api.post(EVENTS, data=json.dumps([ubi_js_event()]), headers={"Content-Type": "text/plain;charset=UTF-8"})
    assert assert_problem(refused, 415)["code"] == "unsupported_media_type"
    other = post_json(f"{url}/ubi_events", [ubi_js_event()], content_type="application/x-www-form-urlencoded")
    assert assert_problem(other, 415)["code"] == "unsupported_media_type"
    assert api.get(EVENTS).json()["totalItems"] == 1


def test_a_key_reads_nothing(url, key, live_server, api):
    assert post_json(f"{url}/ubi_events", [ubi_js_event()]).status_code == 201
    for path in ("ubi_events", "ubi_queries"):
        refused = requests.get(f"{url}/{path}", headers={"Origin": ORIGIN}, timeout=30)
        assert assert_problem(refused, 405)["code"] == "method_not_allowed"
        assert "items" not in refused.json()
    as_bearer = Api(live_server.url, key.key)
    for path in (EVENTS, QUERIES, "/api/v1/me"):
        assert assert_problem(as_bearer.get(path), 401)["code"] == "unauthenticated"
    assert assert_problem(as_bearer.post(EVENTS, json=ubi_js_event()), 401)["code"] == "unauthenticated"
    assert api.get(EVENTS).json()["totalItems"] == 1


def test_an_unknown_key_is_404_and_stores_nothing(live_server):
    for key in ("ubi_pk_" + "x" * 32, "not-a-key", "ubi_pk_" + "y" * 100):
        answer = post_json(f"{live_server.url}/collect/{key}/ubi_events", [ubi_js_event()])
        assert assert_problem(answer, 404)["code"] == "unknown_key"
        assert "WWW-Authenticate" not in answer.headers
    assert not Event.objects.exists()


def test_a_revoked_or_deleted_key_is_refused_at_once(url, key, org):
    assert post_json(f"{url}/ubi_events", [ubi_js_event()]).status_code == 201  # the server remembers the key
    assert collector_services.ingest_key_revoke(key)
    assert assert_problem(post_json(f"{url}/ubi_events", [ubi_js_event()]), 404)["code"] == "unknown_key"
    other = factories.make_ingest_key(org, APPLICATION, [ORIGIN])
    other_url = url.replace(key.key, other.key)
    assert post_json(f"{other_url}/ubi_events", [ubi_js_event()]).status_code == 201
    other.delete()
    assert assert_problem(post_json(f"{other_url}/ubi_events", [ubi_js_event()]), 404)["code"] == "unknown_key"
    assert Event.objects.count() == 2


def test_a_changed_application_applies_at_once(url, key):
    assert post_json(f"{url}/ubi_events", [ubi_js_event()]).status_code == 201
    key.application = "blog"
    key.save()
    assert assert_problem(post_json(f"{url}/ubi_events", [ubi_js_event()]), 400)["errors"] == {
        "[0].application": ["Only the application 'blog' may be tracked with these credentials."]
    }


def test_no_session_cookie_or_csrf_token_is_used(url):
    answer = post_json(f"{url}/ubi_events", [ubi_js_event()], Cookie=f"sessionid={uuid.uuid4().hex}")
    assert answer.status_code == 201
    assert "Set-Cookie" not in answer.headers


def test_the_collector_is_not_in_the_openapi_document_of_the_api(anonymous_api):
    paths = anonymous_api.get("/api/v1/openapi.json").json()["paths"]
    assert paths and not [path for path in paths if path.startswith("/collect/")]
