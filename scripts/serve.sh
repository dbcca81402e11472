#!/usr/bin/env bash
# Serve HTTP (gunicorn, gunicorn.conf.py) and gRPC (manage.py grpcserver) until stopped; SIGTERM drains both.
#   HTTP_ADDRESS, WEB_CONCURRENCY (default 2 per core), WEB_THREADS (4)
#   GRPC_ADDRESS, GRPC_PROCESSES (default 1 per core)
#   PROMETHEUS_MULTIPROC_DIR (default var/prometheus): where every process keeps its metrics, emptied here at start
# Production sets UBI_ENV=production, DATABASE_URL, REDIS_URL, SECRET_KEY, JWT_PRIVATE_KEY, OIDC_RSA_PRIVATE_KEY,
# ALLOWED_HOSTS and OAUTH_ISSUER first (docs/operations.md, "Production").
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${UBI_ENV:-}" = production ]; then
  # Once, before either server starts: a setting that is missing stops the start here, with one message naming it.
  .venv/bin/python manage.py check --deploy --fail-level ERROR
fi

GRPC_ADDRESS="${GRPC_ADDRESS:-127.0.0.1:50051}"
GRPC_PROCESSES="${GRPC_PROCESSES:-$(nproc)}"
# Both servers' processes write their metrics there, and /metrics sums them (observability/metrics.py). The files
# of a previous run would be summed too: a new run starts from none.
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-${VAR_DIR:-var}/prometheus}"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -name '*.db' -delete

# The coming months' partitions exist before anything is tracked (PostgreSQL; nothing on SQLite): docs/data.md.
# Without them (the database out of reach at start), rows go to the DEFAULT partition and nothing is lost: serve.
.venv/bin/python manage.py ensure_partitions || echo "ensure_partitions failed: serving, rows go to the DEFAULT partition" >&2

.venv/bin/python manage.py grpcserver --address "$GRPC_ADDRESS" --processes "$GRPC_PROCESSES" &
grpc_pid=$!
.venv/bin/gunicorn --config gunicorn.conf.py project.wsgi &
http_pid=$!

# Stop both servers, letting in-flight calls finish; the status is 0 only when both drained cleanly.
stop_both() {
  kill -TERM "$http_pid" "$grpc_pid" 2>/dev/null || true
  status=0
  wait "$http_pid" || status=$?
  wait "$grpc_pid" || status=$?
}
trap 'stop_both; exit "$status"' TERM INT
echo "HTTP on http://${HTTP_ADDRESS:-127.0.0.1:8000} (admin /admin/, API reference /api/v1/docs), gRPC on ${GRPC_ADDRESS}"
# Whichever server exits first takes the other down with it, and the script fails, for its supervisor to see.
first=0
wait -n "$http_pid" "$grpc_pid" || first=$?
stop_both
exit $((first ? first : 1))
