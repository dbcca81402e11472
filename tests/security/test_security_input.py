"""Hostile input at the REST door: each is a clean 4xx, problem details where Django answers, never a 500 or a hang.

Requests go over raw sockets where a normal client would refuse to send them (lying Content-Length, duplicate or
overlong headers, bytes that are not UTF-8). A hang is caught by the socket's timeout, not by timing anything: a
server that stops answering fails the test with ``socket.timeout``.

Each case states the one answer the product gives. The framing cases (how a request's body and target are
delimited: Content-Length, chunked, header and request-line sizes) are the HTTP server's business before Django's,
so they run against both servers: Django's development server (the tests' live server) and gunicorn with the
project's ``gunicorn.conf.py`` (production's). Where gunicorn refuses the framing itself, its answer is its own
plain 400 page, not problem details: Django never sees the request.
"""

import contextlib
import json
import socket
from urllib.parse import urlsplit

import pytest

from insights.models import Event, Query
from tests.support.problems import assert_problem
from tests.support.servers import Gunicorn
from tests.support.ubi_documents import EVENTS, QUERIES, make_event, make_query

# Long enough for a slow CI machine to answer, short enough to call a silent server a hang.
ANSWER_TIMEOUT = 20


class RawResponse:
    def __init__(self, raw: bytes):
        head, _, self.body = raw.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.status_code = int(status_line.split()[1])
        self.headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self):
        return json.loads(self.body)


def raw_request(live_server, request: bytes, *, half_close: bool = True) -> RawResponse:
    """Send ``request`` as is and read the answer until the server closes. ``half_close``: then say we're done."""
    address = urlsplit(live_server.url)
    with socket.create_connection((address.hostname, address.port), timeout=ANSWER_TIMEOUT) as sock:
        # A server may answer and close before it has read all of an oversized request (a header over its limit):
        # then the rest cannot be sent, and its answer is still there to read.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        if half_close:
            with contextlib.suppress(OSError):  # not connected any more, for the same reason
                sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    raw = b"".join(chunks)
    assert raw, "the server closed the connection without an answer"
    return RawResponse(raw)


def http(method: str, path: str, *, headers=(), body: bytes = b"", host: bytes = b"localhost") -> bytes:
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: " + host, b"Connection: close", *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def bearer(token: str) -> bytes:
    return f"Authorization: Bearer {token}".encode()


def assert_clean(response, *allowed):
    """A 4xx of ``allowed``, as problem details whenever Django (not the HTTP server itself) answered."""
    assert response.status_code in allowed, (response.status_code, response.body[:300])
    if response.content_type.startswith("application/problem+json"):
        body = response.json()
        assert body["status"] == response.status_code and body["title"]
    assert b"Traceback" not in response.body


def nothing_stored():
    return Query.objects.count() + Event.objects.count() == 0


@pytest.fixture(params=["live_server", "gunicorn"])
def http_server(request, transactional_db):
    """Each server a framing case runs against: the development server, then gunicorn (``tests.support.servers``).
    Rows are committed (``transactional_db``), so gunicorn's own database connections see the test's client."""
    return request.getfixturevalue(request.param)


def by_server(http_server, *, live_server, gunicorn):
    """The answer expected from ``http_server``: the development server's or gunicorn's."""
    return gunicorn if isinstance(http_server, Gunicorn) else live_server


# --- oversized bodies ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [QUERIES, EVENTS])
def test_a_declared_huge_body_is_413_before_it_is_sent(http_server, token, path):
    """Content-Length of 10 GB with a small body behind it: refused by its declared length, not read.

    The client then closes its side: Django's development server (the live server) drains a request body it did
    not read before it closes the connection; gunicorn does not."""
    request = http(
        "POST",
        path,
        headers=[bearer(token), b"Content-Type: application/json", b"Content-Length: 10000000000"],
        body=json.dumps(make_query()).encode(),
    )
    response = raw_request(http_server, request)
    assert_clean(response, 413)
    assert response.content_type == "application/problem+json"
    assert nothing_stored()


def test_a_body_over_8_mib_really_sent_is_413(api):
    body = json.dumps(make_query(user_query="x" * (8 * 1024 * 1024))).encode()
    assert_problem(api.post(QUERIES, data=body, headers={"Content-Type": "application/json"}), 413)
    assert nothing_stored()


