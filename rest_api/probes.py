"""``GET /healthz`` and ``GET /readyz``: the HTTP probes of a supervisor (Kubernetes, a load balancer, compose).

- ``/healthz``: the process is alive and answers; nothing else is asked (no database), so a database outage never
  gets the servers restarted. 200 ``{"status": "alive"}``.
- ``/readyz``: ready for work (``runtime.health``: database, caches, migrations, not draining). 200
  ``{"status": "ready"}``, else 503 problem details whose ``checks`` member names each failing check and why.

A middleware, not a view, and second in ``MIDDLEWARE``: a probe is answered before anything else runs, so it costs no
session, no CSRF, no authentication and no rate limit, and it is answered whatever its ``Host`` header (a kubelet
probes the pod's address, which ``ALLOWED_HOSTS`` does not list; nothing of the answer depends on the host).
"""

import orjson
from django.http import HttpResponse

from project.conf import ubi_settings
from rest_api.problems import problem_response
from runtime.health import failing_checks

HEALTHZ, READYZ = "/healthz", "/readyz"
PROBE_METHODS = ("GET", "HEAD")


class ProbeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in PROBE_METHODS:
            return self.get_response(request)
        if request.path == HEALTHZ:
            return _json({"status": "alive"})
        if request.path == READYZ:
            return readiness(request)
        return self.get_response(request)


def readiness(request) -> HttpResponse:
    failures = failing_checks()
    if not failures:
        return _json({"status": "ready"})
    return problem_response(
        request,
        503,
        title="Not ready.",
        detail=f"Failing: {', '.join(failures)}.",
        headers={
            "Retry-After": str(ubi_settings.DATABASE_UNAVAILABLE_RETRY_AFTER_SECONDS),
            "Cache-Control": "no-store",
        },
        extensions={"checks": failures},
    )


def _json(body: dict) -> HttpResponse:
    response = HttpResponse(orjson.dumps(body), content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response
