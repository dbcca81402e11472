"""Request rate limits: per principal on the API, per client and per source address on the token endpoint.

``hit(scope, identity, rate)`` is the one counter. Everything else names what is counted and at which rate:
``limit_principal`` (REST through ``oauth.authentication.PrincipalRateThrottle``, gRPC through
``grpc_api.interceptors.AuthInterceptor``), ``limit_token_client`` and ``limit_token_address`` (the token
endpoint), ``limit_login_address`` (the sign-in pages). Over the limit, ``hit`` raises ``RateLimited`` with the seconds until the window ends, which each
protocol's one error mapping answers (429 with ``Retry-After``; ``RESOURCE_EXHAUSTED`` with ``RetryInfo``).

Counters are fixed windows in the ``ratelimit`` cache: Redis when ``REDIS_URL`` is set, so every process and
machine counts together; otherwise each process's own memory, so each process allows the rate by itself. Checking
a limit never reads the database: a principal's own limit travels in its access token (``rate_limit`` claim), and
the defaults are settings.
"""

import ipaddress
import math
import re
import time
from dataclasses import dataclass
from functools import lru_cache

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ValidationError

from project.conf import ubi_settings
from project.errors import RateLimited

CACHE_ALIAS = "ratelimit"
UNITS = {"s": 1, "min": 60, "h": 3600}
_RATE = re.compile(r"^\s*(\d{1,9})\s*/\s*(s|min|h)\s*$")
# An IPv6 host usually holds a whole /64: counting its addresses one by one would be no limit at all.
IPV6_PREFIX = 64
# The default rate of each kind of principal (oauth.principals.Principal.kind), and of the token endpoint's counts.
PRINCIPAL_DEFAULTS = {"client": "RATE_LIMIT_CLIENT", "user": "RATE_LIMIT_USER"}
TOKEN_PER_CLIENT = "TOKEN_RATE_LIMIT_PER_CLIENT"
TOKEN_PER_ADDRESS = "TOKEN_RATE_LIMIT_PER_ADDRESS"
LOGIN_PER_ADDRESS = "LOGIN_RATE_LIMIT_PER_ADDRESS"
# Every setting that holds a rate (checked at start by oauth.checks).
RATE_SETTINGS = (*PRINCIPAL_DEFAULTS.values(), TOKEN_PER_CLIENT, TOKEN_PER_ADDRESS, LOGIN_PER_ADDRESS)


@dataclass(frozen=True, slots=True)
class Rate:
    requests: int
    seconds: int

    def __str__(self):
        unit = next(unit for unit, seconds in UNITS.items() if seconds == self.seconds)
        return f"{self.requests}/{unit}"


@lru_cache(maxsize=1024)
def parse_rate(text: str) -> Rate:
    """``"1000/s"``, ``"600/min"`` or ``"10000/h"`` as a ``Rate``. Raises ``ValueError`` for anything else."""
    match = _RATE.match(text) if isinstance(text, str) else None
    if match is None or int(match[1]) < 1:
        raise ValueError(f"{text!r} is not a rate: write N/s, N/min or N/h with N from 1 to 999999999.")
    return Rate(requests=int(match[1]), seconds=UNITS[match[2]])


def validate_rate(value: str) -> None:
    """Model-field validator: an empty value means "the default"; anything else must parse."""
    if value:
        try:
            parse_rate(value)
        except ValueError as error:
            raise ValidationError(str(error), code="invalid_rate") from None


def setting_rate(name: str) -> Rate | None:
    """The rate of setting ``name``; ``None`` (the setting is ``None``) turns that limit off."""
    value = getattr(ubi_settings, name)
    return None if value is None else parse_rate(value)


# --- What is counted ------------------------------------------------------------------------------------------


def limit_principal(principal) -> None:
    """One API call of ``principal`` (REST or gRPC): its own rate from its token, else the default for its kind."""
    hit(principal.kind, principal.id, principal.rate_limit or setting_rate(PRINCIPAL_DEFAULTS[principal.kind]))


def limit_token_client(client_id: str) -> None:
    """One token request of an authenticated client, whatever the grant."""
    hit("token-client", client_id, setting_rate(TOKEN_PER_CLIENT))


def limit_token_address(request) -> None:
    """One token request from the source address of ``request`` (a Django request), before anything is checked."""
    hit("token-address", source_address(request), setting_rate(TOKEN_PER_ADDRESS))


def limit_login_address(request) -> None:
    """One post of a sign-in page from the source address of ``request``, before anything is checked."""
    hit("login-address", source_address(request), setting_rate(LOGIN_PER_ADDRESS))


def source_address(request) -> str:
    """The caller's address: ``REMOTE_ADDR``, unless ``TRUSTED_PROXY_COUNT`` proxies stand in front.

    Behind N trusted proxies, the address is the N-th entry from the right of ``X-Forwarded-For`` (each proxy
    appends the address it received from); entries further left are the client's to invent. An IPv6 address
    counts as its /64.
    """
    address = request.META.get("REMOTE_ADDR", "")
    proxies = ubi_settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [item.strip() for item in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if item.strip()]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    if parsed.version == 6:
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_PREFIX}", strict=False))
    return str(parsed)


# --- The counter ----------------------------------------------------------------------------------------------


def hit(scope: str, identity: str, rate: Rate | None) -> None:
    """Count one request of ``identity`` in ``scope``; raise ``RateLimited`` past ``rate.requests`` in the window.
    A ``None`` rate (that limit turned off) counts nothing.

    Windows are aligned on multiples of ``rate.seconds`` since the epoch, the same in every process; the answer
    says how many seconds are left in the current one.
    """
    if rate is None:
        return
    now = time.time()
    window = int(now // rate.seconds)
    count = _increment(f"rate:{scope}:{identity}:{rate.seconds}:{window}", timeout=rate.seconds + 1)
    if count > rate.requests:
        retry_after = math.ceil((window + 1) * rate.seconds - now)
        raise RateLimited(retry_after=retry_after, detail=f"Rate limit of {rate} exceeded: retry in {retry_after} s.")


def _increment(key: str, *, timeout: int) -> int:
    cache = caches[CACHE_ALIAS]
    if isinstance(cache, RedisCache):
        # One round trip instead of Django's three (add, then incr's exists and incr): this runs on every call.
        key = cache.make_and_validate_key(key)
        pipeline = cache._cache.get_client(key, write=True).pipeline(transaction=False)
        pipeline.set(key, 0, nx=True, ex=timeout)
        pipeline.incr(key)
        return pipeline.execute()[1]
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, timeout=timeout)
        return 1
