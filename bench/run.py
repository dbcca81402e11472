"""Ingestion benchmark: one command starts the production setup on PostgreSQL and Redis and measures it.

    .venv/bin/python bench/run.py [--seconds 10] [--rounds 3] [--out bench/results/latest.json]
    .venv/bin/python bench/run.py --observability-cost [--seconds 10] [--rounds 3]

What it measures, in one run on one machine (server, database and load generator share the cores):
- references: PostgreSQL's own rate for the same event rows (``COPY`` through psycopg, 1000 rows a transaction)
  into a table with only the indexes idempotency needs, and into the events table itself; and a bare Django view (bench/bare.py: no DRF, no middleware) that parses the same JSON, verifies the same JWT
  and inserts one row, served by the same gunicorn;
- REST single events (concurrency 16 and 64), REST batches of 100 and 1000, gRPC unary TrackEvent and the
  TrackEvents stream, and the token endpoint;
- the browser collector (``/collect/<key>/ubi_events``, an ingest key and a page's ``Origin``, no token): single
  events and batches of 100 and 1000, each also compared with its bearer-token twin above;
- for each: events (or tokens) per second, p50 and p99 latency, errors, the ratio to its reference, the CPU time
  the servers, PostgreSQL and Redis spent on each event (a steadier figure than the rate where the machine's other
  load moves the rate), and how much CPU the load generator itself used (under one core means it was not the
  bottleneck: it had a core's headroom);
- a loss check: every event acknowledged is stored, measurement by measurement.
With ``--refresh-every N``, a reader asks for the analytics summary every N seconds during the REST measurements,
as a dashboard or cron would: each request refreshes the rollups (``analytics.rollups``) with the events ingested
meanwhile, so the rates say what that costs ingestion (compare with a run without it).
Every measurement starts from an empty events table, as the reference does (rows left by earlier measurements
would slow every insert into the table's indexes, a cost the reference's fresh table does not have).
Every measurement runs ``--rounds`` times; the table shows each in its median round, with the ratio to the reference
measured in that same round.

HTTP load comes from wrk (C, event loop; ``apt-get install wrk``), gRPC load from bench/grpc_load.py (grpc.aio).
"""

import argparse
import glob
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg
import requests

PROJECT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
# The environment variables of every rate limit (project/conf.py); "off" turns one off. The bench's one client
# streams on more connections than a process lets one caller hold streams (GRPC_MAX_STREAMS_PER_PRINCIPAL).
RATE_LIMITS = (
    "RATE_LIMIT_CLIENT",
    "RATE_LIMIT_USER",
    "TOKEN_RATE_LIMIT_PER_CLIENT",
    "TOKEN_RATE_LIMIT_PER_ADDRESS",
    "COLLECTOR_RATE_LIMIT_PER_KEY",
    "COLLECTOR_RATE_LIMIT_PER_ADDRESS",
    "GRPC_MAX_STREAMS_PER_PRINCIPAL",
)
# The browser collector's requests come from a page of this origin, with an ingest key that lists it.
COLLECTOR_ORIGIN = "http://shop.bench.example"
# Each collector measurement and the bearer-token measurement of the same shape it is compared with.
COLLECTOR_BEARER_TWINS = {
    "collector single event, c16": "REST single event, c16",
    "collector batch of 100, c4": "REST batch of 100, c4",
    "collector batch of 1000, c4": "REST batch of 1000, c4",
}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")  # the unit of /proc's CPU times


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sample_event(index: int = 0) -> dict:
    return {
        "application": "bench-shop",
        "action_name": "click",
        "query_id": str(uuid.uuid4()),
        "session_id": "b1e4c8f0a2d94c3e",
        "client_id": "browser-42",
        "user_id": "user-7",
        "timestamp": "2026-11-22T10:15:30.123Z",
        "message_type": "CONVERSION",
        "event_attributes": {
            "object": {"object_id": f"SKU-{index}", "object_id_field": "sku"},
            "position": {"ordinal": index % 24 + 1},
        },
    }


