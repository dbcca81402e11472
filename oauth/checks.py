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
