import os

import pytest

# The helpers' assertions report their values as a test module's do.
pytest.register_assert_rewrite("tests.support")

from tests.support import factories  # noqa: E402 (after the registration above)
from tests.support.api import Api  # noqa: E402
from tests.support.paths import UBI_REFERENCE  # noqa: E402

# The CI rule on skips for a missing part; the gRPC server, channel and stub fixtures; gunicorn and a private Redis;
# the door (the UBI API over each protocol in turn); Chromium under Playwright for the browser tests.
pytest_plugins = [
    "tests.support.skips",
    "tests.support.grpc",
    "tests.support.servers",
    "tests.support.doors",
    "tests.support.chromium",
]


@pytest.fixture(autouse=True)
def _isolated_shared_cache(settings, tmp_path):
    """Each test gets its own revocation / rate-limit store unless it runs against Redis."""
    if not os.environ.get("REDIS_URL"):
        settings.CACHES = {
            **settings.CACHES,
            "shared": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(tmp_path / "shared-cache"),
            },
        }
    from django.core.cache import caches

    caches["ratelimit"].clear()  # per process without Redis: counts of earlier tests would carry over
    yield
    caches["shared"].clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2's deliberate cost, paid for every user created or signed in, would dominate the suite's time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]


@pytest.fixture
def ubi_dir():
    return UBI_REFERENCE


@pytest.fixture
def org(db):
    return factories.make_org()


@pytest.fixture
def app_client(org):
    """A confidential client with both insights roles: ``.client``, ``.client_secret``."""
    return factories.make_client(org)


@pytest.fixture
def people_client(org):
    """A public client for people (authorization code with PKCE, and the password grant it opts in to) of ``org``."""
    return factories.make_public_client(org, name="Insights dashboard", allow_password_grant=True)


@pytest.fixture
def token(app_client):
    return factories.bearer_for(app_client.client)


@pytest.fixture
def api(live_server, token):
    """The live server, called with a token of ``app_client`` (both insights roles)."""
    return Api(live_server.url, token)


@pytest.fixture
def anonymous_api(live_server):
    return Api(live_server.url)
