"""Collection from a web site in a real browser (Debian's Chromium under Playwright). The site's pages
(``pages/``) are served from another origin than the live server's (``tests/support/web_site.py``) and post to
an ingest key's collector URL.

From an origin the key allows, a page that posts as the OpenSearch UBI JavaScript collector (``ubi.js``) does
(JSON arrays, ``Content-Type: application/json``, hence a CORS preflight; no credentials) and pages that use the
platform's own script (``/collect/ubi.js``: batches by ``fetch``, beacons when the page is hidden) store every
document, read back over the REST API as sent. From an origin the key does not allow, the same pages store
nothing: ``fetch`` fails with a CORS error in the page, and the beacons, which the browser sends without asking,
are refused by the server (403). Each test saves screenshots under var/test-output/screenshots/.
"""

import logging
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from string import Template
from types import SimpleNamespace

import pytest

from tests.support import factories
from tests.support.api import Api
from tests.support.collector import collect_url
from tests.support.chromium import PAGE_TIMEOUT_MS, VIEWPORT, screenshot
from tests.support.ubi_documents import EVENTS, QUERIES
from tests.support.web_site import web_site

PAGES = Path(__file__).parent / "pages"
USER_QUERY = "Toner für Drucker"
# How long the documents a page sent may take to be stored: its beacons leave as it goes, and nobody awaits them.
STORED_WITHIN_SECONDS = 15
ISO_MILLISECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
# The ids the platform's script keeps: the current search's, the tab's and the browser's.
SCRIPT_IDS = "() => ({query_id: ubi.queryId, session_id: ubi.sessionId, client_id: ubi.clientId})"
SCRIPT_LOADED = "() => window.ubi && window.ubi.loaded === true"
# What Chromium writes to the console about a fetch the collector refused to another origin: the CORS error, and
# the failed load that goes with it.
CORS_ERRORS = (
    re.compile(r"^Access to fetch at '(?P<url>[^']+)' from origin '(?P<origin>[^']+)' has been blocked by CORS policy"),
    re.compile(r"^Failed to load resource: net::ERR_FAILED$"),
)


@pytest.fixture
def shop(live_server, transactional_db):
    """Acme's shop: an ingest key for its ``shop`` application that allows one web site's origin (``allowed``), the
    same pages on a site it does not allow (``other``), and ``reader``, the REST API with a token of Acme's."""
    org = factories.make_org("Acme")
    reader = Api(live_server.url, factories.bearer_for(factories.make_client(org, roles=["insights:read"]).client))
    with web_site() as allowed, web_site() as other:
        key = factories.make_ingest_key(org, "shop", [allowed.origin])
        collector_url = collect_url(live_server.url, key)
        values = {
            "collector_url": collector_url,
            "script_url": f"{live_server.url}/collect/ubi.js",
            "user_query": USER_QUERY,
        }
        pages = {f"/{path.name}": Template(path.read_text()).substitute(values) for path in PAGES.glob("*.html")}
        allowed.publish(pages)
        other.publish(pages)
        yield SimpleNamespace(reader=reader, allowed=allowed, other=other, collector_url=collector_url)


