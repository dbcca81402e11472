"""Analytics benchmark: the dashboard's figures and the judgment lists over 1 and 10 million events on PostgreSQL,
as the production server answers them over HTTP. (How well each click model recovers a known relevance is
``bench/click_model_quality.py``'s.)

    .venv/bin/python bench/analytics.py [--events 1000000 10000000] [--repeats 3] [--out bench/results/analytics.json]

What it measures, in one run on one machine (server and database share the cores):
- **speed**: for each size, a scratch database filled by SQL (``generate_series``: 30 days of searches with ten hits
  each, impression events for three searches in five, position-biased clicks, other events); ``manage.py
  refresh_analytics`` building the rollups of that backlog (``analytics.rollups``); then, over HTTP against the
  production server (``scripts/serve.sh``), each analytics endpoint for the 30 days and the judgment lists of COEC,
  PBM and SDBN (each request refreshes the rollups first: nothing to do); then 1 % more searches and events, a
  ``summary`` request that counts them in the search facts and rank hours (a read that needs no pair counts leaves
  the pair days it touched to a later one), and ``refresh_analytics``, which rebuilds those pair days. Each figure
  is the median of ``--repeats`` requests (the refreshes and the read after 1 % more: one run), with its ratio to a
  reference measured in the same run: one ``count(*)`` over the same 30 days of events, the least a raw aggregation
  reads. The time the fill took is printed with each size.
- **memory**: the resident size of every gunicorn worker before and after, and its peak (``VmHWM``).
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg
import requests
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.run import Servers  # noqa: E402

PROJECT = Path(__file__).resolve().parents[1]
DAYS = 30
HITS = 10  # results per search
DISTINCT_QUERIES = 5_000
DOCUMENTS = 20_000
EVENTS_PER_SEARCH = 9.57  # what the generator below makes on average, to size the searches for a number of events
CHUNK = 50_000  # searches a statement
DASHBOARD = (
    ("summary", "analytics/summary", {}),
    ("ctr-by-rank", "analytics/ctr-by-rank", {}),
    ("top queries", "analytics/queries", {"kind": "top"}),
    ("zero-result queries", "analytics/queries", {"kind": "zero-result"}),
    ("zero-click queries", "analytics/queries", {"kind": "zero-click"}),
    ("searches over time", "analytics/searches-over-time", {"bucket": "day"}),
)
MODELS = ("coec", "pbm", "sdbn")

# One search a row: every 20th finds nothing; the others show ten of 20,000 documents, chosen by the query text.
QUERIES_SQL = """
INSERT INTO insights_query (organization_id, timestamp, extra, fingerprint, query_id, application, client_id,
                            user_query, object_id_field, query_response_hit_ids)
SELECT %(org)s, %(start)s + i * %(step)s * interval '1 microsecond', '{}', md5(i::text), 'q' || i, 'shop',
       'c' || (i %% 50000), 'query ' || (i %% %(distinct)s), 'sku',
       CASE WHEN i %% 20 = 0 THEN '[]'::jsonb ELSE (
         SELECT jsonb_agg('doc-' || ((i %% %(distinct)s) * 7 + k) %% %(documents)s ORDER BY k)
         FROM generate_series(1, %(hits)s::int) k) END
FROM generate_series(%(low)s::bigint, %(high)s::bigint) i
"""
# For each search and rank: an impression (three searches in five), a click with probability 0.6 / rank, a hover
# (the other two searches in five, with probability 0.6).
EVENTS_SQL = """
INSERT INTO insights_event (organization_id, timestamp, extra, fingerprint, event_id, application, action_name,
                            query_id, session_id, client_id, user_id, event_attributes)
