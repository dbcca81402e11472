"""grpc_api.client: call credentials that fetch a token by client credentials and refresh it before it expires."""

import grpc
import jwt
import pytest

from grpc_api.client import ClientCredentialsTokens, connect
from grpc_api.generated import user_behavior_insights_pb2 as ubi
from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from grpc_api.generated import user_behavior_insights_service_pb2_grpc
from insights.models import Query
from tests.support.grpc import rejected


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def tokens(live_server, app_client, clock):
    return ClientCredentialsTokens(
        f"{live_server.url}/oauth2/token", app_client.client.client_id, app_client.client_secret, clock=clock
    )


def track(channel, user_query: str) -> str:
    stub = user_behavior_insights_service_pb2_grpc.UserBehaviorInsightsServiceStub(channel)
    return stub.TrackQuery(rpc.TrackQueryRequest(query=ubi.Query(user_query=user_query))).query_id


def test_calls_carry_a_fetched_token_reused_until_near_expiry_then_refreshed(grpc_address, tokens, clock):
    with connect(grpc_address, tokens, tls=False) as channel:
        first_query = track(channel, "first")
        first_token = tokens.access_token()
        clock.now += 3600 - 31  # 31 seconds before the token expires: still good
        track(channel, "second")
        assert tokens.access_token() == first_token
        clock.now += 2  # within the 30-second margin: fetched again before the call
        track(channel, "third")
        refreshed = tokens.access_token()
    assert refreshed != first_token
    assert jwt.decode(refreshed, options={"verify_signature": False})["client_id"] == jwt.decode(
        first_token, options={"verify_signature": False}
    )["client_id"]
    assert Query.objects.get(query_id=first_query).user_query == "first"
    assert Query.objects.count() == 3


def test_refused_credentials_fail_the_call_without_reaching_the_service(grpc_address, live_server, app_client):
    wrong = ClientCredentialsTokens(f"{live_server.url}/oauth2/token", app_client.client.client_id, "wrong secret")
    with connect(grpc_address, wrong, tls=False) as channel:
        stub = user_behavior_insights_service_pb2_grpc.UserBehaviorInsightsServiceStub(channel)
        error = rejected(stub.TrackQuery, rpc.TrackQueryRequest(query=ubi.Query(user_query="q")))
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert "400" in error.details()
    assert not Query.objects.exists()
