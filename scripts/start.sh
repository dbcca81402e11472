#!/usr/bin/env bash
# The README's first command: install, migrate, create the demo organisation, then serve HTTP and gRPC.
#   HTTP_ADDRESS (default 127.0.0.1:8000), GRPC_ADDRESS (default 127.0.0.1:50051), WEB_CONCURRENCY (workers).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
ensure_venv requirements.txt

HTTP_ADDRESS="${HTTP_ADDRESS:-127.0.0.1:8000}"
GRPC_ADDRESS="${GRPC_ADDRESS:-127.0.0.1:50051}"
export OAUTH_ISSUER="${OAUTH_ISSUER:-http://${HTTP_ADDRESS}}"

.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py bootstrap_demo

.venv/bin/python manage.py grpcserver --address "$GRPC_ADDRESS" &
grpc_pid=$!
trap 'kill -TERM "$grpc_pid" 2>/dev/null; wait "$grpc_pid" 2>/dev/null' EXIT
trap 'exit 0' TERM INT

echo "HTTP on http://${HTTP_ADDRESS} (admin at /admin/, API reference at /api/v1/docs), gRPC on ${GRPC_ADDRESS}"
.venv/bin/gunicorn project.wsgi \
  --bind "$HTTP_ADDRESS" \
  --workers "${WEB_CONCURRENCY:-2}" --threads 4 \
  --graceful-timeout 20 --access-logfile - &
wait $!
