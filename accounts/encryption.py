"""Secrets the platform must read back in clear, kept encrypted at rest: TOTP secrets, SSO client secrets, the
private keys of rotated signing keys.

Passwords and our own client secrets are only ever compared, so they are hashed. These are different: a TOTP
secret makes the expected code, an organisation's SSO client secret is sent to its identity provider, a signing key
signs. So they are stored encrypted (Fernet: AES-128-CBC with an HMAC) under a key derived from ``SECRET_KEY`` and a
purpose, so a database dump alone yields nothing and one kind of secret never decrypts as another.

``SECRET_KEY`` is rotated through Django's ``SECRET_KEY_FALLBACKS``: ``decrypt`` reads what any of those keys
encrypted, ``encrypt`` always uses ``SECRET_KEY``, and ``reencrypt`` turns an old value into one under
``SECRET_KEY`` (``manage.py reencrypt_secrets`` does it for every field in ``ENCRYPTED_FIELDS``). A value none of
the keys can read makes ``decrypt`` answer ``None``: the secret must be entered again.
"""

import base64
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.crypto import salted_hmac


@dataclass(frozen=True)
class EncryptedField:
    model: str  # "app_label.ModelName"
    field: str
    purpose: str


# Every field holding ``encrypt`` output, registered by the app that owns it (its AppConfig.ready), so that
# ``manage.py reencrypt_secrets`` finds them all.
ENCRYPTED_FIELDS: list[EncryptedField] = []


def register(model: str, field: str, *, purpose: str) -> None:
    entry = EncryptedField(model, field, purpose)
    if entry not in ENCRYPTED_FIELDS:
        ENCRYPTED_FIELDS.append(entry)


def _fernet(purpose: str, secret: str) -> Fernet:
    key = salted_hmac(purpose, "v1", secret=secret, algorithm="sha256")
    return Fernet(base64.urlsafe_b64encode(key.digest()))


def _current(purpose: str) -> Fernet:
    return _fernet(purpose, settings.SECRET_KEY)


def _any(purpose: str) -> MultiFernet:
    """``SECRET_KEY`` first, then each fallback: MultiFernet encrypts with the first and decrypts with any."""
    secrets = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return MultiFernet([_fernet(purpose, secret) for secret in secrets])


def encrypt(value: str, *, purpose: str) -> str:
    return _current(purpose).encrypt(value.encode()).decode()


def decrypt(stored: str, *, purpose: str) -> str | None:
    """The clear value, or ``None`` when nothing (readable) is stored."""
    if not stored:
        return None
    try:
        return _any(purpose).decrypt(stored.encode()).decode()
    except InvalidToken:
        return None


class Unreadable(Exception):
    """A stored value that neither ``SECRET_KEY`` nor any of ``SECRET_KEY_FALLBACKS`` decrypts."""


def reencrypt(stored: str, *, purpose: str) -> str | None:
    """``stored`` encrypted under ``SECRET_KEY``; ``None`` when it already is (or is empty). Raises ``Unreadable``."""
    if not stored:
        return None
    try:
        _current(purpose).decrypt(stored.encode())
        return None
    except InvalidToken:
        pass
    try:
        return _any(purpose).rotate(stored.encode()).decode()
    except InvalidToken:
        raise Unreadable() from None
