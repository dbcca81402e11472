"""Django settings: the one place that reads the environment (with ``project/paths.py``, shared with gunicorn).

Every knob has a default that runs on a fresh machine with nothing else installed (SQLite, in-process cache,
keys generated into ``var/``). Production sets ``UBI_ENV=production``, ``DATABASE_URL``, ``REDIS_URL`` and what
``PRODUCTION_REQUIRES`` lists, without which it does not start. The project's own knobs and their defaults live in
``project/conf.py``.
"""

import os

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from project.paths import BASE_DIR, VAR_DIR
from project.secrets import persistent_file, persistent_secret, rsa_private_key_pem


def _bool(value):
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_bool(name, default=False):
    return _bool(os.environ.get(name, str(default)))


def _env_list(name, default):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Production is told apart from the demo and development by UBI_ENV=production alone: it then generates no key and
# assumes no host, and the start stops on what is missing (the "Production" block at the end).
UBI_ENV = os.environ.get("UBI_ENV", "development").strip().lower()
PRODUCTION = UBI_ENV == "production"
DEBUG = _env_bool("DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY") or ("" if PRODUCTION else persistent_secret(VAR_DIR / "secret_key"))
# Rotating SECRET_KEY: the previous keys, comma-separated, still verify sessions, password-reset links and signed
# values, and still decrypt the stored secrets until `manage.py reencrypt_secrets` (docs/operations.md, "Key rotation").
SECRET_KEY_FALLBACKS = _env_list("SECRET_KEY_FALLBACKS", "")
ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "oauth2_provider",
    "observability",
    "accounts",
    "oauth",
    "insights",
    "analytics",
    "lifecycle",
    "rest_api",
    "grpc_api",
    "collector",
]

MIDDLEWARE = [
    # First, so that it sees each response last and frees the request's objects without the cyclic collector.
    "runtime.request_cycles.RequestCyclesMiddleware",
    # /healthz and /readyz, answered before anything else runs (rest_api/probes.py says why).
    "rest_api.probes.ProbeMiddleware",
    # Next, so that it times everything else and sees every response, errors included (observability/middleware.py).
    "observability.middleware.ObservabilityMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files are served by the project itself so that one process is a complete deployment.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "600")),
        # Off by default: a health check is a SELECT 1 before each request's first query, a round trip per single
        # event (its cost: docs/performance.md). A connection the database dropped (a restart) then
        # fails the one request that finds it broken (503, as every request did while the database was away), and
        # Django closes it, so the next request reconnects.
        conn_health_checks=_env_bool("DB_CONN_HEALTH_CHECKS"),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the HTTP and gRPC processes read while the other writes; the timeout rides out short write locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not shared memory: the live test server's threads and the gRPC server then open their own
    # connections as in production. The process id keeps concurrent test runs apart.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Values sent apart from the statement, by psycopg's C adapters (not quoted into it in Python), and a statement
    # a connection has run five times prepared (PostgreSQL then skips parsing and planning it), which cuts the CPU
    # of a single event's INSERT, client and server together (docs/performance.md). Behind a pooler that cannot keep
    # prepared statements (PgBouncer in transaction mode before 1.21), DB_PREPARED_STATEMENTS=false.
    # Added to the options the URL may give (?sslmode=require), not in their place.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True,
        prepare_threshold=5 if _env_bool("DB_PREPARED_STATEMENTS", True) else None,
    )
if os.environ.get("TEST_DATABASE_NAME"):
    # Lets several test runs share one PostgreSQL server without dropping each other's test database.
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Caches -------------------------------------------------------------------------------------------------
# "default" is per process unless Redis is configured. "shared" holds what every server process must see at
# once (revoked tokens, rate-limit counters): Redis in production, a file cache on one machine without it.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # One connection pool per process, whatever the context of the call (runtime/cache.py says why).
    _redis = {"BACKEND": "runtime.cache.SharedPoolRedisCache", "LOCATION": REDIS_URL}
    CACHES = {
        "default": {**_redis, "KEY_PREFIX": "ubi"},
        "shared": {**_redis, "KEY_PREFIX": "ubi-shared"},
        "ratelimit": {**_redis, "KEY_PREFIX": "ubi-rate"},
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "shared-cache"),
        },
        # Rate-limit counters (oauth/throttling.py): without Redis, each process counts its own calls in memory.
        "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ratelimit"},
    }