@dataclass
class Result:
    name: str
    unit: str
    rate: float
    p50_ms: float | None = None
    p99_ms: float | None = None
    errors: int = 0
    acknowledged: int = 0
    stored: int = 0
    reference: str | None = None
    ratio: float | None = None
    loadgen_cpu_cores: float | None = None
    server_cpu_us: float | None = None  # per event (or token): the servers', PostgreSQL's and Redis's CPU time
    notes: dict = field(default_factory=dict)


class Servers:
    """The production setup on a scratch PostgreSQL database: gunicorn (project and bare reference) and grpcserver."""

    def __init__(self, admin_url: str, redis_url: str, *, rate_limits: dict | None = None, unpartitioned=False,
                 name: str = "", settings: str = "project.settings"):
        self.unpartitioned = unpartitioned
        self.database = f"ubi_bench_{os.getpid()}{name}"
        self.admin_url = admin_url
        self.database_url = admin_url.rsplit("/", 1)[0] + "/" + self.database
        self.var_dir = Path(tempfile.mkdtemp(prefix="ubi-bench-"))
        self.http = f"127.0.0.1:{free_port()}"
        self.bare = f"127.0.0.1:{free_port()}"
        self.grpc = f"127.0.0.1:{free_port()}"
        cores = os.cpu_count() or 2
        self.env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": redis_url,
            "VAR_DIR": str(self.var_dir),
            "DEBUG": "false",
            "OAUTH_ISSUER": f"http://{self.http}",
            "WEB_CONCURRENCY": str(cores * 2),
            "GRPC_PROCESSES": str(cores),
            "DJANGO_SETTINGS_MODULE": settings,
            # Throughput is measured without the rate limiter in the way (bench/soak.py measures it on).
            **(rate_limits or {name: "off" for name in RATE_LIMITS}),
        }
        self.processes: list[subprocess.Popen] = []

    def __enter__(self):
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')
        self.manage("migrate", "-v0")
        if self.unpartitioned:
            self.manage("migrate", "insights", UNPARTITIONED_MIGRATION, "-v0")
        self.client = json.loads(
            self.manage("create_app_client", "--org", "Bench", "--name", "bench",
                        "--roles", "insights:read,insights:write", "--json")
        )
        self.ingest_key = json.loads(
            self.manage("create_ingest_key", "--org", "Bench", "--application", "bench-shop",
                        "--origin", COLLECTOR_ORIGIN, "--json")
        )
        self.start(["bash", "scripts/serve.sh"], {"HTTP_ADDRESS": self.http, "GRPC_ADDRESS": self.grpc})
        self.start(
            [str(PROJECT / ".venv/bin/gunicorn"), "--config", "gunicorn.conf.py", "bench.bare:application"],
            {"HTTP_ADDRESS": self.bare, "DJANGO_SETTINGS_MODULE": "bench.bare_settings"},
        )
        for address in (self.http, self.bare):
            self.wait_http(f"http://{address}/.well-known/jwks.json" if address == self.http else f"http://{address}/")
        self.token = requests.post(
            f"http://{self.http}/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(self.client["client_id"], self.client["client_secret"]),
            timeout=10,
        ).json()["access_token"]
        return self

    def __exit__(self, *exc):
        for process in self.processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        shutil.rmtree(self.var_dir, ignore_errors=True)

    def manage(self, *args) -> str:
        done = subprocess.run([PYTHON, "manage.py", *args], cwd=PROJECT, env=self.env, check=True,
                              capture_output=True, text=True)
        return done.stdout

    def start(self, command, extra_env):
        log = open(self.var_dir / f"server-{len(self.processes)}.log", "w")
        self.processes.append(
            subprocess.Popen(command, cwd=PROJECT, env={**self.env, **extra_env}, stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True)
        )

    def wait_http(self, url, seconds=60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                requests.get(url, timeout=10)
                return
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still loading Django
                time.sleep(0.3)
        raise RuntimeError(f"{url} did not answer; see the logs in {self.var_dir}")

    def empty_events(self) -> None:
        """Start a measurement as the reference starts: with no event rows, and the WAL written out."""
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            conn.execute(f"TRUNCATE {EVENT_TABLE}")
        self.checkpoint()

    def stored_events(self) -> int:
        """The events stored since ``empty_events``, once the requests still in flight when a load generator stopped
        have finished (those are stored without being counted as acknowledged)."""
        time.sleep(SETTLE_SECONDS)
        with psycopg.connect(self.database_url) as conn:
            return conn.execute(f"SELECT count(*) FROM {EVENT_TABLE}").fetchone()[0]

    def cpu_seconds(self) -> float:
        """CPU time used so far by the servers' processes (each started in a process group of its own), PostgreSQL's
        and Redis's, read from /proc. A process that exits takes its share with it; none does while measured."""
        groups = {process.pid for process in self.processes}
        total = 0
        for path in glob.glob("/proc/[0-9]*/stat"):
            try:
                with open(path) as file:
                    stat = file.read()
            except OSError:  # gone since the listing
                continue
            command, _, rest = stat.partition(" (")[2].rpartition(") ")
            fields = rest.split()  # proc(5): state, ppid, pgrp, ..., utime (12th), stime (13th)
            if int(fields[2]) in groups or command in ("postgres", "redis-server"):
                total += int(fields[11]) + int(fields[12])
        return total / CLOCK_TICKS

    def checkpoint(self) -> None:
        """Write out what earlier measurements left in PostgreSQL's WAL, so that none pays for another's writes (a
        checkpoint falling inside one measurement halved it)."""
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute("CHECKPOINT")


def run_wrk(url: str, *, body: bytes, headers: dict, connections: int, seconds: int,
            method: str = "POST") -> tuple[dict, float]:
    """wrk against ``url``; returns its JSON report and the CPU cores wrk itself used on average."""
    preamble = f"wrk.method = {json.dumps(method)}\nwrk.body = {json.dumps(body.decode())}\nwrk.headers = {{}}\n"
    preamble += "".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n" for k, v in headers.items())
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(preamble + (PROJECT / "bench" / "wrk_report.lua").read_text())
    threads = max(1, min(2, connections))
    started = time.monotonic()
    process = subprocess.Popen(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", script.name, url],
        stdout=subprocess.PIPE, text=True,
    )
    _pid, _status, usage = os.wait4(process.pid, 0)
    output = process.stdout.read()
    os.unlink(script.name)
    wall = time.monotonic() - started
    report = json.loads(output.strip().splitlines()[-1])
    return report, (usage.ru_utime + usage.ru_stime) / wall


def http_result(name, unit, report, cpu, *, events_per_request=1) -> Result:
    ok = report["requests"] - report["non_2xx"]
    seconds = report["duration_us"] / 1e6
    return Result(
        name=name, unit=unit, rate=ok * events_per_request / seconds,
        p50_ms=report["p50_us"] / 1000, p99_ms=report["p99_us"] / 1000,
        errors=report["non_2xx"] + report["socket_errors"], acknowledged=ok * events_per_request,
        loadgen_cpu_cores=round(cpu, 2),
    )


def per_event_us(cpu_seconds: float, events: int) -> float | None:
    return round(cpu_seconds / events * 1e6) if events else None


WARM_UP_SECONDS = 3
SETTLE_SECONDS = 1  # for the requests in flight when a load generator stopped to finish


def warm_up(servers: Servers) -> None:
    """Load every server once, unmeasured: each worker's first requests import code and open connections."""
    auth = {"Authorization": f"Bearer {servers.token}", "Content-Type": "application/json"}
    one = json.dumps(sample_event()).encode()
    for url in (f"http://{servers.bare}/events", f"http://{servers.http}/api/v1/ubi/events"):
        run_wrk(url, body=one, headers=auth, connections=16, seconds=WARM_UP_SECONDS)
    run_wrk(collector_events_url(servers), body=one, headers=COLLECTOR_HEADERS, connections=16, seconds=WARM_UP_SECONDS)
    for mode in ("unary", "stream"):
        run_grpc_load(servers, mode, WARM_UP_SECONDS)


class AnalyticsReader(threading.Thread):
    """Reads the analytics summary every ``every`` seconds until stopped: each read refreshes the rollups."""

    def __init__(self, servers: Servers, every: float):
        super().__init__(daemon=True)
        self.servers, self.every, self.stop = servers, every, threading.Event()
        self.reads: list[float] = []

    def run(self):
        while not self.stop.wait(self.every):
            started = time.perf_counter()
            requests.get(f"http://{self.servers.http}/api/v1/analytics/summary", timeout=600,
                         headers={"Authorization": f"Bearer {self.servers.token}"}).raise_for_status()
            self.reads.append(time.perf_counter() - started)


def measure_wrk(servers: Servers, seconds: int, name: str, url: str, *, body: bytes | None = None,
                headers: dict | None = None, connections=16, unit="events/s", events_per_request=1,
                refresh_every: float = 0) -> Result:
    """One wrk measurement from an empty events table: its rate, the servers' CPU per event, the events stored;
    with ``refresh_every``, an ``AnalyticsReader`` reads the analytics summary that often meanwhile."""
    body = body or json.dumps(sample_event()).encode()
    headers = headers or {"Authorization": f"Bearer {servers.token}", "Content-Type": "application/json"}
    servers.empty_events()
    server_cpu = servers.cpu_seconds()
    reader = AnalyticsReader(servers, refresh_every) if refresh_every else None
    if reader:
        reader.start()
    report, cpu = run_wrk(url, body=body, headers=headers, connections=connections, seconds=seconds)
    if reader:
        reader.stop.set()
        reader.join()
    server_cpu = servers.cpu_seconds() - server_cpu
    result = http_result(name, unit, report, cpu, events_per_request=events_per_request)
    result.server_cpu_us = per_event_us(server_cpu, result.acknowledged)
    result.stored = servers.stored_events()
    if reader:
        result.notes["analytics_reads_s"] = [round(read, 3) for read in reader.reads]
    return result


def measure_http(servers: Servers, seconds: int, *, refresh_every: float = 0) -> list[Result]:
    def measure(name, url, **options):
        reading = refresh_every if url.startswith(f"http://{servers.http}/api/") else 0
        return measure_wrk(servers, seconds, name, url, refresh_every=reading, **options)

    results = [measure("bare reference, single event, c16", f"http://{servers.bare}/events")]
    for connections in (16, 64):
        result = measure(f"REST single event, c{connections}", f"http://{servers.http}/api/v1/ubi/events",
                         connections=connections)
        result.reference = "bare reference, single event, c16"
        results.append(result)
    for size in (100, 1000):
        batch = json.dumps([sample_event(i) for i in range(size)]).encode()
        result = measure(f"REST batch of {size}, c4", f"http://{servers.http}/api/v1/ubi/events", body=batch,
                         connections=4, events_per_request=size)
        result.reference = COPY_MINIMAL
        results.append(result)
    # The browser collector: the same bodies with an ingest key in the URL and a page's Origin, no token. Each is
    # compared with the same reference as its bearer-token twin, and with that twin (COLLECTOR_BEARER_TWINS).
    result = measure("collector single event, c16", collector_events_url(servers), headers=COLLECTOR_HEADERS)
    result.reference = "bare reference, single event, c16"
    results.append(result)
    for size in (100, 1000):
        batch = json.dumps([sample_event(i) for i in range(size)]).encode()
        result = measure(f"collector batch of {size}, c4", collector_events_url(servers), body=batch,
                         headers=COLLECTOR_HEADERS, connections=4, events_per_request=size)
        result.reference = "PostgreSQL COPY, 1000 rows a transaction"
        results.append(result)
    form = f"grant_type=client_credentials&client_id={servers.client['client_id']}" \
           f"&client_secret={servers.client['client_secret']}".encode()
    token = measure("token endpoint, c16", f"http://{servers.http}/oauth2/token", body=form, unit="tokens/s",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    # The bare view's work is of the same shape (one ES256 signature checked, one row inserted; here one made):
    # the ratio says what this machine's speed leaves out of the absolute rate.
    token.reference = "bare reference, single event, c16"
    token.acknowledged = 0  # tokens are not events: kept out of the loss check
    results.append(token)
    return results


COLLECTOR_HEADERS = {"Content-Type": "application/json", "Origin": COLLECTOR_ORIGIN}


def collector_events_url(servers: Servers) -> str:
    return f"http://{servers.http}/collect/{servers.ingest_key['key']}/ubi_events"


def run_grpc_load(servers: Servers, mode: str, seconds: int) -> dict:
    """bench/grpc_load.py's report of ``mode`` (unary or stream) calls for ``seconds``."""
    done = subprocess.run(
        [PYTHON, str(PROJECT / "bench" / "grpc_load.py"), "--address", servers.grpc, "--token", servers.token,
         "--mode", mode, "--seconds", str(seconds)],
        cwd=PROJECT, check=True, capture_output=True, text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_grpc(servers: Servers, seconds: int) -> list[Result]:
    results = []
    for mode, reference in (("unary", "bare reference, single event, c16"),
                            ("stream", COPY_MINIMAL)):
        servers.empty_events()
        server_cpu = servers.cpu_seconds()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        report = run_grpc_load(servers, mode, seconds)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        server_cpu = servers.cpu_seconds() - server_cpu
        cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) / report["seconds"]
        results.append(Result(
            name=f"gRPC {'TrackEvent unary' if mode == 'unary' else 'TrackEvents stream'}, c{report['concurrency']}",
            unit="events/s", rate=report["events"] / report["seconds"], p50_ms=report["p50_ms"],
            p99_ms=report["p99_ms"], errors=report["errors"], acknowledged=report["events"], reference=reference,
            loadgen_cpu_cores=round(cpu, 2), server_cpu_us=per_event_us(server_cpu, report["events"]),
            stored=servers.stored_events(),
        ))
    return results


COPY_MINIMAL = "PostgreSQL COPY, idempotency indexes only"
COPY_FULL = "PostgreSQL COPY into the events table"


def measure_copy(servers: Servers, rows: int = 100_000) -> list[Result]:
    """PostgreSQL's own rate for the very rows the API stored (the stream's, the round's last measurement), 1000
    rows a transaction, each time into an empty table: a plain table with only what idempotency needs (the primary
    key and the ``(organization_id, event_id)`` uniqueness), then the events table itself, emptied, as it is
    (partitions, identifiers table, indexes, foreign key)."""
    with psycopg.connect(servers.database_url) as conn:
        buffer = bytearray()
        with conn.cursor().copy(f"COPY (SELECT * FROM {EVENT_TABLE} LIMIT {rows}) TO STDOUT") as copy:
            for data in copy:
                buffer += data
        lines = bytes(buffer).splitlines(keepends=True)
        conn.execute(f"CREATE TABLE bench_copy (LIKE {EVENT_TABLE} INCLUDING DEFAULTS)")
        conn.execute("ALTER TABLE bench_copy ADD PRIMARY KEY (id), ADD UNIQUE (organization_id, event_id)")
        conn.execute(f"TRUNCATE {EVENT_TABLE}")
        conn.commit()
        results = []
        for name, table in ((COPY_MINIMAL, "bench_copy"), (COPY_FULL, EVENT_TABLE)):
            servers.checkpoint()
            server_cpu = servers.cpu_seconds()
            started = time.perf_counter()
            for start in range(0, len(lines), 1000):
                with conn.cursor().copy(f"COPY {table} FROM STDIN") as copy:
                    copy.write(b"".join(lines[start:start + 1000]))
                conn.commit()
            elapsed = time.perf_counter() - started
            server_cpu = servers.cpu_seconds() - server_cpu
            results.append(Result(name=name, unit="events/s", rate=len(lines) / elapsed,
                                  server_cpu_us=per_event_us(server_cpu, len(lines)), notes={"rows": len(lines)},
                                  reference=None if table == "bench_copy" else COPY_MINIMAL))
        conn.execute("DROP TABLE bench_copy")
        conn.commit()
    return results


def attach_ratios(results: list[Result]) -> None:
    by_name = {result.name: result for result in results}
    for result in results:
        if result.reference and result.reference in by_name and by_name[result.reference].rate:
            result.ratio = round(result.rate / by_name[result.reference].rate, 3)
        twin = by_name.get(COLLECTOR_BEARER_TWINS.get(result.name, ""))
        if twin is not None and twin.rate:
            result.notes["of_bearer"] = round(result.rate / twin.rate, 3)


def median_round(rounds: list[list[Result]]) -> list[Result]:
    """Each measurement as in its median round, by ratio to its reference where it has one, else by rate.

    This machine's other load moves a single measurement by a quarter or more; its median over rounds, each with
    its own reference, moves much less.
    """
    medians = []
    for same_measurement in zip(*rounds):
        ordered = sorted(same_measurement, key=lambda r: r.rate if r.ratio is None else r.ratio)
        medians.append(ordered[len(ordered) // 2])
    return medians


def print_table(results: list[Result], loss: dict) -> None:
    header = f"{'measurement':<44} {'rate':>12} {'unit':<9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} " \
             f"{'ratio':>7} {'server cpu µs':>13} {'loadgen cpu':>11}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r.name:<44} {r.rate:>12,.0f} {r.unit:<9} {_fmt(r.p50_ms):>8} {_fmt(r.p99_ms):>8} {r.errors:>7} "
              f"{_fmt(r.ratio, '.2f'):>7} {_fmt(r.server_cpu_us, ',.0f'):>13} {_fmt(r.loadgen_cpu_cores, '.2f'):>11}")
    for r in results:
        if "of_bearer" in r.notes:
            print(f"{r.name}: {r.notes['of_bearer']:.2f} of {COLLECTOR_BEARER_TWINS[r.name]} (bearer token)")
    print(f"\nloss check: {loss['acknowledged']:,} events acknowledged, {loss['stored']:,} stored; each measurement "
          f"stored at least what it acknowledged -> {'OK' if loss['ok'] else 'LOSS'}")


def _fmt(value, spec=".1f"):
    return "-" if value is None else format(value, spec)


EVENT_TABLE = "insights_event"
# The last migration before the monthly partitions: plain tables, and the events table's nine indexes.
UNPARTITIONED_MIGRATION = "0003_query_plural"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="duration of each measurement")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every measurement; the median is shown")
    parser.add_argument("--admin-database-url", default=os.environ.get(
        "BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"))
    parser.add_argument("--unpartitioned", action="store_true",
                        help=f"measure the plain tables of insights {UNPARTITIONED_MIGRATION} (before the partitions)")
    parser.add_argument("--out", type=Path, default=None,
                        help="where the JSON results go (default bench/results/latest.json, or observability.json)")
    parser.add_argument("--observability-cost", action="store_true",
                        help="only the REST single-event rate, with and without observability.middleware")
    parser.add_argument("--refresh-every", type=float, default=0, metavar="SECONDS",
                        help="read the analytics summary (a refresh of the rollups) this often during the REST "
                             "measurements; 0: never")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    if args.observability_cost:
        observability_cost(args)
        return
    args.out = args.out or PROJECT / "bench" / "results" / "latest.json"

    rounds: list[list[Result]] = []
    with Servers(args.admin_database_url, args.redis_url, unpartitioned=args.unpartitioned) as servers:
        warm_up(servers)
        for _round in range(args.rounds):
            results = measure_http(servers, args.seconds, refresh_every=args.refresh_every) + measure_grpc(
                servers, args.seconds)
            servers.checkpoint()
            results += measure_copy(servers)
            attach_ratios(results)
            rounds.append(results)
    measured = [result for results in rounds for result in results if result.acknowledged]
    # Requests still in flight when a load generator stopped may be stored without being counted, so a measurement
    # may store more than it acknowledged, never less.
    loss = {
        "acknowledged": sum(result.acknowledged for result in measured),
        "stored": sum(result.stored for result in measured),
        "ok": all(result.stored >= result.acknowledged for result in measured),
    }
    medians = median_round(rounds)
    print(f"median of {len(rounds)} rounds of {args.seconds} s each")
    print_table(medians, loss)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "results": [asdict(r) for r in medians], "loss": loss, "cores": os.cpu_count(), "seconds": args.seconds,
        "rounds": [[asdict(r) for r in results] for results in rounds],
    }, indent=2))
    print(f"written to {args.out}")


