"""What operators watch: Prometheus metrics (``metrics``, served at ``/metrics`` by ``views`` to the scrapers
``access`` admits), one JSON log line per record (``logs``; gunicorn's own records through ``gunicorn_logs``), and
the request id and principal of the call being served (``calls``), which the HTTP middleware (``middleware``) and
gRPC's ``grpc_api.interceptors.ObservedCalls`` set. It imports only ``project``, so every app may count and log
through it."""
