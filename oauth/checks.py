"""Configuration the authorization server cannot run without, checked at start-up rather than at the first token."""

from urllib.parse import urlsplit, urlunsplit

import redis
from django.conf import settings
from django.core.cache.backends.redis import RedisCache
from django.core.checks import Error, Warning, register
from django.utils.module_loading import import_string


@register()
def signing_key_check(app_configs, **kwargs):
    from oauth.keys import configured_key

    try:
        configured_key()
    except (ValueError, TypeError, OSError) as error:
        return [Error(f"The JWT signing key cannot be loaded: {error}", id="oauth.E001",
                      hint="Set JWT_PRIVATE_KEY to the PEM of an EC P-256 private key, or unset it in development.")]
    if not settings.OAUTH_ISSUER or not settings.OAUTH_AUDIENCE:
        return [Error("OAUTH_ISSUER and OAUTH_AUDIENCE must not be empty.", id="oauth.E002")]
    return []


@register()
def rate_limit_check(app_configs, **kwargs):
    from oauth.throttling import CACHE_ALIAS, RATE_SETTINGS
    from project.rates import setting_rate
    from project.conf import ubi_settings

    problems = []
    for name in RATE_SETTINGS:
        try:
            setting_rate(name)
        except ValueError as error:
            problems.append(Error(f"UBI[{name!r}]: {error}", id="oauth.E003"))
    proxies = ubi_settings.TRUSTED_PROXY_COUNT
    if not isinstance(proxies, int) or isinstance(proxies, bool) or proxies < 0:
        problems.append(Error("UBI['TRUSTED_PROXY_COUNT'] must be a whole number from 0.", id="oauth.E004"))
    if CACHE_ALIAS not in settings.CACHES:
        problems.append(Error(f"CACHES has no {CACHE_ALIAS!r} cache for the rate-limit counters.", id="oauth.E005"))
    return problems


@register()
def redis_eviction_check(app_configs, **kwargs):
    """Rate-limit counters and the revocation generation live in Redis: a Redis that may evict keys under memory
    pressure lets a client past its limit and costs every process a reload of the revocations (docs/operations.md, "Redis")."""
    warnings = []
    for location in sorted(_redis_locations()):
        policy, problem = _eviction_policy(location)
        if policy == "noeviction":
            continue
        found = problem or f"its maxmemory-policy is {policy!r}"
        warnings.append(Warning(f"The Redis at {_without_password(location)} may evict keys: {found}.",
                                hint="Run Redis with maxmemory-policy noeviction.", id="oauth.W001"))
    return warnings


def _redis_locations() -> set[str]:
    locations = set()
    for cache in settings.CACHES.values():
        if issubclass(import_string(cache["BACKEND"]), RedisCache):
            location = cache.get("LOCATION", "")
            locations.update([location] if isinstance(location, str) else location)
    return locations


def _eviction_policy(location: str) -> tuple[str | None, str | None]:
    """Redis's ``maxmemory-policy``, or why it could not be read (a managed Redis may refuse ``CONFIG``)."""
    try:
        with redis.Redis.from_url(location, socket_timeout=2, socket_connect_timeout=2) as server:
            return server.config_get("maxmemory-policy").get("maxmemory-policy"), None
    except redis.ResponseError as error:
        return None, f"it refused CONFIG GET maxmemory-policy ({error}), so the policy is unknown"
    except redis.RedisError as error:
        return None, f"it could not be asked for its maxmemory-policy ({error})"


def _without_password(location: str) -> str:
    parts = urlsplit(location)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
