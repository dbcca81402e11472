# The production image: gunicorn (HTTP) and manage.py grpcserver (gRPC) under scripts/serve.sh, as a user without
# privileges. Build: docker build -t ubi . ; run with compose.yaml, or give it the variables of docs/operations.md,
# "Production". Migrations are a step of their own: docker run ... ubi .venv/bin/python manage.py migrate --noinput

# --- Build: the virtual environment, where the running image has it (scripts/serve.sh runs .venv/bin/...) ----------
FROM python:3.11-slim AS build
WORKDIR /app
COPY requirements.txt ./
RUN python -m venv .venv \
    && .venv/bin/pip install --no-cache-dir --disable-pip-version-check -r requirements.txt

# --- Run ----------------------------------------------------------------------------------------------------------
FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home ubi \
    && mkdir -p /app/var \
    && chown ubi:ubi /app/var
WORKDIR /app
COPY --from=build /app/.venv .venv
COPY manage.py gunicorn.conf.py ./
COPY scripts/serve.sh scripts/serve.sh
COPY project project
COPY runtime runtime
COPY observability observability
COPY accounts accounts
COPY oauth oauth
COPY insights insights
COPY analytics analytics
COPY lifecycle lifecycle
COPY rest_api rest_api
COPY collector collector
COPY grpc_api grpc_api
# Production by default (a missing secret stops the start), listening on every interface of the container.
ENV UBI_ENV=production \
    HTTP_ADDRESS=0.0.0.0:8000 \
    GRPC_ADDRESS=0.0.0.0:50051 \
    VAR_DIR=/app/var \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER ubi
EXPOSE 8000 50051
# /healthz: the process answers (no database); readiness is /readyz's, for an orchestrator to route by.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD [".venv/bin/python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# serve.sh drains both servers on SIGTERM (docker stop): give it GRACEFUL_TIMEOUT and more (stop_grace_period).
STOPSIGNAL SIGTERM
CMD ["bash", "scripts/serve.sh"]
