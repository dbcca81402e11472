"""OpenTelemetry tracing of Django requests, gRPC calls, psycopg statements and Redis commands, off unless the
standard ``OTEL_*`` environment variables ask for it (``settings.TRACING_EXPORTERS``, docs/operations.md "Tracing").

Off, nothing of OpenTelemetry is imported, so a server pays nothing for it. On, each server process calls
``configure_tracing()`` once before it builds what the instrumentation wraps: a gunicorn worker before it loads the
WSGI application (``gunicorn.conf.py``'s ``post_fork``: Django's middleware is instrumented as it is loaded), a gRPC
server process before it makes its server (``grpc_api.server.serve``). Spans go through a batch processor to each
exporter named; the SDK reads the rest of the standard variables itself (``OTEL_SERVICE_NAME``,
``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_EXPORTER_OTLP_*``, ``OTEL_TRACES_SAMPLER``, ``OTEL_BSP_*``).
"""

from django.conf import settings

SERVICE_NAME = "user-behavior-insights"
# OTEL_TRACES_EXPORTER's names, to the entry points of the installed exporters: OTLP is sent over HTTP/protobuf.
EXPORTER_ENTRY_POINTS = {"otlp": "otlp_proto_http"}

_configured = False


def configure_tracing() -> bool:
    """Instrument this process and start exporting its spans, when the settings ask for it; whether it traces."""
    global _configured
    if _configured or not settings.TRACING_EXPORTERS:
        return _configured
    from opentelemetry import trace
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.grpc import GrpcInstrumentorServer
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create()  # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES
    if resource.attributes.get("service.name", "").startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": SERVICE_NAME}))
    provider = TracerProvider(resource=resource)
    for name in settings.TRACING_EXPORTERS:
        provider.add_span_processor(BatchSpanProcessor(_exporter_class(name)()))
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument()
    GrpcInstrumentorServer().instrument()
    PsycopgInstrumentor().instrument()
    RedisInstrumentor().instrument()
    _configured = True
    return True


def _exporter_class(name: str):
    from opentelemetry.util._importlib_metadata import entry_points

    entry_point = EXPORTER_ENTRY_POINTS.get(name, name)
    found = entry_points(group="opentelemetry_traces_exporter", name=entry_point)
    if not found:
        raise ValueError(f"OTEL_TRACES_EXPORTER names {name!r}, which no installed exporter provides.")
    return next(iter(found)).load()
