"""Secrets the platform must read back in clear, kept encrypted at rest: TOTP secrets, SSO client secrets.

Passwords and our own client secrets are only ever compared, so they are hashed. These two are different: a TOTP
secret makes the expected code, and an organisation's SSO client secret is sent to its identity provider. So they
are stored encrypted (Fernet: AES-128-CBC with an HMAC) under a key derived from ``SECRET_KEY`` and a purpose, so a
database dump alone yields nothing and one kind of secret never decrypts as another. Rotating ``SECRET_KEY``
makes them unreadable: ``decrypt`` then answers ``None`` and the secret must be entered again.
"""

import base64

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.utils.crypto import salted_hmac


def _fernet(purpose: str) -> Fernet:
    key = salted_hmac(purpose, "v1", secret=settings.SECRET_KEY, algorithm="sha256")
    return Fernet(base64.urlsafe_b64encode(key.digest()))


def encrypt(value: str, *, purpose: str) -> str:
    return _fernet(purpose).encrypt(value.encode()).decode()


def decrypt(stored: str, *, purpose: str) -> str | None:
    """The clear value, or ``None`` when nothing (readable) is stored."""
    if not stored:
        return None
    try:
        return _fernet(purpose).decrypt(stored.encode()).decode()
    except InvalidToken:
        return None
