"""Where the project and a deployment's own files are: read by the settings and by gunicorn's configuration.

``VAR_DIR`` holds what a deployment writes for itself (the SQLite database, generated keys, the file cache, the
gunicorn control socket): ``var/`` in the checkout unless the environment names another folder.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
