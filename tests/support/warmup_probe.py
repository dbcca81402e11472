"""What a server process has readied before its first request: run inside that process (a gunicorn worker, or a
fresh Python process), it reports on every view of the URL configuration."""

import gc
import json
import sys
from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver, resolve

# Modules of Django itself are not the project's views.
NOT_THE_PROJECTS = ("django.",)
# Paths whose views are imported by nothing but the URL configuration (the admin's modules, by contrast, are
# imported by django.setup()'s autodiscovery).
SERVED_PATHS = ("/api/v1/ubi/events", "/api/v1/me", "/oauth2/token", "/v2/oauth/login")


def view_callbacks(patterns) -> list:
    callbacks = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            callbacks.extend(view_callbacks(pattern.url_patterns))
        elif isinstance(pattern, URLPattern):
            callbacks.append(pattern.callback)
    return callbacks


def report(imported_before: set[str]) -> dict:
    """The project's view modules, those of them already imported when ``imported_before`` was taken, the modules
    of the views of ``SERVED_PATHS``, and the views the cyclic collector still tracks (not frozen by ``gc.freeze``)."""
    callbacks = view_callbacks(get_resolver().url_patterns)  # imports nothing once the process has settled
    tracked = {id(thing) for thing in gc.get_objects()}  # the frozen heap is left out
    modules = {callback.__module__ for callback in callbacks if not callback.__module__.startswith(NOT_THE_PROJECTS)}
    return {
        "view_modules": sorted(modules),
        "imported_before": sorted(modules & imported_before),
        "imported_now": sorted(module for module in modules if module in sys.modules),
        "served_by": sorted({resolve(path).func.__module__ for path in SERVED_PATHS}),
        "views": len(callbacks),
        "not_frozen": sorted(f"{c.__module__}.{c.__qualname__}" for c in callbacks if id(c) in tracked),
    }


def write_report(path: Path, imported_before: set[str]) -> None:
    """Written whole or not at all: a reader that sees ``path`` sees the report."""
    written = path.with_suffix(".partial")
    written.write_text(json.dumps(report(imported_before)))
    written.rename(path)