# --- Authentication -----------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# The one sign-in page, for people and administrators alike (the admin's own login form redirects there), and where
# django-oauth-toolkit sends an authorization request with prompt=login.
LOGIN_URL = "oauth:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "accounts.hashers.ClientSecretHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- OAuth 2.0 (django-oauth-toolkit) -----------------------------------------------------------------------
# The iss of every token, of the metadata (RFC 8414) and of every authorization response (RFC 9207).
OAUTH_ISSUER = os.environ.get("OAUTH_ISSUER", "http://localhost:8000")
OAUTH2_PROVIDER_APPLICATION_MODEL = "accounts.AppClient"
OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 30 * 24 * 3600,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "PKCE_REQUIRED": True,
    "ACCESS_TOKEN_GENERATOR": "oauth.tokens.signed_access_token",
    # Without it oauthlib would make refresh tokens with the JWT generator too; they are opaque random strings.
    "REFRESH_TOKEN_GENERATOR": "oauthlib.oauth2.rfc6749.tokens.random_token_generator",
    "OAUTH2_SERVER_CLASS": "oauth.oauthlib_server.Server",
    "OAUTH2_VALIDATOR_CLASS": "oauth.validators.OAuth2Validator",
    "OAUTH2_BACKEND_CLASS": "oauth.backends.FormOrJSONOAuthLibCore",
    "SCOPES_BACKEND_CLASS": "oauth.scopes.RoleScopes",
    "CLIENT_SECRET_HASHER": "client_secret_sha256",
    # Only a digest of each token is kept at rest (RFC 9700 §4.14): a database dump grants nothing.
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    # An access token only in the Authorization header, at django-oauth-toolkit's endpoints (userinfo) as at the API's.
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    # RFC 9207: authorization responses name their issuer, so a client talking to several servers can tell which one
    # answered (mix-up attacks, RFC 9700 §4.4). django-oauth-toolkit adds it to the code's redirect, the authorization
    # endpoint (oauth.views.AuthorizeView) to the access_denied one; both from OIDC_ISS_ENDPOINT, our OAUTH_ISSUER.
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "OIDC_ISS_ENDPOINT": OAUTH_ISSUER,
    # OpenID Connect provider: clients given an ID-token algorithm (RS256) get ID tokens, so this deployment can be
    # an organisation's identity provider for another. Other clients are unaffected.
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": os.environ.get("OIDC_RSA_PRIVATE_KEY")
    or ("" if PRODUCTION else persistent_file(VAR_DIR / "oidc-rsa-key.pem", rsa_private_key_pem).decode()),
}

# Access tokens are JWTs signed with this key (PEM, EC P-256). Without one, development generates and keeps one.
JWT_PRIVATE_KEY = os.environ.get("JWT_PRIVATE_KEY", "")
JWT_PRIVATE_KEY_FILE = os.environ.get("JWT_PRIVATE_KEY_FILE", str(VAR_DIR / "jwt-signing-key.pem"))
OAUTH_AUDIENCE = os.environ.get("OAUTH_AUDIENCE", "ubi-api")

# --- REST framework -----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_api.authentication.BearerAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "rest_api.problems.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["rest_api.throttling.PrincipalRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "User Behavior Insights API",
    "DESCRIPTION": "Track and read UBI 1.3.0 queries and events. Errors are RFC 9457 problem details. The gRPC "
    "API's .proto files download from [/api/v1/protos/](/api/v1/protos/).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation that takes a bearer token documents its 401 problem details.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "rest_api.openapi.document_unauthenticated",
    ],
    # The reference page keeps a pasted token across reloads.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "persistAuthorization": True},
}

# --- Internationalisation, static files ---------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = os.environ.get("STATIC_ROOT") or None  # only for an optional collectstatic
# Serve straight from the apps' static folders: no collectstatic step, and DEBUG off still serves them.
WHITENOISE_USE_FINDERS = True

# --- Security -----------------------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# A signed-in session (the admin, the consent screen) lasts a working day, not Django's two weeks.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
SESSION_COOKIE_HTTPONLY = True
# Sent on a top-level GET from another site (an identity provider's redirect back), never with its posts or frames.
SESSION_COOKIE_SAMESITE = "Lax"
# Production, behind a TLS proxy that sets X-Forwarded-Proto: cookies only over HTTPS, and browsers told to use nothing
# else (HSTS, HSTS_SECONDS, 0 for none). Without it (start.sh on http://127.0.0.1:8000) a browser would drop a Secure
# cookie, so the demo could not sign in. Redirecting plain HTTP to HTTPS is the proxy's job (check --deploy's W008).
if _env_bool("SECURE_COOKIES"):
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True

