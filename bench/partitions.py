"""Partitions benchmark: the event list's filters over millions of events, and retention by dropping a month's
partition against deleting its rows, on the plain tables (insights 0003, nine indexes) and on the monthly
partitions (insights 0004).

    .venv/bin/python bench/partitions.py [--events 1000000] [--months 6] [--repeats 5] \\
        [--out bench/results/partitions.json]

For each layout, a scratch database is migrated and filled by SQL (``generate_series``: ``--events`` events over
``--months`` months up to now, one organisation, three applications, five actions of which one in a hundred a
purchase, a query for five events, a session for twenty, a client for a hundred, a user for four hundred), then
vacuumed and analysed. Then:
- **lists**: ``insights.selectors.event_list`` in process, first page of 50, for no filter and each filter alone
  (a value of the middle of its range), and a one-day time range: the median of ``--repeats`` calls, in ms. Each
  call is two queries, the page's rows and the count of every matching row (page numbers need the count).
- **retention**: the oldest month's events removed by ``DELETE`` (both layouts), then, partitioned, the next
  month's by ``insights.partitions.drop_expired``: the time, and the events table's size
  (``pg_total_relation_size`` of the table, its partitions and the identifiers table) and dead tuples after.
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

PROJECT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
UNPARTITIONED_MIGRATION = "0003_query_plural"
CHUNK = 500_000
FILTERS = (
    ("no filter", {}),
    ("application", {"application": "docs"}),
    ("action_name (1%)", {"action_name": "purchase"}),
    ("query_id", {"query_id": "q{middle_query}"}),
    ("session_id", {"session_id": "s{middle_session}"}),
    ("client_id", {"client_id": "c{middle_client}"}),
    ("user_id", {"user_id": "u{middle_user}"}),
    ("one day (from, to)", {"from": "{day_from}", "to": "{day_to}"}),
)

EVENTS_SQL = """
INSERT INTO insights_event (organization_id, timestamp, extra, fingerprint, event_id, application, action_name,
                            query_id, session_id, client_id, user_id)
SELECT %(org)s, %(start)s + i * %(step)s * interval '1 microsecond', '{}', md5(i::text), 'e' || i,
       (ARRAY['shop', 'docs', 'app'])[1 + i %% 3],
       CASE WHEN i %% 100 = 0 THEN 'purchase'
            ELSE (ARRAY['click', 'impression', 'hover', 'add_to_cart'])[1 + i %% 4] END,
       'q' || (i / 5), 's' || (i / 20), 'c' || (hashtext(i::text) & 2147483647) %% %(clients)s,
       'u' || (hashtext('u' || i) & 2147483647) %% %(users)s
FROM generate_series(%(low)s::bigint, %(high)s::bigint) i
"""
SIZE_SQL = """
SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0), coalesce(sum(s.n_dead_tup), 0)
FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE c.relname = 'insights_event' OR c.relname LIKE 'insights\\_event\\_p%%' OR c.relname = 'insights_event_default'
   OR c.relname = 'insights_event_identifier'
"""


def manage(env, *args) -> str:
    return subprocess.run([PYTHON, "manage.py", *args], cwd=PROJECT, env=env, check=True, capture_output=True,
                          text=True).stdout


def measure_layout(admin_url: str, layout: str, events: int, months: int, repeats: int) -> dict:
    database = f"ubi_bench_partitions_{os.getpid()}_{layout}"
    database_url = admin_url.rsplit("/", 1)[0] + "/" + database
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "project.settings"}
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    try:
        manage(env, "migrate", "-v0")
        if layout == "plain":
            manage(env, "migrate", "insights", UNPARTITIONED_MIGRATION, "-v0")
        manage(env, "create_app_client", "--org", "Bench", "--name", "bench", "--roles", "insights:read", "--json")
        now = datetime.datetime.now(datetime.UTC)
        start = datetime.datetime(now.year, now.month, 1, tzinfo=datetime.UTC)
        for _ in range(months - 1):
            start = (start - datetime.timedelta(days=1)).replace(day=1)
        step = int((now - start).total_seconds() * 1e6 / events)
        with psycopg.connect(database_url, autocommit=True) as conn:
            org = conn.execute("SELECT id FROM accounts_organization WHERE name = 'Bench'").fetchone()[0]
            if layout == "partitioned":
                # The months of the data, as a deployment running ensure_partitions monthly would have them.
                run_django(env, "ensure_months", start.isoformat(), str(months))
            filled = time.perf_counter()
            for low in range(0, events, CHUNK):
                conn.execute(EVENTS_SQL, {"org": org, "start": start, "step": step, "low": low,
                                          "high": min(low + CHUNK, events) - 1, "clients": max(events // 100, 1),
                                          "users": max(events // 400, 1)})
                print(f"  {layout}: {min(low + CHUNK, events):,} events", file=sys.stderr, flush=True)
            fill_seconds = time.perf_counter() - filled
            conn.execute("VACUUM ANALYZE insights_event")
            if layout == "partitioned":
                conn.execute("VACUUM ANALYZE insights_event_identifier")
        middle = datetime.datetime.fromtimestamp((start.timestamp() + now.timestamp()) / 2, datetime.UTC)
        values = {
            "middle_query": events // 10, "middle_session": events // 40, "middle_client": events // 200,
            "middle_user": events // 800, "day_from": middle.isoformat(),
            "day_to": (middle + datetime.timedelta(days=1)).isoformat(),
        }
        lists = json.loads(run_django(env, "lists", str(org), str(repeats), json.dumps(values)))
        retention = json.loads(run_django(env, "retention", start.isoformat(), layout))
        return {"layout": layout, "events": events, "months": months, "fill_seconds": round(fill_seconds, 1),
                "lists_ms": lists, "retention": retention}
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def run_django(env, *args) -> str:
    """This file's ``django`` part in a process of its own, on the scratch database ``env`` names."""
    return subprocess.run([PYTHON, __file__, "--django", *args], cwd=PROJECT, env=env, check=True,
                          capture_output=True, text=True).stdout