def listed(reader: Api, path: str, **filters) -> list[dict]:
    response = reader.get(path, params={**filters, "pageSize": 1000})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def wait_for_stored(reader: Api, path: str, count: int, **filters) -> list[dict]:
    """The documents ``path`` lists with ``filters``, once there are ``count`` of them (or what there is after
    ``STORED_WITHIN_SECONDS``), oldest first."""
    deadline = time.monotonic() + STORED_WITHIN_SECONDS
    while len(items := listed(reader, path, **filters)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return items[::-1]


def without_event_ids(events: list[dict]) -> list[dict]:
    assert all(UUID.match(event["event_id"]) for event in events), "the server gives each event a UUID"
    return [{name: value for name, value in event.items() if name != "event_id"} for event in events]


def shown(sku: str) -> dict:
    """The ``object`` of the script pages' events."""
    return {"object_id": sku, "object_id_field": "sku"}


def moment(timestamp: str) -> datetime:
    assert ISO_MILLISECONDS.match(timestamp), f"{timestamp!r} is not what Date.toISOString() writes"
    return datetime.fromisoformat(timestamp)


def collector_posts(page, collector_url: str) -> list:
    """The POSTs ``page`` sends to the collector by ``fetch``, as Playwright reports them (beacons sent as a page
    goes are not among them: the browser sends them for a document that is no more)."""
    posts = []
    page.on("request", lambda request: request.url.startswith(collector_url) and posts.append(request))
    return posts


def preflights(page) -> list[tuple[str, int, dict]]:
    """The CORS preflights Chromium sends for ``page``, answered: ``(url, status, response headers)``. Playwright
    reports no preflight; Chromium's DevTools protocol does."""
    session = page.context.new_cdp_session(page)
    answered = []
    session.on(
        "Network.responseReceived",
        lambda event: event["type"] == "Preflight"
        and answered.append((event["response"]["url"], event["response"]["status"], event["response"]["headers"])),
    )
    session.send("Network.enable")
    return answered


def test_a_page_posting_as_opensearch_ubi_js_does_stores_each_document_as_sent(shop, page):
    posts = collector_posts(page, shop.collector_url)
    asked = preflights(page)
    page.goto(shop.allowed.url("/opensearch-client.html"))
    result = page.evaluate("([client, session]) => trackSearch(client, session)", ["visitor-1", "session-1"])
    screenshot(page, "collector-opensearch-ubi-js-allowed-origin")

    assert [answer["status"] for answer in result["answers"]] == [201, 201, 201]
    assert [(post.method, post.url.rsplit("/", 1)[1]) for post in posts] == [
        ("POST", "ubi_queries"), ("POST", "ubi_events"), ("POST", "ubi_events")
    ]
    for post in posts:
        headers = post.all_headers()
        assert headers["content-type"] == "application/json" and "cookie" not in headers
        assert headers["origin"] == shop.allowed.origin
        assert isinstance(post.post_data_json, list) and len(post.post_data_json) == 1
        assert post.response().header_value("access-control-allow-origin") == shop.allowed.origin
    # Chromium asks once per endpoint, then keeps the answer for its Access-Control-Max-Age.
    assert [(url.rsplit("/", 1)[1], status) for url, status, _ in asked] == [
        ("ubi_queries", 204), ("ubi_events", 204)
    ]
    for _url, _status, headers in asked:
        headers = {name.lower(): value for name, value in headers.items()}
        assert headers["access-control-allow-origin"] == shop.allowed.origin
        assert "content-type" in headers["access-control-allow-headers"].lower()

    sent = result["sent"]
    query, (click, hover) = sent["queries"][0], sent["events"]
    assert query["query_attributes"] == {} and click["user_id"] == "" and click["message"] == ""
    assert hover["event_attributes"]["object"]["object_id"] is None
    assert hover["event_attributes"]["object"]["description"] is None
    assert hover["event_attributes"]["position"] == {"xy": {"x": 120, "y": 48.5}}
    assert click["event_attributes"]["position"] == {"ordinal": 2} and hover["extra_info_type"] == "DEBUG"
    assert listed(shop.reader, QUERIES, client_id="visitor-1") == sent["queries"]
    stored = listed(shop.reader, EVENTS, client_id="visitor-1")[::-1]
    assert without_event_ids(stored) == sent["events"]
    # The answers name what was stored, as the API's do.
    assert [answer["body"] for answer in result["answers"]] == [
        {"query_ids": [query["query_id"]]}, *({"event_ids": [event["event_id"]]} for event in stored)
    ]
    assert moment(query["timestamp"]) <= moment(click["timestamp"]) <= moment(hover["timestamp"])


def test_the_platforms_script_batches_by_fetch_and_sends_the_rest_by_beacon_as_pages_go(shop, page):
    warnings = []
    page.on("console", lambda message: message.type == "warning" and warnings.append(message.text))
    posts = collector_posts(page, shop.collector_url)
    started = datetime.now(UTC).replace(microsecond=0)

    # The search page queues its query and an impression per result before ubi.js has loaded. Three events make a
    # batch: it leaves by fetch, with the query that waited.
    with page.expect_response(lambda response: response.url.endswith("/ubi_events")) as impressions_answer:
        page.goto(shop.allowed.url("/script-search.html"))
    page.wait_for_function(SCRIPT_LOADED)
    assert impressions_answer.value.status == 201
    ids = page.evaluate(SCRIPT_IDS)
    assert all(UUID.match(value) for value in ids.values()), ids
    screenshot(page, "collector-script-search-allowed-origin")

    # A click on a result opens its product page: the search page hides, and its beacon carries the click. The
    # product page has the same ids (the tab's storage), so its events name the same search.
    with page.expect_navigation():
        page.click("text=Toner, cyan")
    page.wait_for_function(SCRIPT_LOADED)
    assert page.evaluate(SCRIPT_IDS) == ids
    button = page.locator("#add-to-cart").bounding_box()
    page.click("#add-to-cart")
    screenshot(page, "collector-script-product-allowed-origin")
    page.goto("about:blank")  # the product page hides: its beacon carries the add_to_cart

    events = wait_for_stored(shop.reader, EVENTS, 5, client_id=ids["client_id"])
    queries = wait_for_stored(shop.reader, QUERIES, 1, client_id=ids["client_id"])
    finished = datetime.now(UTC)

    # Playwright reports no beacon a page sent as it went; had it, they would be text/plain.
    fetched = [post for post in posts if post.all_headers()["content-type"] == "application/json"]
    assert [post.url.rsplit("/", 1)[1] for post in fetched] == ["ubi_queries", "ubi_events"]
    assert fetched[0].post_data_json == queries
    assert fetched[1].post_data_json == without_event_ids(events[:3])  # the click and add_to_cart left by beacon
    assert queries == [
        {
            "user_query": USER_QUERY,
            "query_response_hit_ids": ["sku-1", "sku-2", "sku-3"],
            "object_id_field": "sku",
            "query_id": ids["query_id"],
            "application": "shop",
            "client_id": ids["client_id"],
            "timestamp": queries[0]["timestamp"],
        }
    ]
    common = {key: ids[key] for key in ("query_id", "session_id", "client_id")} | {"application": "shop"}
    assert without_event_ids(events) == [
        *(
            {
                "action_name": "impression",
                "event_attributes": {"object": shown(sku), "position": {"ordinal": n}},
                **common,
                "timestamp": event["timestamp"],
            }
            for n, (sku, event) in enumerate(zip(["sku-1", "sku-2", "sku-3"], events, strict=False), start=1)
        ),
        {
            "action_name": "click",
            "event_attributes": {"object": shown("sku-2"), "position": {"ordinal": 2}},
            **common,
            "timestamp": events[3]["timestamp"],
        },
        {
            "action_name": "add_to_cart",
            "message": "added from the product page",
            "event_attributes": {
                "object": shown("sku-2"),
                "position": {"xy": events[4]["event_attributes"]["position"]["xy"]},
            },
            **common,
            "timestamp": events[4]["timestamp"],
        },
    ]
    pressed = events[4]["event_attributes"]["position"]["xy"]
    assert button["x"] <= pressed["x"] <= button["x"] + button["width"]
    assert button["y"] <= pressed["y"] <= button["y"] + button["height"]
    moments = [moment(document["timestamp"]) for document in [*queries, *events]]
    assert started <= moments[0] and moments == sorted(moments) and moments[-1] <= finished
    assert warnings == []


def test_the_scripts_commands_on_its_default_batching(shop, page):
    warnings = []
    page.on("console", lambda message: message.type == "warning" and warnings.append(message.text))
    page.goto(shop.allowed.url("/script-defaults.html"))

    # One query is no batch: it leaves by itself after data-batch-delay-ms, 1000 by default.
    with page.expect_response(lambda response: response.url.endswith("/ubi_queries")) as answer:
        query_id = page.evaluate("ubi.trackQuery({user_query: 'ink', query_id: 'q-mine'})")
    assert (query_id, answer.value.status, page.evaluate("ubi.queryId")) == ("q-mine", 201, "q-mine")

    # A search tracked by the search engine itself; an event naming its own query; then no current search.
    with page.expect_response(lambda response: response.url.endswith("/ubi_events")) as answer:
        page.evaluate("""() => {
          ubi.setQueryId("q-engine");
          ubi.trackEvent({action_name: "click", event_attributes: {position: {ordinal: 1}}});
          ubi("trackEvent", {action_name: "click", query_id: "q-other", event_attributes: {position: {ordinal: 2}}});
          ubi.setQueryId(null);
          ubi.trackEvent({action_name: "scroll", event_attributes: {position: {xy: {x: 0, y: 640}}}});
          ubi("flush");
        }""")
    assert answer.value.status == 201 and len(answer.value.request.post_data_json) == 3
    page.evaluate("ubi('track', {})")
    screenshot(page, "collector-script-defaults")

    client_id = page.evaluate("ubi.clientId")
    assert [query["query_id"] for query in listed(shop.reader, QUERIES, client_id=client_id)] == ["q-mine"]
    events = listed(shop.reader, EVENTS, client_id=client_id)[::-1]
    assert [(event["action_name"], event.get("query_id")) for event in events] == [
        ("click", "q-engine"), ("click", "q-other"), ("scroll", None)
    ]
    assert warnings == ['ubi.js: unknown command "track"']


def test_an_origin_the_key_does_not_allow_stores_nothing(shop, chromium, caplog):
    """Chromium reports the refused ``fetch``es as CORS errors in the page's console (expected here, so this test
    opens its page itself); the server's 403s to the beacons are seen in its request log."""
    caplog.set_level(logging.WARNING, logger="django.request")
    context = chromium.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    console = []
    page.on("console", lambda message: console.append((message.type, message.text)))
    page.on("pageerror", lambda error: console.append(("page error", str(error))))

    page.goto(shop.other.url("/opensearch-client.html"))
    outcome = page.evaluate("trackSearch('visitor-2', 'session-2').then(() => 'sent', (error) => String(error))")
    assert outcome == "TypeError: Failed to fetch"
    screenshot(page, "collector-opensearch-ubi-js-other-origin")

    # Its batch (the query and the impressions) fails; Chromium has reported why before ubi.js warns.
    with not_sent(page, f"{shop.collector_url}/ubi_queries"), not_sent(page, f"{shop.collector_url}/ubi_events"):
        page.goto(shop.other.url("/script-search.html"))
    page.wait_for_function(SCRIPT_LOADED)
    screenshot(page, "collector-script-search-other-origin")
    with page.expect_navigation():
        page.click("text=Toner, cyan")
    page.wait_for_function(SCRIPT_LOADED)
    page.click("#add-to-cart")
    page.goto("about:blank")
    context.close()

    # The preflights of the fetches (the OpenSearch-like page's query; the script's batch, its query and events),
    # then the beacons, which need none (the search page's click, the product page's add_to_cart).
    expected = {("OPTIONS", "ubi_queries"): 2, ("OPTIONS", "ubi_events"): 1, ("POST", "ubi_events"): 2}
    assert wait_for_refusals(caplog, shop.collector_url, expected) == expected
    assert listed(shop.reader, QUERIES) == [] and listed(shop.reader, EVENTS) == []

    errors = [text for kind, text in console if kind in ("error", "page error")]
    assert errors, "Chromium reports a refused cross-origin fetch in the console"
    for text in errors:
        matches = [pattern.match(text) for pattern in CORS_ERRORS]
        assert any(matches), f"an error that is not CORS's: {text}"
        if matches[0]:
            assert matches[0]["url"].startswith(shop.collector_url) and matches[0]["origin"] == shop.other.origin
    refused_fetches = sorted(match["url"] for text in errors if (match := CORS_ERRORS[0].match(text)))
    endpoints = ("ubi_events", "ubi_queries", "ubi_queries")
    assert refused_fetches == [f"{shop.collector_url}/{endpoint}" for endpoint in endpoints]


def not_sent(page, url: str):
    """Waits, on leaving the block, for ubi.js's warning that a batch could not be sent to ``url``."""
    return page.expect_console_message(lambda message: f"a batch could not be sent to {url}:" in message.text)


def wait_for_refusals(caplog, collector_url: str, expected: dict[tuple[str, str], int]) -> dict:
    """How many requests the server answered 403, by method and collector endpoint (its request log says), once
    ``expected`` is reached or after ``STORED_WITHIN_SECONDS``."""
    deadline = time.monotonic() + STORED_WITHIN_SECONDS
    while True:
        refused = {}
        for record in list(caplog.records):
            request = getattr(record, "request", None)
            if request is not None and getattr(record, "status_code", None) == 403:
                url, _, endpoint = request.build_absolute_uri().rpartition("/")
                if url == collector_url:
                    refused[request.method, endpoint] = refused.get((request.method, endpoint), 0) + 1
        if refused == expected or time.monotonic() >= deadline:
            return refused
        time.sleep(0.1)
