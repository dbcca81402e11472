"""Settings of the deployment that ``bench/run.py --observability-cost`` measures against: the project's, without
``observability.middleware`` (no request id, no HTTP metrics, no access line per request)."""

from project.settings import *  # noqa: F403

MIDDLEWARE = [name for name in MIDDLEWARE if name != "observability.middleware.ObservabilityMiddleware"]  # noqa: F405
