#!/usr/bin/env bash
# The README's second command: install the test requirements and run the whole suite.
# Set DATABASE_URL (PostgreSQL) and REDIS_URL to run it against them; extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
ensure_venv requirements-dev.txt

status=0
.venv/bin/python -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: failing, since a run that tests nothing proves nothing." >&2
fi
exit "$status"
