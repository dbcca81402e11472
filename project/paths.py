"""Where the project and a deployment's own files are: read by the settings and by gunicorn's configuration.

``VAR_DIR`` holds what a deployment writes for itself (the SQLite database, generated keys, the file cache, the
gunicorn control socket): ``var/`` in the checkout unless the environment names another folder.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
# The public .proto files: compiled by grpc_api.codegen, served for download under /api/v1/protos/.
PROTOS_DIR = BASE_DIR / "grpc_api" / "protos"
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
