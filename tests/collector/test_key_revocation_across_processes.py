"""A key revoked in one process is refused at once by another: gunicorn (its own process, on the test database)
serves the collector, and this test's process revokes the key through the service, as the admin or a command in
another process would. They share the generation of keys through Redis with ``REDIS_URL``, else through gunicorn's
file cache, which this process is pointed at."""

import os

import pytest
import requests

from collector import services
from insights.models import Event
from tests.support import factories
from tests.support.collector import APPLICATION, ORIGIN, collect_url, ubi_js_event


@pytest.fixture
def shared_with(gunicorn, settings):
    """This process's ``shared`` cache is gunicorn's."""
    if not os.environ.get("REDIS_URL"):
        settings.CACHES = {
            **settings.CACHES,
            "shared": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(gunicorn.log.parent / "shared-cache"),
            },
        }
    return gunicorn


def post(url: str) -> int:
    return requests.post(f"{url}/ubi_events", json=[ubi_js_event()], headers={"Origin": ORIGIN}, timeout=30).status_code


def test_a_key_revoked_in_another_process_is_refused_at_once(transactional_db, shared_with):
    org = factories.make_org()
    key, other = (factories.make_ingest_key(org, APPLICATION, [ORIGIN]) for _ in range(2))
    url, other_url = collect_url(shared_with.url, key), collect_url(shared_with.url, other)
    assert post(url) == 201 and post(other_url) == 201  # the server process remembers both keys

    assert services.ingest_key_revoke(key)

    # No wait: the revocation has committed, and the server reads the key generation at its next request.
    assert post(url) == 404
    assert post(other_url) == 201
    other.delete()
    assert post(other_url) == 404
    assert Event.objects.count() == 3
