"""The gRPC server: ``UserBehaviorInsightsService`` behind its interceptors, with health and reflection.

``create_server`` builds one (tests bind port 0 and read the port it returns); ``serve`` runs one until SIGTERM or
SIGINT; ``serve_processes`` runs several on one port (``SO_REUSEPORT``), which ``manage.py grpcserver`` uses.
"""

import logging
import multiprocessing
import os
import time
from concurrent import futures

import grpc
from django.db import connections
from grpc_health.v1 import health_pb2, health_pb2_grpc

from grpc_api.generated import user_behavior_insights_service_pb2_grpc
from grpc_api.health import ServerHealth
from grpc_api.interceptors import SERVICE_NAME, server_interceptors
from grpc_api.reflection import enable_server_reflection
from grpc_api.servicer import UserBehaviorInsightsService
from grpc_api.shutdown import receive_stop_signals, wait_for_stop
from observability.metrics import forget_process
from project.conf import ubi_settings
from runtime.tracing import configure_tracing
from runtime.warmup import settle

logger = logging.getLogger(__name__)

HEALTH_SERVICE_NAME = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
# grpc's own limit of a received message, in ``MAX_REQUEST_BYTES``. Up to it, our check answers a message over
# ``MAX_REQUEST_BYTES`` (OUT_OF_RANGE, naming the limit: grpc_api.streams). Past it, grpc refuses the message from
# its length alone, reading none of it, with the one code it has for that (RESOURCE_EXHAUSTED).
RECEIVE_LIMIT_FACTOR = 2


def create_server(
    address: str,
    *,
    threads: int | None = None,
    certificate_chain: bytes | None = None,
    private_key: bytes | None = None,
    reuse_port: bool = False,
    server_health: ServerHealth | None = None,
) -> tuple[grpc.Server, int]:
    """A server bound to ``address``, not started yet, and the port it bound (``HOST:0`` picks a free one).

    TLS when ``certificate_chain`` and ``private_key`` (PEM) are given. ``reuse_port`` lets other processes bind
    the same port; off, a port already in use is an error instead of a silent share. The request limits in
    ``settings.UBI`` that grpc enforces itself (``RECEIVE_LIMIT_FACTOR``) and the streams a principal may hold
    (``grpc_api.streams.StreamSlots``) are read here, once. The health service is ``server_health``'s, or one that
    always says ``SERVING``.
    """
    threads = threads or ubi_settings.GRPC_THREADS
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="grpc"),
        interceptors=server_interceptors(threads=threads),
        options=[
            ("grpc.so_reuseport", int(reuse_port)),
            ("grpc.max_receive_message_length", RECEIVE_LIMIT_FACTOR * ubi_settings.MAX_REQUEST_BYTES),
        ],
    )
    user_behavior_insights_service_pb2_grpc.add_UserBehaviorInsightsServiceServicer_to_server(
        UserBehaviorInsightsService.as_servicer(), server
    )
    health_pb2_grpc.add_HealthServicer_to_server((server_health or ServerHealth()).servicer, server)
    enable_server_reflection((SERVICE_NAME, HEALTH_SERVICE_NAME), server)
    if certificate_chain and private_key:
        credentials = grpc.ssl_server_credentials([(private_key, certificate_chain)])
        port = server.add_secure_port(address, credentials)
    else:
        port = server.add_insecure_port(address)
    return server, port


def serve(address: str, *, grace: float, **server_options) -> None:
    """Serve until SIGTERM or SIGINT; then say ``NOT_SERVING``, take calls ``GRPC_DRAIN_SECONDS`` longer, refuse new
    ones and give those in flight ``grace`` seconds to finish. Health follows readiness meanwhile (``ServerHealth``).
    """
    stop_receiver = receive_stop_signals()
    configure_tracing()  # before the server is made: its instrumentation wraps grpc.server
    server_health = ServerHealth()
    server, port = create_server(address, server_health=server_health, **server_options)
    settle()
    server_health.watch_readiness(ubi_settings.HEALTH_CHECK_INTERVAL_SECONDS)
    server.start()
    logger.info("gRPC server (pid %d) serving on %s, port %d", os.getpid(), address, port)
    wait_for_stop(stop_receiver)
    server_health.drain()
    if drain := ubi_settings.GRPC_DRAIN_SECONDS:
        logger.info("gRPC server (pid %d) NOT_SERVING, taking calls %s seconds more", os.getpid(), drain)
        time.sleep(drain)  # a deliberate delay: load balancers notice NOT_SERVING meanwhile
    logger.info("gRPC server (pid %d) stopping; in-flight calls have %s seconds", os.getpid(), grace)
    server.stop(grace).wait()


def serve_processes(count: int, address: str, **serve_options) -> int:
    """Run ``serve`` in ``count`` processes sharing ``address``'s port; return their exit status.

    SIGTERM or SIGINT is passed on to every process, each of which drains as ``serve`` does. When one process
    exits on its own, the others are stopped too, so that whatever supervises this one sees the failure.
    """
    # Forked before any gRPC server or channel exists, and without the parent's database connections.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(target=serve, args=(address,), kwargs={**serve_options, "reuse_port": True}, name=f"grpc-{n}")
        for n in range(count)
    ]
    for worker in workers:
        worker.start()
    stop_receiver = receive_stop_signals()  # after forking: each worker takes the signals its own way
    wait_for_stop(stop_receiver, *(worker.sentinel for worker in workers))
    for worker in workers:
        if worker.is_alive():
            worker.terminate()
    for worker in workers:
        worker.join()
        forget_process(worker.pid)
    return next((worker.exitcode for worker in workers if worker.exitcode), 0)