# --- Logs and metrics (observability/, docs/operations.md "Logs" and "Metrics") ---------------------------------
# json: one JSON object a line, for a log pipeline; text: for a person reading a terminal (scripts/start.sh's demo).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"call": {"()": "observability.logs.CallFilter"}},
    "formatters": {
        "json": {"()": "observability.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {"console": {"class": "observability.logs.LineHandler", "formatter": LOG_FORMAT, "filters": ["call"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}
# Where every server process keeps its metrics for /metrics to sum (scripts/serve.sh sets it); empty, each process
# shows its own. prometheus-client reads the variable itself, before any metric exists.
PROMETHEUS_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


# --- Tracing (runtime/tracing.py) ---------------------------------------------------------------------------
# OpenTelemetry, by its standard variables: off unless OTEL_TRACES_EXPORTER names exporters, an OTLP endpoint is
# given, or OTEL_SDK_DISABLED says false outright; OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none keep it off.
# The exporters the spans go to (OTEL_TRACES_EXPORTER, comma-separated; OTLP when only an endpoint is given).
_otel_exporters = _env_list("OTEL_TRACES_EXPORTER", "")
_otel_asked = bool(
    _otel_exporters
    or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    or os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "false"
)
TRACING_EXPORTERS = (
    [name for name in (_otel_exporters or ["otlp"]) if name != "none"]
    if _otel_asked and not _env_bool("OTEL_SDK_DISABLED")
    else []
)

# --- The project's own knobs (see project/conf.py for the defaults) ------------------------------------------
def _rate(value):
    """A rate limit: ``N/s``, ``N/min`` or ``N/h``; ``off`` turns it off (``None``)."""
    return None if value.strip().lower() == "off" else value


# Each knob that may come from the environment, and how its text becomes the setting; unset ones keep the default.
_UBI_FROM_ENVIRONMENT = {
    "GRPC_ADDRESS": str,
    "GRPC_THREADS": int,
    "GRPC_MAX_STREAMS_PER_PRINCIPAL": lambda value: None if value.strip().lower() == "off" else int(value),
    "GRPC_DRAIN_SECONDS": float,
    "HEALTH_CHECK_INTERVAL_SECONDS": float,
    "RATE_LIMIT_CLIENT": _rate,
    "RATE_LIMIT_USER": _rate,
    "TOKEN_RATE_LIMIT_PER_CLIENT": _rate,
    "TOKEN_RATE_LIMIT_PER_ADDRESS": _rate,
    "LOGIN_RATE_LIMIT_PER_ADDRESS": _rate,
    "COLLECTOR_RATE_LIMIT_PER_KEY": _rate,
    "COLLECTOR_RATE_LIMIT_PER_ADDRESS": _rate,
    "COLLECTOR_BASE_URL": str,
    "TRUSTED_PROXY_COUNT": int,
    "MAINTENANCE_MODE": _bool,
    "SSO_ALLOW_PRIVATE_NETWORKS": _bool,
    "METRICS_ALLOWED_NETWORKS": lambda value: [item.strip() for item in value.split(",") if item.strip()],
    "METRICS_BEARER_TOKEN": str,
    "SIGNING_KEY_PUBLISH_AHEAD_SECONDS": int,
}
UBI = {name: parse(os.environ[name]) for name, parse in _UBI_FROM_ENVIRONMENT.items() if name in os.environ}


# --- Production (docs/operations.md, "Production") ---------------------------------------------------------------
# What every machine of a production deployment must be given, never made up on one: the variable, and what to set.
PRODUCTION_REQUIRES = {
    "SECRET_KEY": "a random string of 50 characters or more, the same on every machine "
    "(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')",
    "JWT_PRIVATE_KEY": "the PEM of the EC P-256 key that signs access tokens, or JWT_PRIVATE_KEY_FILE naming a file "
    "that holds it (openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256)",
    "OIDC_RSA_PRIVATE_KEY": "the PEM of the RSA key that signs ID tokens (openssl genpkey -algorithm RSA "
    "-pkeyopt rsa_keygen_bits:2048)",
    "ALLOWED_HOSTS": "the host names the servers answer to, comma-separated (ubi.example.com)",
    "OAUTH_ISSUER": "the public origin of the servers, the iss of every token (https://ubi.example.com)",
}


def _production_missing() -> list[str]:
    given = {name: bool(os.environ.get(name, "").strip()) for name in PRODUCTION_REQUIRES}
    given["JWT_PRIVATE_KEY"] |= bool(os.environ.get("JWT_PRIVATE_KEY_FILE")) and os.path.isfile(JWT_PRIVATE_KEY_FILE)
    return [name for name, is_given in given.items() if not is_given]


if UBI_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"UBI_ENV is {UBI_ENV!r}: set it to production, or development (the default).")
if PRODUCTION and (_missing := _production_missing()):
    raise ImproperlyConfigured(
        "UBI_ENV=production, and the start stops for want of "
        + "; ".join(f"{name}: set it to {PRODUCTION_REQUIRES[name]}" for name in _missing)
        + ". See docs/operations.md, Production."
    )
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("UBI_ENV=production with DEBUG on: unset DEBUG (debug pages show settings and code).")
# Of manage.py check --deploy's warnings, four are by design (docs/operations.md, "Production"): redirecting plain HTTP
# to HTTPS is the TLS proxy's job (security.W008); HSTS preloading is a commitment only the owner of the domain can
# make (security.W021); the password grant is refused unless a client is given it, for scripts and service accounts
# (oauth2_provider.W002); http:// redirect URIs are accepted only for this machine, a native app's loopback callback
# (RFC 8252; oauth2_provider.W008).
SILENCED_SYSTEM_CHECKS = ["security.W008", "security.W021", "oauth2_provider.W002", "oauth2_provider.W008"]