SELECT %(org)s, %(start)s + (i * %(step)s + k * 1000000 + a) * interval '1 microsecond', '{}',
       md5(i || '-' || k || '-' || a), 'e' || i || '-' || k || '-' || a, 'shop',
       (ARRAY['impression', 'click', 'hover'])[a], 'q' || i, 's' || (i / 3), 'c' || (i %% 50000),
       'u' || (i %% 20000),
       jsonb_build_object('object', jsonb_build_object('object_id',
                          'doc-' || ((i %% %(distinct)s) * 7 + k) %% %(documents)s),
                          'position', jsonb_build_object('ordinal', k))
FROM generate_series(%(low)s::bigint, %(high)s::bigint) i, generate_series(1, %(hits)s::int) k, generate_series(1, 3) a
WHERE i %% 20 <> 0 AND CASE a WHEN 1 THEN i %% 5 < 3
                              WHEN 2 THEN random() < 0.6 / k
                              ELSE i %% 5 >= 3 AND random() < 0.6 END
"""


def fill(servers: Servers, events: int, *, more: float = 0.0, start=None) -> dict:
    """Searches and events for ``events`` events over the last 30 days, by SQL; returns what was made. With
    ``more``, that share again after them (the searches that follow, in the same steps of time from ``start``)."""
    searches = int(events / EVENTS_PER_SEARCH)
    first, last = (1, searches) if not more else (searches + 1, searches + int(searches * more))
    with psycopg.connect(servers.database_url) as conn:
        org = conn.execute("SELECT id FROM accounts_organization WHERE name = 'Bench'").fetchone()[0]
        conn.execute("SELECT setseed(0.42)")
        start = start or conn.execute(f"SELECT now() - interval '{DAYS} days'").fetchone()[0]
        params = {"org": org, "start": start, "step": DAYS * 86_400_000_000 // searches, "distinct": DISTINCT_QUERIES,
                  "documents": DOCUMENTS, "hits": HITS}
        with tqdm(total=last - first + 1, desc=f"filling {events:,} events", unit="search",
                  file=sys.stderr) as progress:
            for low in range(first, last + 1, CHUNK):
                high = min(low + CHUNK - 1, last)
                conn.execute(QUERIES_SQL, {**params, "low": low, "high": high})
                conn.execute(EVENTS_SQL, {**params, "low": low, "high": high})
                conn.commit()
                progress.update(high - low + 1)
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE insights_query")
        conn.execute("VACUUM ANALYZE insights_event")
        made = conn.execute("SELECT (SELECT count(*) FROM insights_query), (SELECT count(*) FROM insights_event)")
        stored_searches, stored_events = made.fetchone()
    return {"searches": stored_searches, "events": stored_events, "org": str(org), "start": start}


def reference_scan(servers: Servers, window: dict) -> float:
    """Seconds for one ``count(*)`` over the window's events: a raw aggregation reads at least that."""
    with psycopg.connect(servers.database_url) as conn:
        started = time.perf_counter()
        conn.execute("SELECT count(*) FROM insights_event WHERE organization_id = %s AND timestamp >= %s",
                     (window["org"], window["start"])).fetchone()
        return time.perf_counter() - started


def timed(call, repeats: int) -> tuple[float, object]:
    """The median of ``repeats`` calls' seconds, and the last call's answer."""
    seconds, answer = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        answer = call()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), answer


def api(servers: Servers, method: str, path: str, **kwargs) -> dict:
    response = requests.request(method, f"http://{servers.http}/api/v1/{path}",
                                headers={"Authorization": f"Bearer {servers.token}"}, timeout=600, **kwargs)
    response.raise_for_status()
    return response.json() if response.content else {}


def worker_memory(servers: Servers) -> dict[int, dict]:
    """Each gunicorn worker's resident and peak size in MiB, by process id (serve.sh's process group)."""
    group = servers.processes[0].pid
    gunicorns = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(") ")[2].split()
            command = (stat.parent / "cmdline").read_bytes()
            status = (stat.parent / "status").read_text()
        except OSError:  # gone since the listing
            continue
        if int(fields[2]) == group and b"gunicorn" in command:
            sizes = dict(line.split(":", 1) for line in status.splitlines() if line.startswith(("VmRSS", "VmHWM")))
            gunicorns[int(stat.parent.name)] = (int(fields[1]), {k: int(v.split()[0]) / 1024 for k, v in sizes.items()})
    # A worker is a gunicorn whose parent is gunicorn too (the master forks them).
    return {pid: sizes for pid, (parent, sizes) in gunicorns.items() if parent in gunicorns}