def test_a_body_of_several_mib_under_the_limit_is_accepted(api):
    """3 MiB, over Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MiB), which once answered 400 below the 8 MiB limit."""
    query = make_query(user_query="x" * (3 * 1024 * 1024))
    response = api.post(QUERIES, data=json.dumps(query).encode(), headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    assert len(api.get(f"{QUERIES}/{query['query_id']}").json()["user_query"]) == 3 * 1024 * 1024


def test_a_chunked_body_without_length_is_400_as_an_empty_document(http_server, token):
    """Django reads a request's body by its Content-Length alone (``WSGIRequest``): a chunked body, which has
    none, is empty to the API whichever server decoded the chunks (gunicorn does, the development server does not).
    An empty JSON body is an empty document: 400, naming the field a query needs."""
    body = json.dumps(make_query()).encode()
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    request = http(
        "POST", QUERIES, headers=[bearer(token), b"Content-Type: application/json", b"Transfer-Encoding: chunked"],
        body=chunked,
    )
    response = raw_request(http_server, request)
    assert_clean(response, 400)
    assert set(response.json()["errors"]) == {"user_query"}
    assert nothing_stored()


# --- deep JSON, huge arrays ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 200_000 + b"]" * 200_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b'{"user_query": "x", "deep": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b"[" + b'{"action_name": "click", "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}]",
        b"[" * 500_000,  # unterminated
    ],
    ids=["array-at-top", "object-at-top", "inside-a-query", "inside-a-batch", "unterminated"],
)
@pytest.mark.parametrize("path", [QUERIES, EVENTS])
def test_absurdly_deep_json_is_400(api, path, body):
    response = api.post(path, data=body, headers={"Content-Type": "application/json"})
    assert_problem(response, 400)
    assert nothing_stored()


def test_a_huge_top_level_array_is_400_with_a_short_answer(api):
    """200,000 events (far over the 1000 per request): one error for the request, not one per event."""
    body = b"[" + b",".join([b"{}"] * 200_000) + b"]"
    response = api.post(EVENTS, data=body, headers={"Content-Type": "application/json"})
    assert "" in assert_problem(response, 400)["errors"]
    assert len(response.content) < 10_000
    assert nothing_stored()


def test_a_huge_array_of_scalars_as_the_batch_is_400(api):
    response = api.post(EVENTS, data=b"[" + b",".join([b"0"] * 500_000) + b"]", headers={"Content-Type": "application/json"})
    assert_problem(response, 400)
    assert len(response.content) < 10_000


def test_a_huge_array_inside_a_document_is_stored_and_read_back(api):
    """A million-element attribute, some 7 MiB, within the 8 MiB byte limit and 2 levels deep: no limit applies,
    so the API keeps what it is given (201), and reads it back."""
    query = make_query(attributes=list(range(1_000_000)))
    response = api.post(QUERIES, json=query)
    assert response.status_code == 201, response.text[:300]
    assert api.get(f"{QUERIES}/{query['query_id']}").json()["attributes"][-1] == 999_999


def test_a_batch_of_a_thousand_events_with_every_field_invalid_names_them_all(api):
    events = [make_event(action_name=123, timestamp="not a time", event_attributes=[]) for _ in range(1000)]
    body = assert_problem(api.post(EVENTS, json=events), 400)
    assert {"[0].action_name", "[999].timestamp"} <= set(body["errors"])
    assert nothing_stored()


def test_a_huge_number_of_keys_is_stored(api):
    """200,000 unnamed fields, some 3.5 MiB: the API limits bytes and depth, not the number of keys (201)."""
    query = make_query(**{f"k{n}": n for n in range(200_000)})
    response = api.post(QUERIES, json=query)
    assert response.status_code == 201, response.text[:300]
    assert api.get(f"{QUERIES}/{query['query_id']}").json()["k199999"] == 199_999


