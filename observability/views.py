"""``GET /metrics``: every server process's metrics in Prometheus's text format, for the scrapers
``observability.access`` admits; anyone else gets the 403 problem details of Django's ``handler403``. A plain
Django view: the API's rate limits do not count it."""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse

from observability import metrics
from observability.access import may_scrape


def metrics_view(request):
    if not may_scrape(request):
        raise PermissionDenied
    return HttpResponse(metrics.exposition(), content_type=metrics.CONTENT_TYPE_LATEST)