def refreshed(servers: Servers) -> dict:
    """``manage.py refresh_analytics``, timed: its seconds and what it said."""
    started = time.perf_counter()
    said = servers.manage("refresh_analytics").strip()
    return {"seconds": time.perf_counter() - started, "report": said}


def measure_speed(servers: Servers, events: int, repeats: int) -> dict:
    started = time.perf_counter()
    window = fill(servers, events)
    fill_seconds = time.perf_counter() - started
    params = {"from": window["start"].isoformat()}
    reference = statistics.median(reference_scan(servers, window) for _ in range(repeats))
    backlog = refreshed(servers)
    figures = [{"name": "refresh_analytics (the backlog)", "seconds": backlog["seconds"],
                "ratio": backlog["seconds"] / reference, "report": backlog["report"]}]
    memory_before = worker_memory(servers)
    for name, path, extra in DASHBOARD:
        seconds, _ = timed(lambda: api(servers, "GET", path, params={**params, **extra}), repeats)
        figures.append({"name": name, "seconds": seconds, "ratio": seconds / reference})
    dashboard = sum(figure["seconds"] for figure in figures[1:])
    figures.append({"name": "dashboard (all of the above)", "seconds": dashboard, "ratio": dashboard / reference})
    for model in MODELS:
        body = {"name": f"bench {model}", "model": model, "from": params["from"]}
        seconds, answer = timed(lambda: api(servers, "POST", "judgments", json=body), repeats)
        figures.append({"name": f"judgments {model}", "seconds": seconds, "ratio": seconds / reference,
                        "judgments": answer.get("judgmentCount")})
    memory_after = worker_memory(servers)
    fill(servers, events, more=0.01, start=window["start"])
    seconds, _ = timed(lambda: api(servers, "GET", "analytics/summary", params=params), 1)
    figures.append({"name": "summary (1 % more)", "seconds": seconds, "ratio": seconds / reference})
    increment = refreshed(servers)
    figures.append({"name": "refresh_analytics (then)", "seconds": increment["seconds"],
                    "ratio": increment["seconds"] / reference, "report": increment["report"]})
    return {"events": window["events"], "searches": window["searches"], "fill_seconds": fill_seconds,
            "reference_seconds": reference,
            "figures": figures, "memory_mib": {"before": memory_before, "after": memory_after}}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeats", type=int, default=3, help="requests per figure; the median is shown")
    parser.add_argument("--admin-database-url", default=os.environ.get(
        "BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"))
    parser.add_argument("--out", type=Path, default=PROJECT / "bench" / "results" / "analytics.json")
    args = parser.parse_args()

    report = {"cores": os.cpu_count(), "speed": []}
    for events in args.events:
        with Servers(args.admin_database_url, args.redis_url) as servers:
            speed = measure_speed(servers, events, args.repeats)
        report["speed"].append(speed)
        print(f"\n{speed['events']:,} events, {speed['searches']:,} searches over {DAYS} days; reference "
              f"count(*) of the window: {speed['reference_seconds']:.3f} s; filled in {speed['fill_seconds']:.0f} s")
        for figure in speed["figures"]:
            print(f"  {figure['name']:<32} {figure['seconds']:>8.3f} s  {figure['ratio']:>7.1f} x reference")
        for pid, before in speed["memory_mib"]["before"].items():
            after = speed["memory_mib"]["after"].get(pid, {})
            print(f"  worker {pid}: resident {before['VmRSS']:.0f} -> {after.get('VmRSS', 0):.0f} MiB, "
                  f"peak {after.get('VmHWM', 0):.0f} MiB")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
