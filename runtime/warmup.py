"""Ready a server process for traffic once Django is loaded: import the views, then freeze the heap.

Django imports the URL configuration and every view on the first request it resolves; doing it here keeps that
off a caller's request. ``gc.freeze`` then moves every object alive at that point (modules, classes, settings:
objects that live as long as the process) out of the cyclic collector's sight, so a full collection walks only
what requests leave behind, not all of them, which would stop the process long enough to show in a single event's
p99 latency (docs/performance.md has the figures).
"""

import gc

from django.urls import get_resolver


def settle() -> None:
    """Import the URL configuration and views, then freeze what exists. Call once per process, before serving."""
    get_resolver().url_patterns  # reading the property imports the URL configuration and the views
    gc.freeze()
