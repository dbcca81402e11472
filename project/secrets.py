"""Development secrets that must survive restarts but must never be committed."""

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa


def persistent_file(path: Path, make) -> bytes:
    """Return the bytes kept at ``path``, creating them once with ``make()`` (owner-only permissions).

    The file appears whole or not at all (written aside, then hard-linked into place), so a crash leaves nothing
    half-written and two processes starting together agree on the first value.
    """
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    draft = path.with_name(f".{path.name}.{os.getpid()}.draft")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(value)
    try:
        os.link(draft, path)
    except FileExistsError:
        value = path.read_bytes()
    finally:
        draft.unlink()
    return value


def persistent_secret(path: Path) -> str:
    return persistent_file(path, lambda: secrets.token_urlsafe(50).encode()).decode().strip()


def _pem(private_key) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def ec_private_key_pem() -> bytes:
    """A new EC P-256 private key (PKCS #8 PEM): what access tokens are signed with (ES256)."""
    return _pem(ec.generate_private_key(ec.SECP256R1()))


def rsa_private_key_pem() -> bytes:
    """A new RSA 2048 private key (PKCS #8 PEM): what OpenID Connect ID tokens are signed with (RS256)."""
    return _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
