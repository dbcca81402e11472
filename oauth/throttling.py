"""Request rate limits: per principal on the API, per client and per source address on the token endpoint.

A ``Throttle`` counts one request of one identity against one ``project.rates.Rate``, with DRF's throttle contract:
``allow_request()`` counts and says whether the request is within the rate, ``wait()`` then says how many seconds
are left in the window. ``check()`` raises ``RateLimited`` with those seconds instead of returning ``False``; each
protocol's one error mapping answers it (429 with ``Retry-After``; ``RESOURCE_EXHAUSTED`` with ``RetryInfo``).

The named limits say what is counted and at which rate: ``limit_principal`` (REST through
``rest_api.throttling.PrincipalRateThrottle``, gRPC through ``grpc_api.interceptors.AuthInterceptor``),
``limit_token_client`` and ``limit_token_address`` (the token endpoint), ``limit_login_address`` (the sign-in
pages), ``limit_collector_address`` (the browser collector, whose keys count as principals of kind ``"key"``).

Counters are fixed windows in the ``ratelimit`` cache: Redis when ``REDIS_URL`` is set, so every process and
machine counts together; otherwise each process's own memory, so each process allows the rate by itself. Checking
a limit never reads the database: a principal's own limit travels in its access token (``rate_limit`` claim), and
the defaults are settings.
"""

import ipaddress
import math
import time

from django.core.cache import caches

from observability import metrics
from project.addresses import client_address
from project.errors import RateLimited
from project.rates import Rate, setting_rate
from runtime.cache import increment_with_expiry

CACHE_ALIAS = "ratelimit"
# An IPv6 host usually holds a whole /64: counting its addresses one by one would be no limit at all.
IPV6_PREFIX = 64
# The default rate of each kind of principal (oauth.principals.Principal.kind), and of the token endpoint's counts.
PRINCIPAL_DEFAULTS = {
    "client": "RATE_LIMIT_CLIENT", "user": "RATE_LIMIT_USER", "key": "COLLECTOR_RATE_LIMIT_PER_KEY"
}
TOKEN_PER_CLIENT = "TOKEN_RATE_LIMIT_PER_CLIENT"
TOKEN_PER_ADDRESS = "TOKEN_RATE_LIMIT_PER_ADDRESS"
LOGIN_PER_ADDRESS = "LOGIN_RATE_LIMIT_PER_ADDRESS"
COLLECTOR_PER_ADDRESS = "COLLECTOR_RATE_LIMIT_PER_ADDRESS"
# Every setting that holds a rate (checked at start by oauth.checks).
RATE_SETTINGS = (
    *PRINCIPAL_DEFAULTS.values(), TOKEN_PER_CLIENT, TOKEN_PER_ADDRESS, LOGIN_PER_ADDRESS, COLLECTOR_PER_ADDRESS
)


# --- What is counted ------------------------------------------------------------------------------------------


def principal_throttle(principal) -> "Throttle":
    """One API call of ``principal`` (REST or gRPC): its own rate from its token, else the default for its kind."""
    rate = principal.rate_limit or setting_rate(PRINCIPAL_DEFAULTS[principal.kind])
    return Throttle(principal.kind, principal.id, rate)


def limit_principal(principal) -> None:
    """``principal_throttle(principal).check()``: ``RateLimited`` past the principal's rate."""
    principal_throttle(principal).check()


def limit_token_client(client_id: str) -> None:
    """One token request of an authenticated client, whatever the grant."""
    hit("token-client", client_id, setting_rate(TOKEN_PER_CLIENT))


def limit_token_address(request) -> None:
    """One token request from the source address of ``request`` (a Django request), before anything is checked."""
    hit("token-address", source_address(request), setting_rate(TOKEN_PER_ADDRESS))


def limit_login_address(request) -> None:
    """One post of a sign-in page from the source address of ``request``, before anything is checked."""
    hit("login-address", source_address(request), setting_rate(LOGIN_PER_ADDRESS))


def limit_collector_address(request) -> None:
    """One request of the browser collector (``collector.views``) from the source address of ``request``, before
    its key is looked up."""
    hit("collector-address", source_address(request), setting_rate(COLLECTOR_PER_ADDRESS))


def source_address(request) -> str:
    """The caller's address as the limits count it (``project.addresses.client_address``); an IPv6 address counts
    as its /64."""
    parsed = client_address(request)
    if parsed is None:
        return "unknown"
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_PREFIX}", strict=False))
    return str(parsed)


# --- The counter ----------------------------------------------------------------------------------------------


class Throttle:
    """One request of ``identity`` in ``scope``, counted against ``rate``; a ``None`` rate (that limit turned off)
    counts nothing and allows everything.

    Windows are aligned on multiples of ``rate.seconds`` since the epoch, the same in every process; ``wait()`` is
    the number of seconds left in the current one.
    """

    __slots__ = ("scope", "identity", "rate", "_wait")

    def __init__(self, scope: str, identity: str, rate: Rate | None):
        self.scope = scope
        self.identity = identity
        self.rate = rate
        self._wait = None

    def allow_request(self) -> bool:
        """Count the request; ``False`` past ``rate.requests`` in the window."""
        rate = self.rate
        if rate is None:
            return True
        now = time.time()
        window = int(now // rate.seconds)
        key = f"rate:{self.scope}:{self.identity}:{rate.seconds}:{window}"
        if _increment(key, timeout=rate.seconds + 1) <= rate.requests:
            return True
        self._wait = math.ceil((window + 1) * rate.seconds - now)
        metrics.RATE_LIMITED.labels(scope=self.scope).inc()
        return False

    def wait(self) -> int | None:
        """Seconds until the window of a refused request ends; ``None`` after an allowed one."""
        return self._wait

    def check(self) -> None:
        """``allow_request()``, raising ``RateLimited`` (with ``wait()`` as its ``retry_after``) past the rate."""
        if not self.allow_request():
            raise RateLimited(
                retry_after=self._wait, detail=f"Rate limit of {self.rate} exceeded: retry in {self._wait} s."
            )


def hit(scope: str, identity: str, rate: Rate | None) -> None:
    """Count one request of ``identity`` in ``scope``; raise ``RateLimited`` past ``rate.requests`` in the window."""
    Throttle(scope, identity, rate).check()


def _increment(key: str, *, timeout: int) -> int:
    cache = caches[CACHE_ALIAS]
    if (count := increment_with_expiry(cache, key, timeout=timeout)) is not None:
        return count
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, timeout=timeout)
        return 1
