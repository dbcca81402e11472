"""Bearer tokens that must be refused, made from a real client's good one."""

import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support import factories


def _foreign_key_token(app_client):
    """Right claims, signed by a key that is not ours (with our kid, to get past the key lookup)."""
    good = factories.bearer_for(app_client.client)
    header = jwt.get_unverified_header(good)
    other_key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return jwt.encode(jwt.decode(good, options={"verify_signature": False}), other_key, "ES256", headers=header)


def _tampered_token(app_client):
    header, payload, signature = factories.bearer_for(app_client.client, roles=["insights:read"]).split(".")
    claims = jwt.decode(f"{header}.{payload}.{signature}", options={"verify_signature": False})
    claims["roles"] = ["insights:read", "insights:write"]
    forged_payload = jwt.utils.base64url_encode(jwt.api_jws.json.dumps(claims).encode()).decode()
    return f"{header}.{forged_payload}.{signature}"


BAD_TOKENS = {
    "malformed": lambda app_client: "not-a-jwt",
    "expired": lambda app_client: factories.bearer_for(app_client.client, exp=int(time.time()) - 10),
    "tampered": _tampered_token,
    "wrong key": _foreign_key_token,
    "wrong audience": lambda app_client: factories.bearer_for(app_client.client, aud="another-api"),
    "wrong issuer": lambda app_client: factories.bearer_for(app_client.client, iss="https://evil.example"),
}
