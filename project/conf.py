"""The project's own settings, declared once with their defaults.

Read them as ``ubi_settings.MAX_EVENTS_PER_REQUEST``; override them in ``settings.UBI``. Unknown keys are an
error, so a typo fails loudly instead of silently keeping a default. Knobs that django-oauth-toolkit already
names (token lifetimes, PKCE, rotation) stay in ``OAUTH2_PROVIDER``.
"""

from django.conf import settings
from django.core.signals import setting_changed

DEFAULTS = {
    # Ingestion limits (README, "Limits").
    "MAX_EVENTS_PER_REQUEST": 1000,
    # A gRPC TrackEvents stream is read whole before it is stored all or nothing, so this bounds its memory.
    "MAX_EVENTS_PER_STREAM": 100_000,
    "MAX_REQUEST_BYTES": 8 * 1024 * 1024,
    "MAX_JSON_DEPTH": 32,
    # Pagination of every list endpoint and RPC.
    "DEFAULT_PAGE_SIZE": 50,
    "MAX_PAGE_SIZE": 1000,
    # gRPC server.
    "GRPC_ADDRESS": "[::]:50051",
    "GRPC_THREADS": 16,
    "GRPC_GRACE_SECONDS": 10,
    # Sign-in (oauth/login.py): after LOGIN_MAX_FAILURES consecutive failures for one account within
    # LOGIN_FAILURE_WINDOW_SECONDS, that account is refused for LOGIN_LOCKOUT_SECONDS, even with the right password.
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_FAILURE_WINDOW_SECONDS": 15 * 60,
    "LOGIN_LOCKOUT_SECONDS": 15 * 60,
    # The name authenticator apps show beside the account of a one-time-code second factor.
    "TOTP_ISSUER": "User Behavior Insights",
}


class UbiSettings:
    def __init__(self, user_settings=None):
        self._user_settings = user_settings
        self._cached = {}

    @property
    def user_settings(self):
        if self._user_settings is None:
            self._user_settings = getattr(settings, "UBI", {})
            unknown = set(self._user_settings) - set(DEFAULTS)
            if unknown:
                raise RuntimeError(f"Unknown key(s) in settings.UBI: {', '.join(sorted(unknown))}")
        return self._user_settings

    def __getattr__(self, name):
        if name not in DEFAULTS:
            raise AttributeError(f"Invalid UBI setting: {name!r}")
        if name not in self._cached:
            self._cached[name] = self.user_settings.get(name, DEFAULTS[name])
        return self._cached[name]

    def reload(self):
        self._user_settings = None
        self._cached.clear()


ubi_settings = UbiSettings()


def _reload(*, setting, **kwargs):
    if setting == "UBI":
        ubi_settings.reload()


setting_changed.connect(_reload)
