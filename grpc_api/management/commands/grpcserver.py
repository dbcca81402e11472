"""``manage.py grpcserver``: serve the gRPC API until SIGTERM, which lets in-flight calls finish first."""

import logging

from django.core.management.base import BaseCommand, CommandError

from grpc_api.server import serve, serve_processes
from project.conf import ubi_settings

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Serve user_behavior_insights.v1.UserBehaviorInsightsService with health and reflection. SIGTERM or "
        "SIGINT stops taking calls and gives those in flight the grace period to finish."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--address",
            default=ubi_settings.GRPC_ADDRESS,
            help="HOST:PORT to listen on (default: %(default)s; 0.0.0.0:PORT or [::]:PORT serves other machines too)",
        )
        parser.add_argument(
            "--processes", type=int, default=1, help="server processes sharing the port with SO_REUSEPORT (default: 1)"
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=ubi_settings.GRPC_THREADS,
            help="calls each process serves at once (default: %(default)s)",
        )
        parser.add_argument(
            "--grace",
            type=float,
            default=ubi_settings.GRPC_GRACE_SECONDS,
            help="seconds in-flight calls get to finish after SIGTERM (default: %(default)s)",
        )
        parser.add_argument("--tls-cert", metavar="FILE", help="PEM certificate chain: serve TLS (with --tls-key)")
        parser.add_argument("--tls-key", metavar="FILE", help="PEM private key of --tls-cert")

    def handle(self, *args, address, processes, threads, grace, tls_cert, tls_key, **options):
        if bool(tls_cert) != bool(tls_key):
            raise CommandError("--tls-cert and --tls-key go together.")
        if processes < 1 or threads < 1:
            raise CommandError("--processes and --threads must be at least 1.")
        if processes > 1 and address.rpartition(":")[2] == "0":
            raise CommandError("Several processes share one fixed port: give --address a port other than 0.")
        serve_options = {"grace": grace, "threads": threads}
        if tls_cert:
            serve_options.update(certificate_chain=_read(tls_cert), private_key=_read(tls_key))
        # A log record, not a print: the server's output is its log, one JSON object a line.
        logger.info(
            "gRPC on %s (%d process(es), %d threads each, TLS %s)", address, processes, threads, "on" if tls_cert else "off"
        )
        if processes == 1:
            serve(address, **serve_options)
        elif status := serve_processes(processes, address, **serve_options):
            raise CommandError(f"A gRPC server process exited with status {status}.")


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}") from None
