"""The keys that sign access tokens, and the public keys that verify them (published at the JWKS endpoint).

ES256 because signing is cheap (the token endpoint signs per request) and jwt.io and every JOSE library verify it.

Two sources, one precedence:

- The configured key: production passes its PEM in ``JWT_PRIVATE_KEY``; without it, development generates an EC
  P-256 key into ``JWT_PRIVATE_KEY_FILE`` on first start and keeps it, so tokens survive restarts. It signs until a
  rotation replaces it.
- The rotated keys: ``manage.py rotate_signing_key`` (``oauth.key_rotation``) adds keys to the database
  (``oauth.models.SigningKey``, the private key encrypted by ``accounts.encryption``), and at the first rotation a
  row for the configured key (without its private half) that records when it retires.

A key signs from ``signs_from`` until ``signs_until`` (the configured key from the start, until a rotation replaces
it); should two overlap, the one that began last signs. Every key not retired verifies and is published, an
upcoming one included. The rows' times decide, so every process agrees on what a rotation scheduled (publication,
the switch, the retirement) without being told.

Each process keeps the keys it read, and reads them again when the signing-key generation in the ``shared`` cache is
not the one it read them under: every change to the rows sets a new generation once it commits, so a key added or
retired at once (``--retire-now``) reaches every process, gunicorn workers and gRPC servers alike, at its next
check, without a restart. A bearer check reads this generation and the revocations' in one cache lookup
(``oauth.principals``), a signature reads it alone; a generation missing from the cache counts as a new one, so
losing it costs a query.
"""

import base64
import functools
import hashlib
import json
import math
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from jwcrypto.jwk import JWK
from jwt.algorithms import ECAlgorithm
from oauth2_provider.settings import oauth2_settings

from accounts import encryption
from oauth import models
from project.secrets import ec_private_key_pem, persistent_file

ALGORITHM = "ES256"
# ID tokens (OpenID Connect) are django-oauth-toolkit's, signed RS256 with OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"]:
# RS256 is the one algorithm every relying party must accept (OpenID Connect Core §15.1).
ID_TOKEN_ALGORITHM = "RS256"
GENERATION_KEY = "signing-keys:generation"
# The purpose the stored private keys' encryption key is derived for (accounts.encryption).
PRIVATE_KEY_PURPOSE = "oauth.signing-key"
# The configured key's row says it has signed from here: before any rotated key.
FROM_THE_START = datetime(1970, 1, 1, tzinfo=UTC)

UPCOMING, ACTIVE, RETIRING, RETIRED = "upcoming", "active", "retiring", "retired"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    public_key: ec.EllipticCurvePublicKey
    private_key: ec.EllipticCurvePrivateKey | None  # None: this process cannot sign with it
    configured: bool = False  # JWT_PRIVATE_KEY or its file, rather than a rotation's row
    published_from: float = -math.inf  # timestamps
    signs_from: float = -math.inf
    signs_until: float = math.inf
    retires_at: float = math.inf
    revoked: bool = False

    def public_jwk(self) -> dict:
        jwk = json.loads(ECAlgorithm.to_jwk(self.public_key))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": ALGORITHM}

    def verifies(self, now: float) -> bool:
        return not self.revoked and now < self.retires_at

    def signs(self, now: float) -> bool:
        return self.private_key is not None and self.verifies(now) and self.signs_from <= now < self.signs_until


def load_private_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    private_key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or private_key.curve.name != "secp256r1":
        raise ValueError("JWT_PRIVATE_KEY must be an EC P-256 private key (ES256).")
    return private_key


