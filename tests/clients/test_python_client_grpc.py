"""The Python client package's gRPC call credentials (``ubi_client.grpc_auth``) against a real gRPC server, with
tokens from the live server's token endpoint. A refused secret fails a call UNAUTHENTICATED, never UNAVAILABLE,
which the error table keeps for "offline for maintenance, try again later"."""

import grpc
import pytest

from accounts import services
from grpc_api.generated import user_behavior_insights_pb2 as ubi
from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from grpc_api.generated.user_behavior_insights_service_pb2_grpc import UserBehaviorInsightsServiceStub
from insights.models import Query
from tests.support.grpc import rejected
from ubi_client import OAuth2TokenService
from ubi_client.grpc_auth import OAuth2CallCredentials, connect


def track(channel, user_query: str) -> str:
    stub = UserBehaviorInsightsServiceStub(channel)
    return stub.TrackQuery(rpc.TrackQueryRequest(query=ubi.Query(user_query=user_query))).query_id


def test_calls_reuse_one_token_and_renew_it_30_seconds_before_expiry(grpc_address, tokens, clock, sent):
    with connect(grpc_address, tokens, tls=False) as channel:
        first_query = track(channel, "first")
        first_token = tokens.access_token()
        clock.now += 3600 - 31
        track(channel, "second")
        assert (tokens.access_token(), sent.requests) == (first_token, 1)
        clock.now += 2
        track(channel, "third")
    assert sent.requests == 2 and tokens.access_token() != first_token
    assert Query.objects.get(query_id=first_query).user_query == "first"
    assert Query.objects.count() == 3


def test_calls_from_many_threads_at_once_share_one_token_request(grpc_address, tokens, sent, run_together):
    tracked = []
    with connect(grpc_address, tokens, tls=False) as channel:
        run_together(6, lambda number: tracked.append(track(channel, f"q{number}")))
    assert len(tracked) == 6 and Query.objects.count() == 6
    assert sent.requests == 1


def test_a_refused_secret_fails_the_call_unauthenticated_before_it_leaves(grpc_address, make_tokens, app_client, sent):
    wrong = make_tokens(app_client.client.client_id, "not the secret")
    with connect(grpc_address, wrong, tls=False) as channel:
        stub = UserBehaviorInsightsServiceStub(channel)
        error = rejected(stub.TrackQuery, rpc.TrackQueryRequest(query=ubi.Query(user_query="q")))
        streamed = rejected(stub.TrackEvents, iter([rpc.TrackEventsRequest()]))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED and "invalid_client" in error.details()
    assert streamed.code() == grpc.StatusCode.UNAUTHENTICATED
    assert sent.requests == 2  # one per call: a refusal is not kept
    assert not Query.objects.exists()


def test_the_call_credentials_alone_answer_a_refused_secret_unauthenticated(grpc_address, make_tokens, app_client):
    """A channel built by hand, with the plugin and no interceptor: the server refuses the call without a token."""
    wrong = make_tokens(app_client.client.client_id, "not the secret")
    credentials = grpc.composite_channel_credentials(
        grpc.local_channel_credentials(), grpc.metadata_call_credentials(OAuth2CallCredentials(wrong))
    )
    with grpc.secure_channel(grpc_address, credentials) as channel:
        error = rejected(track, channel, "q")
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert not Query.objects.exists()


def test_an_unreachable_token_endpoint_fails_the_call_unavailable(grpc_address):
    unreachable = OAuth2TokenService("http://127.0.0.1:9/oauth2/token", "id", "secret", timeout=5)
    with connect(grpc_address, unreachable, tls=False) as channel:
        assert rejected(track, channel, "q").code() == grpc.StatusCode.UNAVAILABLE


def test_a_failed_renewal_keeps_calls_going_on_the_still_valid_token(grpc_address, tokens, clock, app_client):
    with connect(grpc_address, tokens, tls=False) as channel:
        first_token = tokens.access_token()
        services.set_new_client_secret(app_client.client)
        app_client.client.save()
        clock.now += 3600 - 20
        track(channel, "kept")
        assert tokens.access_token() == first_token
        clock.now += 20
        assert rejected(track, channel, "expired").code() == grpc.StatusCode.UNAUTHENTICATED
    assert list(Query.objects.values_list("user_query", flat=True)) == ["kept"]
