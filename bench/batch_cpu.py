"""Where the CPU of a batch of events goes: Django's side and PostgreSQL's, per event, in one process.

    .venv/bin/python bench/batch_cpu.py [--batches 30] [--size 1000] \\
        [--admin-database-url postgres://postgres@127.0.0.1:5432/postgres]

It migrates a scratch database (dropped at the end) and posts batches of ``--size`` events through Django's full
request handling (Django's test client: every middleware, DRF, the bearer check, validation, the ``COPY``), with
the rate limits off, and reads two clocks around them: this thread's CPU time (``time.thread_time``: parsing,
validation, rows; no network, no HTTP server) and the CPU time of the PostgreSQL backend that serves it (from
``/proc``, so the database must run on this machine). Then, as `bench/run.py`'s reference does, it copies the same
rows (``COPY``, 1000 a transaction) into a table with only what idempotency needs and reads that backend's CPU.

`bench/run.py`'s batches run on the same cores as PostgreSQL, so a batch's rate can reach at most about
cores / (Django's µs + PostgreSQL's µs) events a second, against the reference's rate of about one core's worth of
``COPY``: the last line says what ratio that allows on this machine's cores.
"""

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
from bench.postgres import ADMIN_DATABASE_URL, backend_cpu_seconds, scratch_database  # noqa: E402


def event(index: int) -> dict:
    """An event as a site sends it: a session for twenty events, 500 clients, 300 users."""
    return {
        "application": "bench-shop", "action_name": "click", "query_id": str(uuid.uuid4()),
        "session_id": f"s{index // 20}", "client_id": f"c{index // 20 % 500}", "user_id": f"u{index // 20 % 300}",
        "timestamp": "2026-12-02T10:15:30.123Z", "message_type": "CONVERSION",
        "event_attributes": {"object": {"object_id": f"SKU-{index}", "object_id_field": "sku"},
                             "position": {"ordinal": index % 24 + 1}},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--admin-database-url", default=ADMIN_DATABASE_URL)
    args = parser.parse_args()
    with scratch_database(args.admin_database_url, f"ubi_bench_batch_cpu_{os.getpid()}") as database_url:
        try:
            measure(database_url, args.batches, args.size)
        finally:
            from django.db import connections

            connections.close_all()


def measure(database_url: str, batches: int, size: int) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="ubi-batch-cpu-"))
    (scratch / "prometheus").mkdir()
    os.environ.update(
        VAR_DIR=str(scratch), DATABASE_URL=database_url, LOG_FORMAT="json", RATE_LIMIT_CLIENT="off",
        PROMETHEUS_MULTIPROC_DIR=str(scratch / "prometheus"), DJANGO_SETTINGS_MODULE="project.settings",
    )
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    import logging

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from accounts import services
    from accounts.models import Role
    from oauth.tokens import access_token_claims, sign

    call_command("migrate", verbosity=0)
    logging.root.handlers[0].setStream(open(scratch / "server.log", "w"))  # noqa: SIM115 (open for the run)
    Role.objects.get_or_create(name="insights:write")
    organization = services.organization_get_or_create(name="Bench")
    client = services.app_client_create(organization=organization, name="bench", roles=["insights:write"]).client
    token = sign(access_token_claims(client=client, user=None, scopes=["insights:write"], expires_in=3600))
    bodies = [json.dumps([event(number * size + i) for i in range(size)]) for number in range(batches + 2)]
    http = Client()

    def post(body: str) -> None:
        response = http.post("/api/v1/ubi/events", body, content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 201, response.content[:300]

    for body in bodies[:2]:  # warm-up: the connection, the statements, the caches
        post(body)
    backend = connection.connection.info.backend_pid
    # Totals over every batch: /proc counts a backend's CPU in ticks of 10 ms, a fair part of one batch's.
    thread, server = time.thread_time(), backend_cpu_seconds(backend)
    for body in bodies[2:]:
        post(body)
    events = batches * size
    django_us = (time.thread_time() - thread) / events * 1e6
    database_us = (backend_cpu_seconds(backend) - server) / events * 1e6
    reference_cpu = copy_reference(database_url)
    cores = os.cpu_count()
    print(f"{batches} batches of {size}, µs of CPU an event:")
    print(f"  Django (parse, authenticate, validate, rows, COPY's client side): {django_us:6.1f}")
    print(f"  PostgreSQL (COPY into the events table, its indexes and triggers): {database_us:6.1f}")
    print(f"  reference: PostgreSQL COPY into a table with only the idempotency indexes: {reference_cpu:6.1f}")
    print(f"  at most {cores / (django_us + database_us) * reference_cpu:.2f} of the reference's rate on {cores} cores "
          f"(cores / (Django + PostgreSQL) against one core's worth of COPY)")


def copy_reference(database_url: str) -> float:
    """Backend CPU µs a row of ``COPY`` of the stored events into a table with the primary key and the
    ``(organization_id, event_id)`` uniqueness, 1000 rows a transaction (as `bench/run.py`'s reference)."""
    with psycopg.connect(database_url) as conn:
        buffer = bytearray()
        with conn.cursor().copy("COPY (SELECT * FROM insights_event) TO STDOUT") as copy:
            for data in copy:
                buffer += data
        lines = bytes(buffer).splitlines(keepends=True)
        conn.execute("CREATE TABLE bench_copy (LIKE insights_event INCLUDING DEFAULTS)")
        conn.execute("ALTER TABLE bench_copy ADD PRIMARY KEY (id), ADD UNIQUE (organization_id, event_id)")
        conn.commit()
        pid = conn.info.backend_pid
        started = backend_cpu_seconds(pid)
        for start in range(0, len(lines), 1000):
            with conn.cursor().copy("COPY bench_copy FROM STDIN") as copy:
                copy.write(b"".join(lines[start:start + 1000]))
            conn.commit()
        return (backend_cpu_seconds(pid) - started) / len(lines) * 1e6


if __name__ == "__main__":
    main()
