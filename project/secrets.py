"""Development secrets that must survive restarts but must never be committed."""

import os
import secrets
from pathlib import Path


def persistent_file(path: Path, make) -> bytes:
    """Return the bytes kept at ``path``, creating them once with ``make()`` (owner-only permissions).

    Creation is exclusive, so two processes starting together agree on one value.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as handle:
        value = make()
        handle.write(value)
    return value


def persistent_secret(path: Path) -> str:
    return persistent_file(path, lambda: secrets.token_urlsafe(50).encode()).decode().strip()
