"""Configuration the authorization server cannot run without, checked at start-up rather than at the first token."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def signing_key_check(app_configs, **kwargs):
    from oauth.keys import signing_key

    try:
        signing_key()
    except (ValueError, TypeError, OSError) as error:
        return [Error(f"The JWT signing key cannot be loaded: {error}", id="oauth.E001",
                      hint="Set JWT_PRIVATE_KEY to the PEM of an EC P-256 private key, or unset it in development.")]
    if not settings.OAUTH_ISSUER or not settings.OAUTH_AUDIENCE:
        return [Error("OAUTH_ISSUER and OAUTH_AUDIENCE must not be empty.", id="oauth.E002")]
    return []


@register()
def rate_limit_check(app_configs, **kwargs):
    from project.ratelimit import CACHE_ALIAS, RATE_SETTINGS, setting_rate
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
