"""gunicorn settings for serving HTTP, from the environment (docs/operations.md).

Threads let one worker overlap database round trips; processes (two per core by default) use every core.
"""

import multiprocessing
import os
import signal

from project.paths import VAR_DIR

bind = os.environ.get("HTTP_ADDRESS", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
keepalive = 5
# SIGTERM: stop accepting, let in-flight requests finish for this long.
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "20"))
timeout = 60
accesslog = os.environ.get("ACCESS_LOG") or None
errorlog = "-"
# gunicornc's control socket, one per deployment beside its data. gunicorn's default is one path per user's home,
# which every gunicorn of that user shares: the last one started takes it over, and the first one stopped removes it.
control_socket = str(VAR_DIR / "gunicorn.ctl")
# gunicorn's own records (start, workers booted and lost) in the format of the application's (settings.LOG_FORMAT),
# through gunicorn's logger, so that its access lines stay ACCESS_LOG's: a logging configuration (logconfig_dict)
# would turn them on for every request, each a second line with the query string in it.
if os.environ.get("LOG_FORMAT", "json") == "json":
    logger_class = "observability.gunicorn_logs.JsonLogger"


# --- Health and tracing (docs/operations.md, "Health", "Tracing") -------------------------------------------------
def post_fork(server, worker):
    # In the worker, before it loads the application: tracing, when the OTEL_* variables ask for it, instruments
    # Django's middleware as it is loaded.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    from runtime.tracing import configure_tracing

    configure_tracing()


def post_worker_init(worker):
    # The application is loaded in each worker (no preload): settle it there, before its first request.
    from runtime.health import drain_on
    from runtime.warmup import settle

    settle()
    # SIGTERM (the master's, passing on a stop) makes /readyz answer 503 for whatever the worker still serves while
    # it drains, then stops the worker as gunicorn does. gunicorn has no hook for it: worker_int is SIGINT/SIGQUIT's.
    drain_on(signal.SIGTERM)


def child_exit(server, worker):
    # Its counts stay in PROMETHEUS_MULTIPROC_DIR (observability/metrics.py); its live values go. In the arbiter,
    # which has not loaded Django.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