@pytest.mark.parametrize(
    "body",
    [b'{"user_query": 1' + b"0" * 100_000 + b"}", b'{"user_query": "x", "n": ' + b"9" * 5000 + b"}"],
    ids=["huge-int-as-string-field", "huge-int-elsewhere"],
)
def test_huge_numbers_are_a_clean_answer(api, body):
    # Python refuses to parse integers over 4300 digits by default: that must be a 400, not a crash.
    response = api.post(QUERIES, data=body, headers={"Content-Type": "application/json"})
    assert_problem(response, 400)


# --- invalid UTF-8 and odd text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"user_query": "\xff\xfe"}',
        b'{"\xc3\x28": "x", "user_query": "x"}',
        json.dumps(make_query()).encode("utf-16"),
        b'{"user_query": "\xed\xa0\x80"}',  # a UTF-8-encoded surrogate
        b'{"user_query": "x"}\x00',
        b'{"user_query": "x"} {"user_query": "y"}',
    ],
    ids=["invalid-bytes", "invalid-key", "utf-16", "encoded-surrogate", "trailing-nul", "two-documents"],
)
def test_bodies_that_are_not_utf8_json_are_400(api, body):
    response = api.post(QUERIES, data=body, headers={"Content-Type": "application/json"})
    assert_problem(response, 400)
    assert nothing_stored()


def test_a_leading_byte_order_mark_is_ignored(api):
    # RFC 8259 §8.1: a parser may ignore it. UTF-16 (which json.loads would guess from the bytes) is refused above.
    response = api.post(QUERIES, data=b"\xef\xbb\xbf" + json.dumps(make_query()).encode(), headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("path", "status"),
    [
        # An identifier that is no query's: 404, whatever bytes it is made of.
        (f"{QUERIES}/%ff%fe", 404),
        (f"{QUERIES}/%00", 404),
        (f"{QUERIES}/%ed%a0%80", 404),
        (f"{QUERIES}/..%2f..%2fadmin", 404),
        # (Longer path segments reach the test server's own media handler, which gunicorn does not have.)
        (f"{QUERIES}/" + "a" * 250, 404),
        # Bytes that are not UTF-8 are decoded to U+FFFD: a well-formed filter that matches nothing (200).
        (f"{EVENTS}?application=%ff", 200),
        (f"{EVENTS}?query_id=%ed%a0%80", 200),
        # What the parameters' validation refuses: 400 naming the parameter.
        (f"{EVENTS}?application=%00", 400),
        (f"{EVENTS}?page=%ff", 400),
        (f"{EVENTS}?pageSize=1e3", 400),
        (f"{EVENTS}?page=99999999999999999999999999", 400),
        (f"{EVENTS}?page=-1", 400),
        (f"{EVENTS}?from=%00", 400),
        (f"{EVENTS}?from=99999-01-01T00:00:00Z", 400),
        (f"{EVENTS}?%ff=1", 400),  # an unknown filter
    ],
)
def test_odd_paths_and_query_strings_get_their_answer(live_server, token, path, status):
    response = raw_request(live_server, http("GET", path, headers=[bearer(token)]))
    assert_clean(response, status)
    if status != 200:
        assert response.content_type == "application/problem+json"


def test_a_request_line_over_gunicorns_limit_is_414_there(http_server, token):
    """A filter given three times, the last 10,000 characters long: the development server passes it on and the
    last value is the filter, which matches nothing (200); gunicorn refuses a request line over its 4094 bytes
    (``limit_request_line``) with its own 414, before Django."""
    path = f"{QUERIES}?application=a&application=b&application=" + "c" * 100_00
    response = raw_request(http_server, http("GET", path, headers=[bearer(token)]))
    assert_clean(response, by_server(http_server, live_server=200, gunicorn=414))


def test_too_many_query_parameters_is_400(live_server, token):
    query = "&".join(f"a={n}" for n in range(3000))  # over Django's DATA_UPLOAD_MAX_NUMBER_FIELDS
    response = raw_request(live_server, http("GET", f"{EVENTS}?{query}", headers=[bearer(token)]))
    assert_clean(response, 400)
    assert response.content_type == "application/problem+json"