def observability_cost(args) -> None:
    """The REST single-event rate (c16) of two deployments side by side: the project as it ships, and without
    ``observability.middleware`` (bench/unobserved_settings.py: no request id, HTTP metrics or access line). Each
    round measures both, in turns whose order alternates, so the machine's drift falls on both alike; the cost is
    one minus the ratio of their medians. Both count events in ``insights.services`` (a counter in a shared memory
    map), a cost this leaves out: a few hundred nanoseconds an event.

    Beside the rate, the CPU time of each deployment's own processes an event (``deployment_cpu_seconds``): its
    servers' and its database's PostgreSQL backends'. The server CPU of the other measurements counts every
    PostgreSQL and Redis process of the machine, whatever session or deployment they serve, which moves by more than
    the cost looked for here."""
    results: dict[str, list[Result]] = {"on": [], "off": []}
    with Servers(args.admin_database_url, args.redis_url, name="_on") as on, \
            Servers(args.admin_database_url, args.redis_url, name="_off", settings="bench.unobserved_settings") as off:
        deployments = {"on": on, "off": off}
        for servers in deployments.values():
            measure_wrk(servers, WARM_UP_SECONDS, "warm-up", f"http://{servers.http}/api/v1/ubi/events")
        for number in range(args.rounds):
            for label in ("on", "off") if number % 2 == 0 else ("off", "on"):
                servers = deployments[label]
                before = deployment_cpu_seconds(servers)
                result = measure_wrk(servers, args.seconds, f"REST single event, c16, observability {label}",
                                     f"http://{servers.http}/api/v1/ubi/events")
                after = deployment_cpu_seconds(servers)
                for part in before:
                    result.notes[f"{part}_cpu_us"] = per_event_us(after[part] - before[part], result.acknowledged)
                results[label].append(result)
    medians = {label: sorted(rounds, key=lambda r: r.rate)[len(rounds) // 2] for label, rounds in results.items()}
    cost = 1 - medians["on"].rate / medians["off"].rate
    servers_cpu = {label: _median([r.notes["servers_cpu_us"] for r in rounds]) for label, rounds in results.items()}
    print(f"median of {args.rounds} rounds of {args.seconds} s each")
    for label in ("off", "on"):
        rates = ", ".join(f"{r.rate:,.0f}" for r in results[label])
        result = medians[label]
        print(f"observability {label:<3}  {result.rate:>9,.0f} events/s  p50 {result.p50_ms:.1f} ms  p99 "
              f"{result.p99_ms:.1f} ms  server cpu {_fmt(result.server_cpu_us, ',.0f')} µs/event  (rounds: {rates})")
        for part in ("servers", "database"):
            values = ", ".join(_fmt(r.notes[f"{part}_cpu_us"], ",.0f") for r in results[label])
            print(f"    its own {part:<8} cpu µs/event, by round: {values}")
    print(f"cost of metrics and access lines: {cost:.1%} of the single-event rate; "
          f"{servers_cpu['on'] / servers_cpu['off'] - 1:.1%} of its servers' CPU an event (medians "
          f"{servers_cpu['on']:,.0f} and {servers_cpu['off']:,.0f} µs)")
    out = args.out or PROJECT / "bench" / "results" / "observability.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "cost": round(cost, 4), "servers_cpu_cost": round(servers_cpu["on"] / servers_cpu["off"] - 1, 4),
        "cores": os.cpu_count(), "seconds": args.seconds,
        "rounds": {label: [asdict(r) for r in rounds] for label, rounds in results.items()},
    }, indent=2))
    print(f"written to {out}")


def deployment_cpu_seconds(servers: Servers) -> dict[str, float]:
    """CPU time used so far by one deployment's own processes, read from /proc: ``servers``, its gunicorn and gRPC
    processes (each server started in a process group of its own); ``database``, the PostgreSQL backends connected
    to its database (a backend's title names the database; Django keeps its connections open, so they live on)."""
    groups = {process.pid for process in servers.processes}
    totals = {"servers": 0, "database": 0}
    for path in glob.glob("/proc/[0-9]*"):
        try:
            with open(f"{path}/stat") as file:
                stat = file.read()
            with open(f"{path}/cmdline", "rb") as file:
                title = file.read()
        except OSError:  # gone since the listing
            continue
        command, _, rest = stat.partition(" (")[2].rpartition(") ")
        fields = rest.split()  # proc(5): state, ppid, pgrp, ..., utime (12th), stime (13th)
        if int(fields[2]) in groups:
            part = "servers"
        elif command == "postgres" and f" {servers.database} ".encode() in title:
            part = "database"
        else:
            continue
        totals[part] += int(fields[11]) + int(fields[12])
    return {part: ticks / CLOCK_TICKS for part, ticks in totals.items()}


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


if __name__ == "__main__":
    main()
