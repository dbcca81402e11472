"""The Python client package (clients/python, ``ubi_client``) against the live server over HTTP: the token service
with the requests and httpx adapters. Time is a fake monotonic clock handed to the service, so "30 seconds before
expiry" is exact; every token request is counted at the client's urllib opener."""

import anyio
import httpx
import pytest
import requests

from accounts import services
from ubi_client import InvalidClientError, OAuth2TokenService, TokenError
from ubi_client.httpx_auth import OAuth2Auth
from ubi_client.requests_auth import OAuth2Handler
from ubi_client.tokens import RETRY_INTERVAL


def me(live_server, auth) -> requests.Response:
    return requests.get(f"{live_server.url}/api/v1/me", auth=auth, timeout=30)


def test_one_token_serves_every_request_until_30_seconds_before_it_expires(live_server, tokens, clock, sent):
    auth = OAuth2Handler(tokens)
    assert me(live_server, auth).json()["client_id"] == tokens.client_id
    first = tokens.access_token()
    clock.now += 3600 - 31  # 31 s before expiry: still the same token
    assert me(live_server, auth).status_code == 200
    assert (tokens.access_token(), sent.requests) == (first, 1)
    clock.now += 2  # 29 s before expiry: renewed before the request leaves
    assert me(live_server, auth).status_code == 200
    assert sent.requests == 2 and tokens.access_token() != first


def test_threads_that_need_a_token_at_once_share_one_token_request(tokens, sent, run_together):
    """Eight threads are released together, so all of them ask while no token exists yet."""
    got = []
    run_together(8, lambda number: got.append(tokens.access_token()))
    assert len(got) == 8 and len(set(got)) == 1
    assert sent.requests == 1


def test_a_refused_secret_is_a_clear_error_that_is_not_worth_retrying(live_server, make_tokens, app_client):
    tokens = make_tokens(app_client.client.client_id, "not the secret")
    with pytest.raises(InvalidClientError) as refused:
        me(live_server, OAuth2Handler(tokens))
    assert refused.value.retryable is False and refused.value.error == "invalid_client"
    assert app_client.client.client_id in str(refused.value) and "not the secret" not in str(refused.value)


def test_an_unreachable_token_endpoint_is_a_retryable_error(clock):
    with pytest.raises(TokenError) as failed:
        OAuth2TokenService("http://127.0.0.1:9/oauth2/token", "id", "secret", clock=clock, timeout=5).access_token()
    assert failed.value.retryable is True and not isinstance(failed.value, InvalidClientError)


def test_a_failed_renewal_keeps_the_still_valid_token_until_it_expires(live_server, tokens, clock, sent, app_client):
    auth = OAuth2Handler(tokens)
    first = tokens.access_token()
    services.set_new_client_secret(app_client.client)  # the secret rotated: renewals are refused from now on
    app_client.client.save()

    clock.now += 3600 - 20  # in the renewal window: the renewal is refused, the token kept
    response = me(live_server, auth)
    assert response.status_code == 200 and response.request.headers["Authorization"] == f"Bearer {first}"
    assert sent.requests == 2
    clock.now += RETRY_INTERVAL / 2  # no new attempt before the retry interval
    assert tokens.access_token() == first and sent.requests == 2
    clock.now += RETRY_INTERVAL  # tried again, refused again, still kept
    assert tokens.access_token() == first and sent.requests == 3

    clock.now += 20  # expired: the refusal is raised
    with pytest.raises(InvalidClientError):
        me(live_server, auth)


def test_httpx_clients_send_the_token_sync_and_async(live_server, tokens, sent):
    with httpx.Client(base_url=live_server.url, auth=OAuth2Auth(tokens)) as client:
        assert client.get("/api/v1/me").json()["client_id"] == tokens.client_id

    async def async_me():
        async with httpx.AsyncClient(base_url=live_server.url, auth=OAuth2Auth(tokens)) as client:
            return (await client.get("/api/v1/me")).json()

    assert anyio.run(async_me)["client_id"] == tokens.client_id
    assert sent.requests == 1


def test_httpx_reports_a_refused_secret_as_such(live_server, make_tokens, app_client):
    tokens = make_tokens(app_client.client.client_id, "not the secret")
    with httpx.Client(base_url=live_server.url, auth=OAuth2Auth(tokens)) as client, pytest.raises(InvalidClientError):
        client.get("/api/v1/me")
