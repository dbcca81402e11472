"""The CPU a single REST event costs in Django, with and without ``observability.middleware``, in one process.

    .venv/bin/python bench/observability_cpu.py [--requests 2000] [--blocks 10]

``bench/run.py --observability-cost`` measures the rate of two whole deployments; on a machine whose other load
moves a rate by more than the few per cent it looks for, this gives the steadier figure: the CPU time of this
process's own thread (``time.thread_time``) per ``POST /api/v1/ubi/events``, through Django's full request handling
(all the middleware, DRF, the bearer check, the service, one ``INSERT`` on a scratch SQLite database), in blocks
alternating between the two middleware lists, with metrics in multiprocess mode and the JSON access line written to
a file, as a server does; it prints the median block and the least (the machine's other load only adds to a
block's time). The database's and the network's share of a request is left out, so the share found is
an upper bound of the share in a deployment.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests of each block")
    parser.add_argument("--blocks", type=int, default=10, help="blocks of each kind, alternating")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="ubi-observability-"))
    (scratch / "prometheus").mkdir()
    os.environ.update(
        VAR_DIR=str(scratch), DATABASE_URL=f"sqlite:///{scratch / 'db.sqlite3'}", LOG_FORMAT="json",
        PROMETHEUS_MULTIPROC_DIR=str(scratch / "prometheus"), DJANGO_SETTINGS_MODULE="project.settings",
    )
    for name in ("RATE_LIMIT_CLIENT", "RATE_LIMIT_USER"):
        os.environ[name] = "off"
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(PROJECT))
    import django

    django.setup()
    import logging

    from django.core.management import call_command
    from django.test import Client, override_settings

    from accounts import services
    from accounts.models import Role
    from oauth.tokens import access_token_claims, sign

    call_command("migrate", verbosity=0)
    logging.root.handlers[0].setStream(open(scratch / "server.log", "w"))  # noqa: SIM115 (open for the run)
    for role in ("insights:read", "insights:write"):
        Role.objects.get_or_create(name=role)
    organization = services.organization_get_or_create(name="Bench")
    client = services.app_client_create(organization=organization, name="bench", roles=["insights:write"]).client
    token = sign(access_token_claims(client=client, user=None, scopes=["insights:write"], expires_in=3600))
    event = json.dumps({"application": "bench", "action_name": "click", "query_id": "q", "client_id": "c",
                        "timestamp": "2026-12-06T10:00:00Z", "message_type": "CLICK"})
    from django.conf import settings

    without = [name for name in settings.MIDDLEWARE if name != "observability.middleware.ObservabilityMiddleware"]
    clients = {"on": Client(), "off": Client()}
    with override_settings(MIDDLEWARE=without):
        clients["off"].get("/.well-known/jwks.json")  # loads this client's middleware chain under these settings
    clients["on"].get("/.well-known/jwks.json")

    def block(label: str) -> float:
        http = clients[label]
        started = time.thread_time()
        for _ in range(args.requests):
            response = http.post("/api/v1/ubi/events", event, content_type="application/json",
                                 HTTP_AUTHORIZATION=f"Bearer {token}")
            assert response.status_code == 201, response.content
        return (time.thread_time() - started) / args.requests * 1e6

    block("on"), block("off")  # warm-up
    results = {"on": [], "off": []}
    for number in range(args.blocks):
        for label in ("on", "off") if number % 2 == 0 else ("off", "on"):
            results[label].append(block(label))
    # The least of the blocks as well as their median: the machine's other load only ever adds to a block's time.
    for name, pick in (("median", lambda values: sorted(values)[len(values) // 2]), ("least", min)):
        on, off = pick(results["on"]), pick(results["off"])
        print(f"{name:<6} off {off:6.0f} µs, on {on:6.0f} µs of CPU a request: cost {on - off:.0f} µs, {on / off - 1:.1%}")


if __name__ == "__main__":
    main()