def public_pem(public_key: ec.EllipticCurvePublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def thumbprint(public_key: ec.EllipticCurvePublicKey) -> str:
    """RFC 7638 thumbprint: a ``kid`` that changes exactly when the key does."""
    jwk = json.loads(ECAlgorithm.to_jwk(public_key))
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


@functools.cache
def configured_key() -> SigningKey:
    pem = settings.JWT_PRIVATE_KEY.encode() or persistent_file(Path(settings.JWT_PRIVATE_KEY_FILE), ec_private_key_pem)
    private_key = load_private_key(pem)
    public_key = private_key.public_key()
    return SigningKey(kid=thumbprint(public_key), public_key=public_key, private_key=private_key, configured=True)


def stored_keys() -> tuple[SigningKey, ...]:
    """Every key, read from the database now: the configured one and the rotations', retired ones included."""
    configured = configured_key()
    rows = list(models.SigningKey.objects.all())
    found = [_from_row(row, configured) for row in rows]
    return tuple(found if any(row.kid == configured.kid for row in rows) else [configured, *found])


def _from_row(row, configured: SigningKey) -> SigningKey:
    if row.private_key:
        pem = encryption.decrypt(row.private_key, purpose=PRIVATE_KEY_PURPOSE)
        private_key = load_private_key(pem.encode()) if pem else None  # None: SECRET_KEY changed without fallback
    else:
        private_key = configured.private_key if row.kid == configured.kid else None
    return SigningKey(
        kid=row.kid,
        public_key=serialization.load_pem_public_key(row.public_key.encode()),
        private_key=private_key,
        configured=not row.private_key,
        published_from=row.created.timestamp(),
        signs_from=row.signs_from.timestamp(),
        signs_until=row.signs_until.timestamp() if row.signs_until else math.inf,
        retires_at=row.retires_at.timestamp() if row.retires_at else math.inf,
        revoked=row.revoked,
    )


class _Read:
    """The keys this process has read, and under which generation."""

    def __init__(self):
        self.keys: tuple[SigningKey, ...] = ()
        self.generation: str | None = None


_read = _Read()
_reading = threading.Lock()


def _cache():
    return caches["shared"]


def current_keys() -> tuple[SigningKey, ...]:
    """The keys as of the latest change any process made to them."""
    return keys_under(_cache().get(GENERATION_KEY))


def keys_under(generation: str | None) -> tuple[SigningKey, ...]:
    """The keys, read again unless this process read them under ``generation``, the value of ``GENERATION_KEY`` the
    caller has just read from the shared cache."""
    if generation is None or generation != _read.generation:
        _read_keys(generation)
    return _read.keys


def _read_keys(generation: str | None) -> None:
    """The generation is read before the rows, so the rows are at least as new as the generation kept with them."""
    with _reading:
        if generation is not None and generation == _read.generation:
            return  # another thread read them meanwhile
        if generation is None:
            _cache().add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
            generation = _cache().get(GENERATION_KEY)
        _read.keys = stored_keys()
        _read.generation = generation


def changed() -> None:
    """Call once a change to the rows has committed: every process reads them again at its next check."""
    _cache().set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)


def signer(keys: tuple[SigningKey, ...], now: float) -> SigningKey | None:
    """Of the keys that sign at ``now`` and this process can sign with, the one whose ``signs_from`` came last."""
    return max((key for key in keys if key.signs(now)), key=lambda key: key.signs_from, default=None)


def signing_key() -> SigningKey:
    key = signer(current_keys(), time.time())
    if key is None:
        raise ImproperlyConfigured("No signing key can sign: run manage.py rotate_signing_key --publish-ahead 0.")
    return key


def verification_keys() -> dict[str, ec.EllipticCurvePublicKey]:
    """Public keys by ``kid``: every key not retired, the one that signs, an upcoming one, the retiring ones."""
    now = time.time()
    return {key.kid: key.public_key for key in current_keys() if key.verifies(now)}


def verifies(kid: str, generation: str | None) -> bool:
    """Whether tokens of ``kid`` are still taken (a retired key's are refused, whatever their expiry); ``generation``
    as for ``keys_under``."""
    now = time.time()
    return any(key.kid == kid and key.verifies(now) for key in keys_under(generation))


def state(key: SigningKey, keys: tuple[SigningKey, ...], now: float) -> str:
    if not key.verifies(now):
        return RETIRED
    if now < key.signs_from:
        return UPCOMING
    active = signer(keys, now)
    return ACTIVE if active is not None and active.kid == key.kid else RETIRING


@functools.cache
def id_token_public_jwk() -> dict | None:
    """The public half of the ID-token key, with the ``kid`` django-oauth-toolkit puts in ID-token headers (its
    RFC 7638 thumbprint); ``None`` when OpenID Connect is off. Worked out once, not per JWKS request."""
    pem = oauth2_settings.OIDC_RSA_PRIVATE_KEY if oauth2_settings.OIDC_ENABLED else ""
    if not pem:
        return None
    key = JWK.from_pem(pem.encode())
    return {**key.export_public(as_dict=True), "kid": key.thumbprint(), "use": "sig", "alg": ID_TOKEN_ALGORITHM}


def jwks() -> dict:
    """Every public key: the access tokens' (``ALGORITHM``) that verify, and the ID tokens' (``ID_TOKEN_ALGORITHM``)."""
    now = time.time()
    access_token_keys = [key.public_jwk() for key in current_keys() if key.verifies(now)]
    id_token_key = id_token_public_jwk()
    return {"keys": [*access_token_keys, *([id_token_key] if id_token_key else [])]}


def _reset(*, setting, **kwargs):
    if setting in {"JWT_PRIVATE_KEY", "JWT_PRIVATE_KEY_FILE", "SECRET_KEY", "SECRET_KEY_FALLBACKS"}:
        configured_key.cache_clear()
        _read.generation = None  # read the keys again, with the new configured key or decryption keys
    if setting == "OAUTH2_PROVIDER":  # holds OIDC_ENABLED and OIDC_RSA_PRIVATE_KEY
        id_token_public_jwk.cache_clear()


setting_changed.connect(_reset)
