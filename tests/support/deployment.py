"""A production deployment for the fault tests: a throwaway PostgreSQL cluster made with ``initdb``, an optional
throwaway Redis, the production servers (``scripts/serve.sh``: gunicorn and ``manage.py grpcserver``) on a database
of their own, and load threads that track events over REST and gRPC and remember every answer.

The fixtures (``cluster``, ``redis_server``, ``deployment``) are imported by the modules that use them.
"""

import collections
import glob
import itertools
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import grpc
import psycopg
import pytest
import requests
from grpc_health.v1 import health_pb2, health_pb2_grpc

from grpc_api.convert import fill_message
from grpc_api.generated import user_behavior_insights_pb2 as ubi
from grpc_api.generated import user_behavior_insights_service_pb2 as rpc
from grpc_api.generated import user_behavior_insights_service_pb2_grpc
from tests.support.paths import PROJECT
from tests.support.servers import stop_process_group
from tests.support.skips import skip_missing
from tests.support.threads import ThreadWithOutcome
from tests.support.ubi_documents import make_event

REFUSED = "refused"  # no HTTP answer at all: the connection was refused or dropped
CUT_OFF = "cut off"  # the answer's head arrived, its body did not: the process writing it was killed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """A PostgreSQL cluster of our own: ``initdb`` in a temporary folder, served on a free port of 127.0.0.1.

    ``initdb`` refuses to run as root, so as root every server command runs as the ``postgres`` OS user.
    """

    def __init__(self, bin_dir: Path, directory: Path):
        self.bin_dir, self.directory, self.port = bin_dir, directory, free_port()
        self.data = directory / "data"

    def run(self, program: str, *arguments: str) -> subprocess.CompletedProcess:
        command = [str(self.bin_dir / program), *arguments]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=60)

    def start(self) -> None:
        if self.run("pg_ctl", "status", "-D", str(self.data)).returncode == 0:
            return
        # fsync off: a stopped server loses nothing the kernel already has, and this machine's disk is shared.
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        done = self.run("pg_ctl", "start", "-w", "-D", str(self.data), "-l", str(self.directory / "log"), "-o", options)
        assert done.returncode == 0, done.stdout + done.stderr + self.log()

    def stop(self, mode: str = "fast") -> None:
        done = self.run("pg_ctl", "stop", "-w", "-D", str(self.data), "-m", mode)
        assert done.returncode == 0, done.stdout + done.stderr

    def log(self) -> str:
        path = self.directory / "log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')

    def stored_event_ids(self, database: str, event_ids) -> set[str]:
        with psycopg.connect(self.url(database)) as connection:
            rows = connection.execute(
                "SELECT event_id FROM insights_event WHERE event_id = ANY(%s)", (list(event_ids),)
            ).fetchall()
        return {event_id for (event_id,) in rows}


@pytest.fixture(scope="module")
def cluster():
    initdb = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(Path(path).parts[-3]))
    if not initdb:
        skip_missing("initdb", "PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb) are not installed")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            skip_missing("initdb", "running as root without a postgres OS user to run initdb as")
        if not shutil.which("runuser"):
            skip_missing("initdb", "running as root without runuser to run initdb as the postgres OS user")
    directory = Path(tempfile.mkdtemp(prefix="ubi-faults-"))
    cluster = Cluster(Path(initdb[-1]).parent, directory)
    try:
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
        created = cluster.run("initdb", "-D", str(cluster.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        if created.returncode != 0:
            skip_missing("initdb", f"it cannot run here: {created.stderr.strip()[-500:]}")
        cluster.start()
        yield cluster
    finally:
        cluster.run("pg_ctl", "stop", "-D", str(cluster.data), "-m", "immediate")  # in whatever state a test left it
        shutil.rmtree(directory, ignore_errors=True)


class RedisServer:
    """A throwaway ``redis-server`` on a free port of 127.0.0.1, without persistence: stopping it loses every key,
    as a Redis restarted without its dump does."""

    def __init__(self, directory: Path):
        self.port, self.directory, self.process = free_port(), directory, None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "redis-server exited early"
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.1)  # not listening yet
        pytest.fail("redis-server did not answer PING within 30 s")

    def kill(self) -> None:
        """Gone at once, as a crashed server is: SIGKILL."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)


@pytest.fixture
def redis_server(tmp_path):
    if not shutil.which("redis-server"):
        skip_missing("redis-server", "Debian: apt-get install redis-server")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()


