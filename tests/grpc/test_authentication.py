"""Bearer tokens at the gRPC door: every UserBehaviorInsightsService call needs one; health and reflection don't."""

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from grpc_api.generated import user_behavior_insights_pb2 as ubi
from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from grpc_api.interceptors import bearer_token
from tests.support.grpc import bearer_metadata, metadata_with_roles, rejected
from tests.support.tokens import BAD_TOKENS

# One valid request per RPC; the client-streaming one takes an iterator.
CALLS = {
    "TrackEvent": lambda: rpc.TrackEventRequest(event=ubi.Event(action_name="click")),
    "TrackQuery": lambda: rpc.TrackQueryRequest(query=ubi.Query(user_query="toner")),
    "TrackEvents": lambda: iter([rpc.TrackEventsRequest(events=[ubi.Event(action_name="click")])]),
    "ListQueries": rpc.ListQueriesRequest,
    "GetQuery": lambda: rpc.GetQueryRequest(query_id="q1"),
    "ListEvents": rpc.ListEventsRequest,
}
WRITES = {"TrackEvent", "TrackQuery", "TrackEvents"}


def test_every_rpc_of_the_service_is_covered():
    assert set(CALLS) == set(rpc.DESCRIPTOR.services_by_name["UserBehaviorInsightsService"].methods_by_name)


@pytest.mark.parametrize("method", sorted(CALLS))
def test_no_token_is_unauthenticated(ubi_stub, method):
    error = rejected(getattr(ubi_stub, method), CALLS[method]())
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("kind", sorted(BAD_TOKENS))
def test_bad_tokens_are_unauthenticated(ubi_stub, app_client, kind):
    metadata = bearer_metadata(BAD_TOKENS[kind](app_client))
    error = rejected(ubi_stub.TrackQuery, CALLS["TrackQuery"](), metadata=metadata)
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error.details()


@pytest.mark.parametrize("metadata", [(("authorization", "Basic dXNlcjpwYXNz"),), (("authorization", "Bearer"),)])
def test_another_scheme_or_an_empty_bearer_is_unauthenticated(ubi_stub, metadata):
    assert rejected(ubi_stub.ListEvents, rpc.ListEventsRequest(), metadata=metadata).code() == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("method", sorted(CALLS))
def test_a_principal_without_the_role_is_permission_denied(ubi_stub, org, method):
    # Tracking needs insights:write, reading insights:read: give each call the other role only.
    other_role = "insights:read" if method in WRITES else "insights:write"
    error = rejected(getattr(ubi_stub, method), CALLS[method](), metadata=metadata_with_roles(org, [other_role]))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED


def test_health_answers_without_a_token(grpc_channel):
    response = health_pb2_grpc.HealthStub(grpc_channel).Check(health_pb2.HealthCheckRequest())
    assert response.status == health_pb2.HealthCheckResponse.SERVING
    service = health_pb2.HealthCheckRequest(service="user_behavior_insights.v1.UserBehaviorInsightsService")
    assert health_pb2_grpc.HealthStub(grpc_channel).Check(service).status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize(
    ("metadata", "token"),
    [
        ((("authorization", "Bearer abc.def"),), "abc.def"),
        ((("authorization", "bearer abc.def"),), "abc.def"),
        ((("x-other", "1"), ("authorization", "Bearer  abc.def ")), "abc.def"),
        ((("authorization", "Basic abc"),), ""),
        ((), ""),
        (None, ""),
    ],
)
def test_the_bearer_token_is_read_from_the_authorization_metadata(metadata, token):
    assert bearer_token(metadata) == token
