"""The gRPC health service (``grpc.health.v1.Health``) of a server process: ``SERVING`` while the process is ready
(``runtime.health``: database, caches, migrations), ``NOT_SERVING`` while a check fails, and for good from the moment
the process starts draining (SIGTERM).

Readiness is checked by a thread every ``HEALTH_CHECK_INTERVAL_SECONDS``, not on each ``Check`` call: a probe then
costs no database round trip however many load balancers and kubelets probe, a database that hangs delays no probe
past its deadline, and ``Watch`` streams hear of a change when it happens. The price is that a change shows up to one
interval late.
"""

from grpc_health.v1 import health, health_pb2

from grpc_api.interceptors import SERVICE_NAME
from runtime.health import Monitor, start_draining

SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING
SERVICES = ("", SERVICE_NAME)  # "": the server as a whole


class ServerHealth:
    """The health servicer of one server, ``SERVING`` until told otherwise."""

    def __init__(self):
        self.servicer = health.HealthServicer()
        self._monitor = None
        self._set(SERVING)

    def watch_readiness(self, interval: float) -> None:
        """Check readiness now (so that the first probe's answer is true), then every ``interval`` seconds."""
        self._monitor = Monitor(interval, self._report)
        self._monitor.start()

    def drain(self) -> None:
        """``NOT_SERVING`` from now on, whatever the checks say: the process is stopping."""
        start_draining()
        self.servicer.enter_graceful_shutdown()
        if self._monitor is not None:
            self._monitor.stop()

    def _report(self, failures: dict[str, str]) -> None:
        self._set(NOT_SERVING if failures else SERVING)

    def _set(self, status) -> None:
        for service in SERVICES:
            self.servicer.set(service, status)  # ignored once draining: enter_graceful_shutdown holds
