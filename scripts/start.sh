#!/usr/bin/env bash
# The README's first command: install, migrate, create the demo organisation and, once, a few hundred simulated
# searches for it (so its dashboard is not empty), then serve HTTP and gRPC.
# Runs on the embedded default (SQLite in var/, in-process cache) unless DATABASE_URL / REDIS_URL are set.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
ensure_venv requirements.txt

export HTTP_ADDRESS="${HTTP_ADDRESS:-127.0.0.1:8000}"
export OAUTH_ISSUER="${OAUTH_ISSUER:-http://${HTTP_ADDRESS}}"
export WEB_CONCURRENCY="${WEB_CONCURRENCY:-2}"
export GRPC_PROCESSES="${GRPC_PROCESSES:-1}"
# The demo's logs are read in a terminal; production's default is JSON lines (docs/operations.md, "Logs").
export LOG_FORMAT="${LOG_FORMAT:-text}"

.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py bootstrap_demo
.venv/bin/python manage.py generate_demo_data --org Demo --queries 300 --sessions 60 --if-empty
exec bash scripts/serve.sh
