"""The project's own settings, declared once with their defaults.

Read them as ``ubi_settings.MAX_EVENTS_PER_REQUEST``; override them in ``settings.UBI``. Unknown keys are an
error, so a typo fails loudly instead of silently keeping a default. Knobs that django-oauth-toolkit already
names (token lifetimes, PKCE, rotation) stay in ``OAUTH2_PROVIDER``.
"""

from django.conf import settings
from django.core.signals import setting_changed

DEFAULTS = {
    # Ingestion limits (docs/rest-api.md, "Limits").
    "MAX_EVENTS_PER_REQUEST": 1000,
    # A REST body, and each gRPC message (its serialized bytes: free-form strings and attributes count).
    "MAX_REQUEST_BYTES": 8 * 1024 * 1024,
    # A gRPC TrackEvents stream is read whole before it is stored all or nothing: these bound its memory.
    "MAX_EVENTS_PER_STREAM": 100_000,
    "MAX_STREAM_BYTES": 64 * 1024 * 1024,
    "MAX_JSON_DEPTH": 32,
    # PostgreSQL's monthly partitions of the queries and events tables (insights/partitions.py): how many months
    # after this one ensure_partitions makes ahead of time (the migration, scripts/serve.sh, a daily cron).
    "PARTITION_MONTHS_AHEAD": 3,
    # Pagination of every list endpoint and RPC.
    "DEFAULT_PAGE_SIZE": 50,
    "MAX_PAGE_SIZE": 1000,
    # gRPC server. Calls are mostly Python on the CPU, so threads beyond a few only queue for the GIL: 4 a process
    # serves more unary calls and streamed events than 8 or 16 (bench/grpc_load.py; docs/performance.md).
    # This machine only, unless told otherwise (docs/grpc.md).
    "GRPC_ADDRESS": "127.0.0.1:50051",
    "GRPC_THREADS": 4,
    "GRPC_GRACE_SECONDS": 10,
    # Health (docs/operations.md, "Health"). A stopping gRPC server says NOT_SERVING at once, then keeps taking calls
    # this long before it refuses new ones, for load balancers that probe it to stop sending first (0: refuse at
    # once). Each server process checks its readiness (database, caches, migrations) this often for its health
    # service.
    "GRPC_DRAIN_SECONDS": 0.0,
    "HEALTH_CHECK_INTERVAL_SECONDS": 5.0,
    # A TrackEvents stream holds a thread until its last message (grpc_api/streams.py): it ends DEADLINE_EXCEEDED
    # after this long without a message, or this long after its start. Each principal holds at most this many
    # streams of a process at once, and never all of its threads (RESOURCE_EXHAUSTED past it); None: no limit.
    "GRPC_STREAM_IDLE_SECONDS": 30,
    "GRPC_STREAM_MAX_SECONDS": 600,
    "GRPC_MAX_STREAMS_PER_PRINCIPAL": 2,
    # Sign-in (oauth/login.py): after LOGIN_MAX_FAILURES consecutive failures for one account within
    # LOGIN_FAILURE_WINDOW_SECONDS, that account is refused for LOGIN_LOCKOUT_SECONDS, even with the right password.
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_FAILURE_WINDOW_SECONDS": 15 * 60,
    "LOGIN_LOCKOUT_SECONDS": 15 * 60,
    # Refresh tokens (oauth/validators.py): each lives OAUTH2_PROVIDER["REFRESH_TOKEN_EXPIRE_SECONDS"] (30 days) from
    # its issue, and a sign-in (the family of refresh tokens one grant began) at most this long from that grant,
    # however often it is refreshed: a stolen or outdated sign-in ends, and the person signs in again.
    "REFRESH_FAMILY_MAX_AGE_SECONDS": 30 * 24 * 3600,
    # A refresh token presented again this long after its rotation (a client that retried, or two workers that
    # raced) gets the answer the rotation gave; later, its reuse is taken for theft and ends the sign-in.
    "REFRESH_TOKEN_REUSE_GRACE_SECONDS": 30,
    # The name authenticator apps show beside the account of a one-time-code second factor.
    "TOTP_ISSUER": "User Behavior Insights",
    # Single sign-on (accounts/sso_network.py): the issuer and its endpoints must be https:// on public addresses.
    # On, private, loopback and link-local addresses are allowed too, and http:// for a loopback address: for a
    # provider on this machine (development, tests) or inside the company network.
    "SSO_ALLOW_PRIVATE_NETWORKS": False,
    # Rate limits (oauth/throttling.py): "N/s", "N/min" or "N/h" in fixed windows; None turns one off. API calls
    # (REST and gRPC together) per principal, unless the client or user has its own limit (admin, or
    # create_app_client --rate-limit). A client's default carries a busy site's tracking traffic (86 million calls
    # a day, each up to 1000 events); a person's calls are reads and dashboards.
    "RATE_LIMIT_CLIENT": "1000/s",
    "RATE_LIMIT_USER": "100/s",
    # Token requests per authenticated client, and per source address (before anything is checked). A client
    # needs a token an hour per process; people's sign-ins through one public client add up, hence the margin.
    "TOKEN_RATE_LIMIT_PER_CLIENT": "20/s",
    "TOKEN_RATE_LIMIT_PER_ADDRESS": "20/s",
    # Posts of the sign-in pages (password, one-time code, new password) per source address. The lockout guards
    # each account; this bounds one address trying a password on many accounts. A person posts two or three times.
    "LOGIN_RATE_LIMIT_PER_ADDRESS": "30/min",
    # The browser collector (collector/, docs/collector.md): requests per ingest key unless the key has its own
    # rate, and per source address whatever the key (counted before the key is looked up, so a flood of made-up
    # keys costs no database query). A page view sends a few requests; a shop behind one NAT, many pages at once.
    "COLLECTOR_RATE_LIMIT_PER_KEY": "500/s",
    "COLLECTOR_RATE_LIMIT_PER_ADDRESS": "50/s",
    # The public origin (scheme://host[:port]) a browser reaches the collector at, the start of every key's
    # collector_url; None: the origin of OAUTH_ISSUER, the server's public address.
    "COLLECTOR_BASE_URL": None,
    # How long a browser may keep the answer to a preflight (Access-Control-Max-Age), in seconds.
    "COLLECTOR_PREFLIGHT_MAX_AGE": 3600,
    # How long browsers keep the collector script, /collect/ubi.js, before they revalidate it (Cache-Control
    # max-age, in seconds): a new release reaches every visitor within this time.
    "COLLECTOR_SCRIPT_MAX_AGE": 3600,
    # How many reverse proxies in front append to X-Forwarded-For. 0: the address is REMOTE_ADDR, and
    # X-Forwarded-For, which any caller can write, is ignored.
    "TRUSTED_PROXY_COUNT": 0,
    # Maintenance (insights/maintenance.py): while on, tracking (REST and gRPC) answers 503 / UNAVAILABLE with this
    # Retry-After; reads go on. Also switchable at run time, for every process, by `manage.py maintenance on`.
    "MAINTENANCE_MODE": False,
    "MAINTENANCE_RETRY_AFTER_SECONDS": 60,
    # Retry-After of a 503 / UNAVAILABLE when the database cannot be reached.
    "DATABASE_UNAVAILABLE_RETRY_AFTER_SECONDS": 5,
    # Relevance analytics (docs/analytics.md): the largest maxRank a read or a judgment list may ask for (the
    # default is 20), and the most rows of a query table (limit, default 20).
    "ANALYTICS_MAX_RANK": 100,
    "ANALYTICS_MAX_QUERY_ROWS": 100,
    # The rollups (analytics/rollups.py) count a row again for this long after a refresh has read a higher id:
    # PostgreSQL commits ids out of order. Longer than any ingest transaction (a gRPC stream of
    # MAX_EVENTS_PER_STREAM events is the longest); a longer one only costs each refresh more rows to re-read.
    "ANALYTICS_LATE_COMMIT_SECONDS": 300,
    # Data lifecycle (docs/data-lifecycle.md): the retention period, in days, of an organisation that has none of
    # its own (0: keep forever), and how many rows one statement of retention, erasure or offboarding deletes, so
    # that no transaction holds millions of rows.
    "RETENTION_DAYS_DEFAULT": 0,
    "LIFECYCLE_BATCH_SIZE": 10_000,
    # How long a process keeps an organisation's suppressed subjects (insights/suppressions.py) before reading them
    # again: a suppression made or lifted in another process holds in this one within that many seconds.
    "SUPPRESSION_CACHE_SECONDS": 10,
    # Who may read /metrics (observability/access.py): callers from these networks (CIDR; the address the rate
    # limits see, behind TRUSTED_PROXY_COUNT proxies), and callers presenting this bearer token ("" for none).
    "METRICS_ALLOWED_NETWORKS": ["127.0.0.0/8", "::1/128"],
    "METRICS_BEARER_TOKEN": "",
    # Signing-key rotation (oauth/key_rotation.py): a new key is in the JWKS this long before it signs, so that
    # clients caching the JWKS (ours says max-age=300; client libraries keep it 5 to 10 minutes, some an hour) know
    # it before its first token.
    "SIGNING_KEY_PUBLISH_AHEAD_SECONDS": 3600,
}


class UbiSettings:
    """``ubi_settings.NAME``: the project's setting, from ``settings.UBI`` or ``DEFAULTS``.

    As DRF's ``api_settings`` does, a value read once becomes a plain attribute, so that hot paths (every tracked
    event, every call's rate limit) pay an attribute lookup, not ``__getattr__``; ``reload`` forgets them.
    """

    def __init__(self, user_settings=None):
        self._user_settings = user_settings
        self._cached = set()

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
        value = self.user_settings.get(name, DEFAULTS[name])
        setattr(self, name, value)
        self._cached.add(name)
        return value

    def reload(self):
        for name in self._cached:
            delattr(self, name)
        self._cached.clear()
        self._user_settings = None


ubi_settings = UbiSettings()


def _reload(*, setting, **kwargs):
    if setting == "UBI":
        ubi_settings.reload()


setting_changed.connect(_reload)