def django_part(action: str, *args) -> None:
    sys.path.insert(0, str(PROJECT))
    import django

    django.setup()
    from django.db import connection

    from insights import partitions

    if action == "ensure_months":
        start, months = datetime.datetime.fromisoformat(args[0]), int(args[1])
        partitions.ensure_partitions(months_ahead=months + 1, now=start)
    elif action == "lists":
        from insights import selectors
        from oauth.principals import Principal

        org, repeats, values = args[0], int(args[1]), json.loads(args[2])
        principal = Principal(kind="command", id="bench", org_id=org, roles=frozenset({selectors.READ_ROLE}),
                              scope=selectors.READ_ROLE, client_id="bench", token_id="")
        timings = {}
        for name, filters in FILTERS:
            filters = {key: value.format(**values) for key, value in filters.items()}
            seconds = []
            for _ in range(repeats):
                started = time.perf_counter()
                page = selectors.event_list(principal, filters=filters, page=1, page_size=50)
                seconds.append(time.perf_counter() - started)
            timings[name] = {"ms": round(statistics.median(seconds) * 1000, 1), "matching": page.total_items}
        print(json.dumps(timings))
    elif action == "retention":
        start, layout = datetime.datetime.fromisoformat(args[0]), args[1]
        first_end = partitions.month_start(start, 1)
        second_end = partitions.month_start(start, 2)
        figures = {}

        def size():
            with connection.cursor() as cursor:
                cursor.execute(SIZE_SQL)
                total, dead = cursor.fetchone()
            return {"bytes": int(total), "dead_tuples": int(dead)}

        def measure(name, remove):
            before = size()
            started = time.perf_counter()
            removed = remove()
            seconds = time.perf_counter() - started
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_stat_force_next_flush()")
            figures[name] = {"seconds": round(seconds, 2), "removed": removed, "before": before, "after": size()}

        def delete_rows():
            with connection.cursor() as cursor:
                cursor.execute('DELETE FROM insights_event WHERE "timestamp" < %s', [first_end])
                return cursor.rowcount

        measure("DELETE the oldest month's rows", delete_rows)
        if layout == "partitioned":
            measure("drop_expired: the next month's partition", lambda: partitions.drop_expired(second_end))
        print(json.dumps(figures, default=str))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--layouts", default="plain,partitioned")
    parser.add_argument("--admin-database-url", default=os.environ.get(
        "BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--out", type=Path, default=PROJECT / "bench" / "results" / "partitions.json")
    args = parser.parse_args()
    results = [measure_layout(args.admin_database_url, layout, args.events, args.months, args.repeats)
               for layout in args.layouts.split(",")]
    print(f"{args.events:,} events over {args.months} months; median of {args.repeats} calls, first page of 50")
    names = [name for name, _filters in FILTERS]
    print(f"{'event list filter':<22}" + "".join(f"{r['layout']:>14}" for r in results) + f"{'matching':>12}")
    for name in names:
        print(f"{name:<22}" + "".join(f"{r['lists_ms'][name]['ms']:>11.1f} ms" for r in results)
              + f"{results[0]['lists_ms'][name]['matching']:>12,}")
    for r in results:
        print(f"\n{r['layout']}: filled in {r['fill_seconds']} s")
        for name, figure in r["retention"].items():
            print(f"  {name}: {figure['seconds']} s, removed {figure['removed']}; size {figure['before']['bytes']:,}"
                  f" -> {figure['after']['bytes']:,} bytes, dead tuples {figure['after']['dead_tuples']:,}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str))
    print(f"written to {args.out}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--django":
        django_part(*sys.argv[2:])
    else:
        main()
