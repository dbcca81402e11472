"""Bearer tokens at the gRPC door, what only gRPC has: the metadata a token is read from, and health answering
without one. The refusals both protocols share (no token, bad tokens, a missing role) are ``tests/ubi/test_access.py``."""

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from grpc_api.interceptors import bearer_token
from tests.support.grpc import rejected


@pytest.mark.parametrize("metadata", [(("authorization", "Basic dXNlcjpwYXNz"),), (("authorization", "Bearer"),)])
def test_another_scheme_or_an_empty_bearer_is_unauthenticated(ubi_stub, metadata):
    assert rejected(ubi_stub.ListEvents, rpc.ListEventsRequest(), metadata=metadata).code() == grpc.StatusCode.UNAUTHENTICATED


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