# --- wrong content types -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "application/xml",
        "application/jsonx",
        "application/json-patch+json",
        "application/json; charset=" + "x" * 5000,
        "\u00e9/\u00e9",
    ],
)
@pytest.mark.parametrize("path", [QUERIES, EVENTS])
def test_a_body_that_is_not_declared_json_is_refused(live_server, token, path, content_type):
    body = json.dumps(make_query() if path == QUERIES else make_event()).encode()
    headers = [bearer(token), f"Content-Length: {len(body)}".encode()]
    if content_type is not None:
        headers.append(b"Content-Type: " + content_type.encode("utf-8"))
    response = raw_request(live_server, http("POST", path, headers=headers, body=body))
    # 415: the API parses application/json alone (parameters and case aside), whatever else the body is.
    assert_clean(response, 415)
    assert response.content_type == "application/problem+json"
    assert nothing_stored()


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "APPLICATION/JSON", "application/json;"])
def test_json_with_parameters_or_another_case_is_accepted(api, content_type):
    response = api.post(QUERIES, data=json.dumps(make_query()).encode(), headers={"Content-Type": content_type})
    assert response.status_code == 201, response.text


# --- Content-Length lies -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "status", "problem_details_from_both"),
    [
        # Not a length: refused. gunicorn refuses the request itself (its own page); behind the development server
        # Django reads the body as empty, and an empty JSON body is a parse error (problem details).
        (b"abc", 400, False),
        (b"-5", 400, False),
        (b"1.5", 400, False),
        (b"", 400, False),
        # Whitespace around a field value is allowed (RFC 9110 §5.5): 12 bytes, the start of a document, which does
        # not parse.
        (b" 12", 400, True),
        # A length over the 8 MiB limit: 413, by the declared length, before any of it is read.
        (b"99999999999999999999999", 413, True),
    ],
)
def test_a_malformed_content_length_gets_its_answer(http_server, token, length, status, problem_details_from_both):
    body = json.dumps(make_query()).encode()
    request = http(
        "POST", QUERIES, headers=[bearer(token), b"Content-Type: application/json", b"Content-Length: " + length],
        body=body,
    )
    response = raw_request(http_server, request)
    assert_clean(response, status)
    problem_details = problem_details_from_both or not isinstance(http_server, Gunicorn)
    assert response.content_type.startswith("application/problem+json") == problem_details
    assert nothing_stored()


def test_a_body_shorter_than_its_content_length_is_400_once_the_client_stops(http_server, token):
    body = json.dumps(make_query()).encode()
    request = http(
        "POST",
        QUERIES,
        headers=[bearer(token), b"Content-Type: application/json", f"Content-Length: {len(body) + 1000}".encode()],
        body=body,
    )
    response = raw_request(http_server, request)  # half-closes: the server sees the end of a short body
    assert_clean(response, 400)
    assert response.content_type == "application/problem+json"
    assert nothing_stored()


def test_two_content_lengths_are_400(http_server, token):
    """Two lengths that differ frame nothing (RFC 9112 §6.3): gunicorn refuses the request itself; behind the
    development server Django takes the first, 5 bytes, which do not parse. Nothing is stored either way."""
    body = json.dumps(make_query()).encode()
    request = http(
        "POST",
        QUERIES,
        headers=[bearer(token), b"Content-Type: application/json", b"Content-Length: 5", f"Content-Length: {len(body)}".encode()],
        body=body,
    )
    response = raw_request(http_server, request)
    assert_clean(response, 400)
    assert response.content_type.startswith("application/problem+json") == (not isinstance(http_server, Gunicorn))
    assert nothing_stored()


# --- Authorization header tricks -----------------------------------------------------------------------------


def test_duplicate_authorization_headers_are_401(live_server, token):
    for headers in ([bearer(token), b"Authorization: Bearer forged"], [b"Authorization: Bearer forged", bearer(token)]):
        response = raw_request(live_server, http("GET", EVENTS, headers=headers))
        assert_clean(response, 401)
        assert response.content_type == "application/problem+json"