class Deployment:
    """``scripts/serve.sh`` on free ports and on one database of ``cluster``, migrated, with a client's token
    (``credentials`` get more). Without ``redis_url`` the shared cache is the file cache in ``var_dir``."""

    def __init__(self, cluster: Cluster, database: str, var_dir: Path, *, redis_url: str = "", workers: int = 1):
        self.database = database
        cluster.create_database(database)
        self.http, self.grpc = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
        self.env = {
            **{key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE"}},
            "DATABASE_URL": cluster.url(database),
            "VAR_DIR": str(var_dir),
            "HTTP_ADDRESS": self.http,
            "OAUTH_ISSUER": f"http://{self.http}",
            "GRPC_ADDRESS": self.grpc,
            **({"REDIS_URL": redis_url} if redis_url else {}),
            "WEB_CONCURRENCY": str(workers),
            "GRPC_PROCESSES": "1",
            # One client carries every load thread's streams and the slow one: more than one caller may hold.
            "GRPC_MAX_STREAMS_PER_PRINCIPAL": "off",
            # Tests ask for tokens in bursts (one per new connection, to reach every worker), which fixed windows of
            # 20 a second may split unluckily; the token endpoint's limits have their own tests.
            "TOKEN_RATE_LIMIT_PER_CLIENT": "off",
            "TOKEN_RATE_LIMIT_PER_ADDRESS": "off",
            "PYTHONUNBUFFERED": "1",
        }
        self.manage("migrate", "--noinput", "-v0")
        self.credentials = json.loads(
            self.manage("create_app_client", "--org", "Faults", "--name", "load", "--roles", "insights:write", "--json")
        )
        self.output_path = var_dir / "serve.log"
        with open(self.output_path, "w") as output:
            self.process = subprocess.Popen(
                ["bash", "scripts/serve.sh"], cwd=PROJECT, env=self.env, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_until_serving()
        self.token = self.new_token()

    def new_token(self) -> str:
        answer = requests.post(
            f"http://{self.http}/oauth2/token", data={"grant_type": "client_credentials", **self.credentials},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["access_token"]

    def manage(self, *arguments: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *arguments], cwd=PROJECT, env=self.env, capture_output=True, text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def _wait_until_serving(self, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"serve.sh exited early:\n{self.output()}"
            try:
                requests.get(f"http://{self.http}/.well-known/jwks.json", timeout=10).raise_for_status()
                with grpc.insecure_channel(self.grpc) as channel:
                    health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
                assert health.status == health_pb2.HealthCheckResponse.SERVING
                return
            except (requests.RequestException, grpc.RpcError):
                time.sleep(0.5)  # not listening yet, or still loading Django on a busy machine
        pytest.fail(f"serve.sh did not serve within {seconds} s:\n{self.output()}")

    def output(self) -> str:
        return self.output_path.read_text(errors="replace")[-5000:]

    def server_pids(self) -> dict[str, int]:
        """The pids of the gunicorn worker and the grpcserver process under ``serve.sh``."""
        children = collections.defaultdict(list)
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                parent = int(Path(stat).read_text().rsplit(")", 1)[1].split()[1])  # after the name: state, ppid
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
            children[parent].append(int(Path(stat).parent.name))

        def running(pids, word):
            return [pid for pid in pids if word in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")]

        (master,) = running(children[self.process.pid], "gunicorn")
        (grpc_server,) = running(children[self.process.pid], "grpcserver")
        (worker,) = children[master]
        return {"gunicorn worker": worker, "grpcserver": grpc_server}

    def stop(self) -> None:
        stop_process_group(self.process)


@pytest.fixture
def deployment(cluster, tmp_path):
    deployment = Deployment(cluster, f"ubi_{uuid.uuid4().hex[:12]}", tmp_path)
    yield deployment
    deployment.stop()


@pytest.fixture(params=["redis", "file cache"])
def shared_state_deployment(request, cluster, tmp_path):
    """Two gunicorn workers and a ``grpcserver`` that share their state (revocations, key generations) through a
    throwaway Redis, or through the file cache in VAR_DIR without one."""
    redis_url = request.getfixturevalue("redis_server").url if request.param == "redis" else ""
    deployment = Deployment(cluster, f"ubi_{uuid.uuid4().hex[:12]}", tmp_path, redis_url=redis_url, workers=2)
    yield deployment
    deployment.stop()


# Requests on new connections, each taken by whichever worker accepts first: with two workers, 1 in 2**20 that the
# same worker takes them all.
REQUESTS_ON_NEW_CONNECTIONS = 20


def rest_statuses(deployment: Deployment, token: str) -> set[int]:
    """The answers to ``REQUESTS_ON_NEW_CONNECTIONS`` reads with ``token``, each on a new connection."""
    return {
        requests.get(
            f"http://{deployment.http}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=30
        ).status_code
        for _ in range(REQUESTS_ON_NEW_CONNECTIONS)
    }


def grpc_code(deployment: Deployment, token: str) -> grpc.StatusCode:
    """The status of one ``TrackQuery`` with ``token`` on the deployment's gRPC server."""
    with grpc.insecure_channel(deployment.grpc) as channel:
        stub = user_behavior_insights_service_pb2_grpc.UserBehaviorInsightsServiceStub(channel)
        try:
            stub.TrackQuery(
                rpc.TrackQueryRequest(query=ubi.Query(user_query="across processes")),
                metadata=(("authorization", f"Bearer {token}"),), timeout=30,
            )
        except grpc.RpcError as error:
            return error.code()
    return grpc.StatusCode.OK


class Load:
    """Threads tracking events over REST and gRPC until stopped, alternating single events and batches of three.

    Every event carries its own ``event_id``. ``acknowledged`` holds those answered 2xx / OK; ``answers`` lists
    every answer as ``(protocol, status)``, in order, so a phase of the test can be told apart from the others.
    """

    def __init__(self, deployment: Deployment, threads_per_protocol: int = 2):
        self.deployment = deployment
        self.acknowledged: list[str] = []
        self.answers: list[tuple[str, object]] = []
        self._stopping = threading.Event()
        self._threads = [
            ThreadWithOutcome(target, f"{name}{n}")
            for name, target in (("rest", self._rest), ("grpc", self._grpc))
            for n in range(threads_per_protocol)
        ]

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stopping.set()
        for thread in self._threads:
            thread.outcome(60)  # an error inside a load thread fails the test

    def _batches(self, name):
        for n in itertools.count():
            if self._stopping.is_set():
                return
            yield [make_event(event_id=f"{name}-{n}-{k}") for k in range(1 if n % 2 else 3)]
            time.sleep(0.01)  # two cores, shared with the servers

    def _rest(self, name):
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.deployment.token}"
        for batch in self._batches(name):
            try:
                answer = session.post(
                    f"http://{self.deployment.http}/api/v1/ubi/events", json=batch if len(batch) > 1 else batch[0],
                    timeout=30,
                )
                status = answer.status_code
                if status == 503 and not (
                    answer.headers["Content-Type"] == "application/problem+json" and answer.headers.get("Retry-After")
                ):
                    status = "503 without problem details and Retry-After"
            except requests.ConnectionError:
                status = REFUSED
            except requests.exceptions.ChunkedEncodingError:
                status = CUT_OFF
            except requests.RequestException as error:  # a timeout, say: recorded, for the test to fail on
                status = type(error).__name__
            self._record("rest", status, batch, ok=status == 201)

    def _grpc(self, name):
        metadata = (("authorization", f"Bearer {self.deployment.token}"),)
        with grpc.insecure_channel(self.deployment.grpc) as channel:
            stub = user_behavior_insights_service_pb2_grpc.UserBehaviorInsightsServiceStub(channel)
            for batch in self._batches(name):
                messages = [fill_message(ubi.Event(), event) for event in batch]
                try:
                    if len(batch) > 1:
                        stub.TrackEvents(iter([rpc.TrackEventsRequest(events=messages)]), metadata=metadata, timeout=30)
                    else:
                        stub.TrackEvent(rpc.TrackEventRequest(event=messages[0]), metadata=metadata, timeout=30)
                    status = grpc.StatusCode.OK
                except grpc.RpcError as error:
                    # UNAVAILABLE from our servers says when to retry; from the channel (no server), it does not.
                    server_said = "retry-after" in dict(error.trailing_metadata() or ())
                    status = error.code() if server_said or error.code() != grpc.StatusCode.UNAVAILABLE else REFUSED
                self._record("grpc", status, batch, ok=status == grpc.StatusCode.OK)

    def _record(self, protocol, status, batch, *, ok):
        if ok:
            self.acknowledged.extend(event["event_id"] for event in batch)
        self.answers.append((protocol, status))

    def wait_for_acknowledged(self, after: int = 0, *, seconds: float = 60) -> None:
        """Until each protocol has had a 2xx / OK among the answers past index ``after``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if {"rest", "grpc"} <= {protocol for protocol, status in self.answers[after:] if status in (201, grpc.StatusCode.OK)}:
                return
            time.sleep(0.1)
        pytest.fail(f"no 2xx / OK over both protocols within {seconds} s: {collections.Counter(self.answers[after:])}")

    def wait_for(self, answers: set, *, after: int, seconds: float = 60) -> None:
        """Until every answer of ``answers`` (``(protocol, status)``) is among those past index ``after``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if answers <= set(self.answers[after:]):
                return
            time.sleep(0.1)
        pytest.fail(f"not all of {answers} within {seconds} s: {collections.Counter(self.answers[after:])}")

    def statuses(self, start: int = 0, end: int | None = None) -> collections.Counter:
        return collections.Counter(self.answers[start:end])
