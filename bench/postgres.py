"""What the benchmarks need of the PostgreSQL server they run against: a scratch database, and a backend's CPU."""

import contextlib
import os
from collections.abc import Iterator

import psycopg

ADMIN_DATABASE_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")


@contextlib.contextmanager
def scratch_database(admin_url: str, name: str) -> Iterator[str]:
    """A new database ``name``, made through ``admin_url`` and dropped at the end (its connections closed by force);
    yields its URL."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def backend_cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) the backend ``pid`` has used, from ``/proc``: the server must run on this
    machine."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
