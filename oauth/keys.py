"""The key that signs access tokens, and the public keys that verify them (published at the JWKS endpoint).

Production passes the private key in ``JWT_PRIVATE_KEY`` (PEM). Development generates an EC P-256 key into
``JWT_PRIVATE_KEY_FILE`` on first start and keeps it, so tokens survive restarts. ES256 because signing is cheap
(the token endpoint signs per request) and jwt.io and every JOSE library verify it.
"""

import base64
import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.signals import setting_changed
from jwcrypto.jwk import JWK
from jwt.algorithms import ECAlgorithm
from oauth2_provider.settings import oauth2_settings

from project.secrets import ec_private_key_pem, persistent_file

ALGORITHM = "ES256"
# ID tokens (OpenID Connect) are django-oauth-toolkit's, signed RS256 with OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"]:
# RS256 is the one algorithm every relying party must accept (OpenID Connect Core §15.1).
ID_TOKEN_ALGORITHM = "RS256"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: ec.EllipticCurvePrivateKey
    public_key: ec.EllipticCurvePublicKey

    def public_jwk(self) -> dict:
        jwk = json.loads(ECAlgorithm.to_jwk(self.public_key))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": ALGORITHM}


@functools.cache
def signing_key() -> SigningKey:
    pem = settings.JWT_PRIVATE_KEY.encode() or persistent_file(Path(settings.JWT_PRIVATE_KEY_FILE), ec_private_key_pem)
    private_key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or private_key.curve.name != "secp256r1":
        raise ValueError("JWT_PRIVATE_KEY must be an EC P-256 private key (ES256).")
    public_key = private_key.public_key()
    return SigningKey(kid=_thumbprint(public_key), private_key=private_key, public_key=public_key)


def _thumbprint(public_key) -> str:
    """RFC 7638 thumbprint: a ``kid`` that changes exactly when the key does."""
    jwk = json.loads(ECAlgorithm.to_jwk(public_key))
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def verification_keys() -> dict[str, ec.EllipticCurvePublicKey]:
    """Public keys by ``kid``. One today; a rotation would list the previous key here until its tokens expire."""
    key = signing_key()
    return {key.kid: key.public_key}


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
    """Every public key: the access tokens' (``ALGORITHM``) and the ID tokens' (``ID_TOKEN_ALGORITHM``)."""
    id_token_key = id_token_public_jwk()
    return {"keys": [signing_key().public_jwk(), *([id_token_key] if id_token_key else [])]}


def _reset(*, setting, **kwargs):
    if setting in {"JWT_PRIVATE_KEY", "JWT_PRIVATE_KEY_FILE"}:
        signing_key.cache_clear()
    if setting == "OAUTH2_PROVIDER":  # holds OIDC_ENABLED and OIDC_RSA_PRIVATE_KEY
        id_token_public_jwk.cache_clear()


setting_changed.connect(_reset)
