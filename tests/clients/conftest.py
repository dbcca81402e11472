"""Seams of the client package's tests: a fake monotonic clock for the token service, and a count of the token
requests that leave through its urllib opener."""

import threading
import urllib.request

import pytest

from ubi_client import OAuth2TokenService


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class CountingHandler(urllib.request.BaseHandler):
    """Counts the requests that leave through the opener it is part of."""

    def __init__(self):
        self.requests = 0
        self._lock = threading.Lock()

    def http_request(self, request):
        with self._lock:
            self.requests += 1
        return request


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def sent():
    return CountingHandler()


@pytest.fixture
def token_url(live_server):
    return f"{live_server.url}/oauth2/token"


@pytest.fixture
def make_tokens(token_url, clock, sent):
    """``make_tokens(client_id, client_secret)``: a token service of the live server on ``clock``, counted."""

    def make(client_id: str, client_secret: str) -> OAuth2TokenService:
        opener = urllib.request.build_opener(sent)
        return OAuth2TokenService(token_url, client_id, client_secret, clock=clock, opener=opener)

    return make


@pytest.fixture
def tokens(make_tokens, app_client):
    return make_tokens(app_client.client.client_id, app_client.client_secret)


@pytest.fixture
def run_together():
    """``run_together(count, work)``: ``work(number)`` in ``count`` threads released at once by a barrier, so all of
    them are inside before any is done; returns when every thread has finished."""

    def run(count: int, work) -> None:
        barrier = threading.Barrier(count)

        def released(number):
            barrier.wait()
            work(number)

        threads = [threading.Thread(target=released, args=(number,)) for number in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    return run