@pytest.mark.parametrize(
    "value",
    [
        b"Bearer " + b"a" * 5000,
        b"Bearer " + b"a" * 60_000,
        b"Bearer " + b"\xff\xfe" * 10,
        b"Bearer \x00abc",
        b"Bearer  ",
        b"Bearer a.b.c",
        b"Bearer ....",
        b"Bearer eyJhbGciOiJub25lIn0.e30.",
        b"bearer " + b"=" * 100,
        b"Bearer\ttoken",
        b"Digest username=x",
    ],
)
def test_odd_authorization_headers_are_401(live_server, value):
    response = raw_request(live_server, http("GET", EVENTS, headers=[b"Authorization: " + value]))
    assert_clean(response, 401)
    assert response.content_type == "application/problem+json"


def test_a_header_too_long_for_the_server_is_431(http_server):
    """200 kB in one header: over both servers' header limits (65,536 bytes for the development server's
    ``http.server``, 8190 for gunicorn's ``limit_request_field_size``): 431, the server's own page."""
    response = raw_request(http_server, http("GET", EVENTS, headers=[b"Authorization: Bearer " + b"a" * 200_000]))
    assert_clean(response, 431)


def test_a_token_in_the_query_string_is_not_taken(live_server, token):
    # Only the Authorization header carries a token: without one the call is unauthenticated.
    response = raw_request(live_server, http("GET", f"{EVENTS}?access_token={token}"))
    assert_clean(response, 401)


# --- Host header attacks ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [b"evil.example", b"localhost@evil.example", b"evil.example:80", b"localhost:80@evil", b"\xff", b"", b"a" * 5000],
)
def test_a_host_not_allowed_is_400_problem_details(live_server, token, host):
    response = raw_request(live_server, http("GET", EVENTS, headers=[bearer(token)], host=host))
    assert_clean(response, 400)
    assert response.content_type == "application/problem+json"


def test_forwarded_host_headers_are_not_trusted(live_server, token):
    request = http("GET", EVENTS, headers=[bearer(token), b"X-Forwarded-Host: evil.example"])
    assert_clean(raw_request(live_server, request), 200)
    # And they do not leak into what is generated from the host, such as the OpenAPI document's server.
    request = http("GET", "/api/v1/openapi.json", headers=[b"X-Forwarded-Host: evil.example"])
    response = raw_request(live_server, request)
    assert response.status_code == 200 and b"evil.example" not in response.body


def test_two_host_headers_are_400(live_server, token):
    # The WSGI environ takes the last one, evil.example, which ALLOWED_HOSTS refuses.
    request = http("GET", EVENTS, headers=[bearer(token), b"Host: evil.example"])
    assert_clean(raw_request(live_server, request), 400)


def test_an_absolute_uri_for_another_host_never_serves_that_host(http_server, token):
    """The request target in absolute form (RFC 9112 §3.2.2) naming another host: the development server takes
    the whole URI for a path, which is no route (404); gunicorn takes its path and the Host header, which is ours,
    and answers the events (200). Neither answers for evil.example: the 404's problem details name the target only
    as the ``instance`` that was not found."""
    request = http("GET", f"http://evil.example{EVENTS}", headers=[bearer(token)])
    response = raw_request(http_server, request)
    assert_clean(response, by_server(http_server, live_server=404, gunicorn=200))
    body = json.loads(response.body)
    if response.status_code == 404:
        assert body.pop("instance") == f"/http:/evil.example{EVENTS}"
    assert "evil.example" not in json.dumps(body)


# --- methods -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "TRACE", "FOO"])
def test_other_methods_are_405(live_server, token, method):
    # Both servers pass any method token on to Django, whose views allow GET and POST: 405, even for a made-up one.
    response = raw_request(live_server, http(method, QUERIES, headers=[bearer(token)]))
    assert_clean(response, 405)


def test_a_method_override_header_is_ignored(live_server, token):
    body = json.dumps(make_query()).encode()
    request = http(
        "GET",
        QUERIES,
        headers=[bearer(token), b"X-HTTP-Method-Override: POST", b"Content-Type: application/json",
                 f"Content-Length: {len(body)}".encode()],
        body=body,
    )
    assert_clean(raw_request(live_server, request), 200)
    assert nothing_stored()


def test_the_server_still_serves_after_all_this(api):
    """The control: after hostile requests the server is whole."""
    assert api.post(QUERIES, json=make_query(query_id="after")).status_code == 201
    assert api.get(f"{QUERIES}/after").status_code == 200
