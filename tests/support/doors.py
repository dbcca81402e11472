"""One API, two protocols: a door makes an operation of the UBI API over REST (the live server) or gRPC (a real
server and channel) and answers in one vocabulary, so one test states what both protocols answer.

An ``Answer`` is the outcome (``"ok"``, ``"unauthenticated"``, ``"forbidden"``, ``"not found"``, ``"conflict"``,
``"invalid"``, or the status's own name), the document answered (a REST body, a gRPC message as the same JSON
document), and the field errors of an invalid request (REST's ``errors`` member, gRPC's ``BadRequest``). A REST
refusal is checked to be problem details; neither protocol may answer a trace.
"""

from dataclasses import dataclass

import grpc
import pytest
import requests

from grpc_api.convert import fill_message, message_to_dict
from grpc_api.generated import user_behavior_insights_pb2 as ubi
from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from tests.support.grpc import field_violations
from tests.support.problems import assert_problem
from tests.support.ubi_documents import EVENTS, QUERIES

PROTOCOLS = ("rest", "grpc")

REST_OUTCOMES = {401: "unauthenticated", 403: "forbidden", 404: "not found", 409: "conflict", 400: "invalid"}
GRPC_OUTCOMES = {
    grpc.StatusCode.UNAUTHENTICATED: "unauthenticated",
    grpc.StatusCode.PERMISSION_DENIED: "forbidden",
    grpc.StatusCode.NOT_FOUND: "not found",
    grpc.StatusCode.ALREADY_EXISTS: "conflict",
    grpc.StatusCode.INVALID_ARGUMENT: "invalid",
}

# operation: (its REST request: method, path, whether the argument is the JSON body, and its gRPC method and
# request made of the argument). The argument is a document (tracking), a list of them (a batch), or a query_id.
OPERATIONS = {
    "track_query": (("POST", lambda _: QUERIES, True), ("TrackQuery", lambda document: rpc.TrackQueryRequest(
        query=fill_message(ubi.Query(), document)))),
    "track_event": (("POST", lambda _: EVENTS, True), ("TrackEvent", lambda document: rpc.TrackEventRequest(
        event=fill_message(ubi.Event(), document)))),
    "track_events": (("POST", lambda _: EVENTS, True), ("TrackEvents", lambda batch: iter([rpc.TrackEventsRequest(
        events=[fill_message(ubi.Event(), document) for document in batch])]))),
    "list_queries": (("GET", lambda _: QUERIES, False), ("ListQueries", lambda _: rpc.ListQueriesRequest())),
    "get_query": (("GET", lambda query_id: f"{QUERIES}/{query_id}", False), ("GetQuery", lambda query_id: rpc.GetQueryRequest(
        query_id=query_id))),
    "list_events": (("GET", lambda _: EVENTS, False), ("ListEvents", lambda _: rpc.ListEventsRequest())),
}
# An argument each operation is valid with.
VALID_ARGUMENTS = {
    "track_query": {"user_query": "toner"},
    "track_event": {"action_name": "click", "timestamp": "2024-05-16T12:34:56Z", "event_attributes": {"position": {}}},
    "track_events": [{"action_name": "click", "timestamp": "2024-05-16T12:34:56Z", "event_attributes": {"position": {}}}],
    "list_queries": None,
    "get_query": "q1",
    "list_events": None,
}
WRITES = {"track_query", "track_event", "track_events"}


@dataclass(frozen=True)
class Answer:
    outcome: str
    document: dict | None = None
    errors: dict | None = None


class Door:
    """The UBI API over ``protocol`` ("rest" or "grpc"), called with a bearer token (or none)."""

    def __init__(self, protocol: str, live_server, stub):
        self.protocol, self.live_server, self.stub = protocol, live_server, stub

    def __repr__(self) -> str:
        return self.protocol

    def call(self, operation: str, token: str | None, argument=None) -> Answer:
        (method, path, as_body), (rpc_method, request) = OPERATIONS[operation]
        if self.protocol == "rest":
            headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
            body = {"json": argument} if as_body else {}
            response = requests.request(method, self.live_server.url + path(argument), headers=headers, timeout=30, **body)
            return _rest_answer(response)
        metadata = (("authorization", f"Bearer {token}"),) if token is not None else ()
        try:
            answered = getattr(self.stub, rpc_method)(request(argument), metadata=metadata, timeout=30)
        except grpc.RpcError as error:
            return _grpc_refusal(error)
        return Answer("ok", message_to_dict(answered))

    def query_with_events(self, token: str, query_id: str) -> dict:
        """A query read by its id, as REST gives it: the query's document with its ``events`` (gRPC answers the two
        apart)."""
        answer = self.call("get_query", token, query_id)
        assert answer.outcome == "ok", answer
        if self.protocol == "rest":
            return answer.document
        return {**answer.document["query"], "events": answer.document.get("events", [])}

    # The outcomes the token attacks look at: a read (needs insights:read), a write (needs insights:write).
    def read(self, token) -> str:
        return self.call("list_events", token).outcome

    def write(self, token) -> str:
        return self.call("track_query", token, {"user_query": "forged"}).outcome

    def get_query(self, token, query_id) -> str:
        return self.call("get_query", token, query_id).outcome


def _rest_answer(response: requests.Response) -> Answer:
    assert "Traceback" not in response.text
    if response.status_code < 300:
        return Answer("ok", response.json())
    body = assert_problem(response, response.status_code)
    if response.status_code == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    return Answer(REST_OUTCOMES.get(response.status_code, str(response.status_code)), body, body.get("errors"))


def _grpc_refusal(error: grpc.RpcError) -> Answer:
    assert error.details() and "Traceback" not in error.details()
    errors = field_violations(error) if error.code() == grpc.StatusCode.INVALID_ARGUMENT else None
    return Answer(GRPC_OUTCOMES.get(error.code(), error.code().name), None, errors)


@pytest.fixture(params=PROTOCOLS)
def door(request, live_server):
    """The UBI API over each protocol in turn. The live server's thread and the gRPC server's see the test's rows
    (``live_server`` makes the test transactional)."""
    stub = request.getfixturevalue("ubi_stub") if request.param == "grpc" else None
    return Door(request.param, live_server, stub)
