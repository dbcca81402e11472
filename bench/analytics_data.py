"""Analytics benchmark data: PostgreSQL ``COPY`` of many UBI queries and events for one organisation, then the
metrics timed on them (docs/analytics.md, "Performance").

    DATABASE_URL=postgres://... .venv/bin/python bench/analytics_data.py --org bench --queries 100000 [--time]

Each query has ten hit ids and a timestamp spread over the last ``--days`` days; half of the queries also log
impression events for their ten results (the others leave their hit ids as the impressions); clicks fall on ranks
under a position bias (examination 1/rank) times a per-result attractiveness; queries without impression events
get eight events of another action, so each query has about ten events. Fast because it skips the ingestion
services: rows go straight to the tables, as ``insights.bulk`` would write them. Not for SQLite.
"""

import argparse
import json
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django.setup()

from django.db import connection  # noqa: E402
from tqdm import tqdm  # noqa: E402

from accounts import services  # noqa: E402
from insights.models import Event, Query  # noqa: E402

QUERY_COLUMNS = ("organization_id", "timestamp", "extra", "fingerprint", "query_id", "application", "user_query",
                 "query_response_hit_ids")
EVENT_COLUMNS = ("organization_id", "timestamp", "extra", "fingerprint", "event_id", "application", "action_name",
                 "query_id", "session_id", "event_attributes")
HITS = 10
VOCABULARY = 5000  # distinct user queries
FILLER_EVENTS = 8
CHUNK = 5000  # queries written per COPY


def generate(organization_id, *, queries: int, days: int, seed: int) -> None:
    randomness = random.Random(seed)
    end = datetime.now(UTC).replace(microsecond=0)
    with tqdm(total=queries, unit="query", file=sys.stderr) as progress:
        for first in range(0, queries, CHUNK):
            count = min(CHUNK, queries - first)
            query_rows, event_rows = [], []
            for number in range(first, first + count):
                when = end - timedelta(seconds=randomness.randrange(days * 86400))
                term = int(randomness.paretovariate(1.2)) % VOCABULARY
                query_id = f"q{number}-{uuid.uuid4().hex[:8]}"
                hit_ids = [f"doc{(term * 7 + rank) % 50000}" for rank in range(HITS)]
                query_rows.append(
                    (organization_id, when, "{}", "-", query_id, "shop", f"query {term}", json.dumps(hit_ids))
                )
                event_rows += _events(randomness, organization_id, query_id, hit_ids, when)
            # One COPY at a time: a connection in COPY can do nothing else.
            _copy(Query, QUERY_COLUMNS, query_rows)
            _copy(Event, EVENT_COLUMNS, event_rows)
            progress.update(count)


def _copy(model, columns, rows) -> None:
    with connection.cursor() as cursor:
        with cursor.connection.cursor().copy(
            f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)


def _events(randomness, organization_id, query_id, hit_ids, when):
    logs_impressions = randomness.random() < 0.5
    actions = []
    for rank, object_id in enumerate(hit_ids, 1):
        if logs_impressions:
            actions.append(("impression", rank, object_id))
        if randomness.random() < (1 / rank) * 0.3:
            actions.append(("click", rank, object_id))
    if not logs_impressions:
        actions += [("hover", 1, hit_ids[0])] * FILLER_EVENTS
    session = uuid.uuid4().hex
    for offset, (action, rank, object_id) in enumerate(actions, 1):
        attributes = {"object": {"object_id": object_id}, "position": {"ordinal": rank}}
        yield (organization_id, when + timedelta(seconds=offset), "{}", "-", uuid.uuid4().hex, "shop", action,
               query_id, session, json.dumps(attributes))


def timings(org, *, days: int) -> None:
    """Each metric's time for the last ``days`` days, as the REST views call them."""
    from analytics import metrics
    from oauth.principals import Principal

    principal = Principal("user", "bench", org.id, frozenset({"insights:read"}), "", "bench", "bench")
    start = (datetime.now(UTC) - timedelta(days=days)).isoformat()
    scope = {"from": start}
    metrics.summary(principal, filters={"from": datetime.now(UTC).isoformat()})  # connects, warms the catalog
    for name, call, filters in [
        ("summary", metrics.summary, scope),
        ("ctr_by_rank", metrics.ctr_by_rank, scope),
        ("query_table top", metrics.query_table, scope),
        ("query_table zero-click", metrics.query_table, {**scope, "kind": "zero-click"}),
        ("searches_over_time day", metrics.searches_over_time, scope),
    ]:
        began = time.perf_counter()
        call(principal, filters=filters)
        print(f"{name:28} {time.perf_counter() - began:6.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--org", required=True)
    parser.add_argument("--queries", type=int, default=0, help="queries to add (about ten events each)")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time", action="store_true", help="then time the metrics over --days days")
    arguments = parser.parse_args()
    if connection.vendor != "postgresql":
        parser.error("PostgreSQL only (COPY): set DATABASE_URL.")
    org = services.organization_get_or_create(name=arguments.org)
    if arguments.queries:
        generate(org.id, queries=arguments.queries, days=arguments.days, seed=arguments.seed)
        with connection.cursor() as cursor:
            # As autovacuum leaves an append-only table: statistics, and the visibility map index-only scans need.
            cursor.execute(f"VACUUM ANALYZE {Query._meta.db_table}")
            cursor.execute(f"VACUUM ANALYZE {Event._meta.db_table}")
    if arguments.time:
        timings(org, days=arguments.days)


if __name__ == "__main__":
    main()
