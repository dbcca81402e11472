"""Bounded soak: a steady rate above the client's rate limit, for minutes, on the production setup.

    .venv/bin/python bench/soak.py [--minutes 3] [--rate 300] [--limit 200/s]

Starts the same servers as bench/run.py (gunicorn and grpcserver on a scratch PostgreSQL database, Redis for the
rate limiter across processes) with the app client's limit at ``--limit``, then sends single events over REST at a
steady ``--rate`` requests a second from keep-alive connections. Above the limit, the surplus must be refused with
429 and ``Retry-After``, and nothing else may go wrong. Each interval prints what was sent, accepted (201), refused
(429), failed (anything else), the p99 latency, and the resident memory of all server processes together.

At the end it checks: no failure but 429s, memory flat (the last interval's against the first's, once warm), and
no loss (every event_id acknowledged with 201 is stored). Writes the figures to bench/results/soak.json; exits 1 when
a check fails.
"""

import argparse
import json
import os
import queue
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.run import EVENT_TABLE, PROJECT, RATE_LIMITS, Servers, sample_event  # noqa: E402

INTERVAL_SECONDS = 20
# Memory counts as flat when the last interval's is within this share of the first's (allocator noise, caches
# that fill once).
FLAT_MEMORY_TOLERANCE = 0.10
CONNECTIONS = 16


@dataclass
class Interval:
    second: int = 0  # when the interval ended, in seconds since the load started
    sent: int = 0
    accepted: int = 0
    refused: int = 0
    failed: int = 0
    latencies: list = field(default_factory=list, repr=False)
    p99_ms: float = 0.0
    server_rss_mib: float = 0.0


class SteadyLoad:
    """``rate`` requests a second, whatever the answers: a ticket per request, taken by a pool of connections."""

    def __init__(self, url: str, token: str, rate: int):
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.rate = rate
        self.tickets: queue.Queue = queue.Queue()
        self.lock = threading.Lock()
        self.interval = Interval()
        self.acknowledged: list[str] = []
        self.refusals_without_retry_after = 0
        self.stopping = threading.Event()

    def run(self, seconds: float, on_interval) -> None:
        workers = [threading.Thread(target=self._send, daemon=True) for _ in range(CONNECTIONS)]
        for worker in workers:
            worker.start()
        started = time.monotonic()
        next_report = started + INTERVAL_SECONDS
        sent = 0
        while (now := time.monotonic()) < started + seconds:
            due = int((now - started) * self.rate)
            for _ in range(due - sent):
                self.tickets.put(None)
            sent = due
            if now >= next_report:
                on_interval(self._next_interval(int(now - started)))
                next_report += INTERVAL_SECONDS
            time.sleep(0.005)
        self.stopping.set()
        for worker in workers:
            worker.join()
        on_interval(self._next_interval(int(time.monotonic() - started)))

    def _next_interval(self, second: int) -> Interval:
        with self.lock:
            done, self.interval = self.interval, Interval()
        done.second = second
        if done.latencies:
            done.p99_ms = round(sorted(done.latencies)[int(len(done.latencies) * 0.99)] * 1000, 1)
        return done

    def _send(self) -> None:
        session = requests.Session()
        body = json.dumps(sample_event()).encode()
        while not self.stopping.is_set():
            try:
                self.tickets.get(timeout=0.1)
            except queue.Empty:
                continue
            started = time.perf_counter()
            try:
                response = session.post(self.url, data=body, headers=self.headers, timeout=10)
                status = response.status_code
            except requests.RequestException:
                status = None
            elapsed = time.perf_counter() - started
            with self.lock:
                self.interval.sent += 1
                self.interval.latencies.append(elapsed)
                if status == 201:
                    self.interval.accepted += 1
                    self.acknowledged.append(response.json()["event_id"])
                elif status == 429:
                    self.interval.refused += 1
                    self.refusals_without_retry_after += "Retry-After" not in response.headers
                else:
                    self.interval.failed += 1


def server_rss_mib(servers: Servers) -> float:
    """Resident memory of every process the servers started (gunicorn and grpcserver, masters and workers)."""
    groups = {process.pid for process in servers.processes}
    total_kib = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            process_group = int(stat.rsplit(")", 1)[1].split()[2])
            if process_group in groups:
                status = (entry / "status").read_text()
                total_kib += int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])
        except (OSError, StopIteration, ValueError, IndexError):  # a process that ended meanwhile
            continue
    return round(total_kib / 1024, 1)


def stored(servers: Servers, event_ids: list[str]) -> int:
    with psycopg.connect(servers.database_url) as conn:
        return conn.execute(
            f"SELECT count(*) FROM {EVENT_TABLE} WHERE event_id = ANY(%s)", (event_ids,)
        ).fetchone()[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--rate", type=int, default=300, help="requests a second, steady")
    parser.add_argument("--limit", default="200/s", help="the app client's rate limit during the soak")
    parser.add_argument("--admin-database-url", default=os.environ.get(
        "BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"))
    parser.add_argument("--out", type=Path, default=PROJECT / "bench" / "results" / "soak.json")
    args = parser.parse_args()

    limits = {name: "off" for name in RATE_LIMITS} | {"RATE_LIMIT_CLIENT": args.limit}
    intervals: list[Interval] = []
    print(f"{'second':>6} {'sent':>7} {'201':>7} {'429':>7} {'failed':>7} {'p99 ms':>8} {'server RSS MiB':>15}")

    with Servers(args.admin_database_url, args.redis_url, rate_limits=limits) as servers:
        load = SteadyLoad(f"http://{servers.http}/api/v1/ubi/events", servers.token, args.rate)

        def report(interval: Interval) -> None:
            interval.server_rss_mib = server_rss_mib(servers)
            intervals.append(interval)
            print(f"{interval.second:>6} {interval.sent:>7} {interval.accepted:>7} {interval.refused:>7} "
                  f"{interval.failed:>7} {interval.p99_ms:>8} {interval.server_rss_mib:>15}", flush=True)

        load.run(args.minutes * 60, report)
        time.sleep(1)
        found = stored(servers, load.acknowledged)

    warm, last = intervals[0].server_rss_mib, intervals[-1].server_rss_mib
    checks = {
        "no failures but 429s": sum(i.failed for i in intervals) == 0,
        "every 429 has Retry-After": load.refusals_without_retry_after == 0,
        "the limit refused the surplus": sum(i.refused for i in intervals) > 0,
        "memory flat": last <= warm * (1 + FLAT_MEMORY_TOLERANCE),
        "no loss": found == len(load.acknowledged),
    }
    summary = {
        "minutes": args.minutes, "rate": args.rate, "limit": args.limit,
        "sent": sum(i.sent for i in intervals), "accepted": len(load.acknowledged),
        "refused": sum(i.refused for i in intervals), "failed": sum(i.failed for i in intervals),
        "stored": found, "server_rss_mib_first": warm, "server_rss_mib_last": last, "checks": checks,
        "intervals": [{k: v for k, v in asdict(i).items() if k != "latencies"} for i in intervals],
    }
    print(f"\nsent {summary['sent']:,}: {summary['accepted']:,} accepted, {summary['refused']:,} refused (429), "
          f"{summary['failed']:,} failed; {found:,} of the accepted stored; server RSS {warm} -> {last} MiB")
    for name, ok in checks.items():
        print(f"  {'OK  ' if ok else 'FAIL'} {name}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2))
    print(f"written to {args.out}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
