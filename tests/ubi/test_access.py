"""Who may call the UBI API, over REST and gRPC alike: every operation needs a valid bearer token, a write needs
``insights:write`` and a read ``insights:read``; a refusal is ``unauthenticated`` (401 problem details with a
``WWW-Authenticate: Bearer`` challenge / ``UNAUTHENTICATED``) or ``forbidden`` (403 / ``PERMISSION_DENIED``), and
stores nothing."""

import pytest

from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from insights.models import Event, Query
from tests.support import factories
from tests.support.doors import OPERATIONS, VALID_ARGUMENTS, WRITES
from tests.support.tokens import BAD_TOKENS


def nothing_stored() -> bool:
    return not Query.objects.exists() and not Event.objects.exists()


def test_every_rpc_of_the_service_is_an_operation():
    rpcs = {grpc_request[0] for _, grpc_request in OPERATIONS.values()}
    assert rpcs == set(rpc.DESCRIPTOR.services_by_name["UserBehaviorInsightsService"].methods_by_name)


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_without_a_token_it_is_unauthenticated(door, operation):
    assert door.call(operation, None, VALID_ARGUMENTS[operation]).outcome == "unauthenticated"
    assert nothing_stored()


@pytest.mark.parametrize("kind", sorted(BAD_TOKENS))
def test_bad_tokens_are_unauthenticated(door, app_client, kind):
    token = BAD_TOKENS[kind](app_client)
    for operation in ("track_query", "list_events"):
        assert door.call(operation, token, VALID_ARGUMENTS[operation]).outcome == "unauthenticated", operation
    assert nothing_stored()


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_without_its_role_it_is_forbidden(door, org, operation):
    # Tracking needs insights:write, reading insights:read: each call is made with the other role only.
    other_role = "insights:read" if operation in WRITES else "insights:write"
    token = factories.bearer_for(factories.make_client(org, roles=[other_role]).client)
    assert door.call(operation, token, VALID_ARGUMENTS[operation]).outcome == "forbidden"
    assert nothing_stored()
