"""Token attacks, each refused at both doors: REST (the live server) and gRPC (a real server and channel).

Every forged token is made the way an attacker would make it, with PyJWT and ``cryptography`` and the public
material the server publishes (its JWKS), never with the server's private key, except where the attack is about a
genuine token (expired, revoked, of a disabled principal, of another organisation). Each refusal is 401 problem
details over REST and ``UNAUTHENTICATED`` over gRPC, except the cross-organisation one, which is 404 / NOT_FOUND
like a resource that does not exist.
"""

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from jwt.algorithms import ECAlgorithm

from insights.models import Event, Query
from oauth.keys import signing_key
from oauth.tokens import sign
from tests.support import factories
from tests.support.doors import Door
from tests.support.oauth_client import error_of, password_grant
from tests.support.ubi_documents import make_event, make_query

def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_of(token: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))


def header_of(token: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))


def compact(header: dict, claims: dict, signature: bytes = b"") -> str:
    """A JWS compact serialisation put together by hand, as an attacker does."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(signature)}"


def hs256(header: dict, claims: dict, secret: bytes) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def es256(header: dict, claims: dict, private_key) -> str:
    """ES256 by hand, so that headers PyJWT would refuse to write (a kid that is not a string) can be sent."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    r, s = decode_dss_signature(private_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def published_public_key_pem(live_server) -> bytes:
    """The signing key as anybody can fetch it from the JWKS endpoint, as PEM: the HS256 confusion secret."""
    jwk = requests.get(f"{live_server.url}/.well-known/jwks.json", timeout=10).json()["keys"][0]
    x, y = (int.from_bytes(base64.urlsafe_b64decode(jwk[c] + "=="), "big") for c in ("x", "y"))
    public_key = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture
def genuine(app_client):
    """A genuine token of ``app_client`` with both roles, as the token endpoint signs them."""
    return factories.bearer_for(app_client.client)


def test_the_genuine_token_gets_in(door, genuine):
    # The control for every test below: the same calls with the untouched token succeed.
    assert door.read(genuine) == "ok"
    assert door.write(genuine) == "ok"


def test_alg_none_is_refused(door, genuine):
    signature = base64.urlsafe_b64decode(genuine.split(".")[2] + "==")
    for alg in ("none", "None", "NONE", "nOnE"):
        header = {**header_of(genuine), "alg": alg}
        assert door.read(compact(header, claims_of(genuine))) == "unauthenticated", alg
        # With the original signature left on, too.
        assert door.read(compact(header, claims_of(genuine), signature)) == "unauthenticated", alg


def test_hs256_signed_with_the_published_public_key_is_refused(door, genuine, live_server):
    """The algorithm-confusion attack: HMAC keyed with the public key a naive verifier would pass as the secret."""
    public_pem = published_public_key_pem(live_server)
    header = {**header_of(genuine), "alg": "HS256"}
    for secret in (public_pem, public_pem.strip(), json.dumps(signing_key().public_jwk()).encode()):
        assert door.read(hs256(header, claims_of(genuine), secret)) == "unauthenticated"


def test_another_asymmetric_algorithm_with_our_kid_is_refused(door, genuine):
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims_of(genuine), rsa_key, algorithm="RS256", headers={"kid": header_of(genuine)["kid"]})
    assert door.read(forged) == "unauthenticated"


def test_our_claims_signed_by_another_key_are_refused(door, genuine):
    attacker = ec.generate_private_key(ec.SECP256R1())
    for header in ({"kid": header_of(genuine)["kid"]}, {"kid": "attacker"}, {}):
        assert door.read(jwt.encode(claims_of(genuine), attacker, algorithm="ES256", headers=header)) == "unauthenticated"


def test_an_embedded_key_is_not_trusted(door, genuine):
    """A ``jwk`` or ``jku`` header naming the attacker's key is ignored: only the server's own keys verify."""
    attacker = ec.generate_private_key(ec.SECP256R1())
    headers = {
        "kid": header_of(genuine)["kid"],
        "jwk": json.loads(ECAlgorithm.to_jwk(attacker.public_key())),
        "jku": "http://127.0.0.1:1/jwks.json",
    }
    assert door.read(jwt.encode(claims_of(genuine), attacker, algorithm="ES256", headers=headers)) == "unauthenticated"


def test_an_unknown_kid_is_refused(door, genuine):
    for kid in ("unknown-kid", "", None, 42, ["x"], {"kid": "x"}, "../../etc/passwd", "x" * 3000):
        header = {"alg": "ES256", "typ": "JWT", "kid": kid} if kid is not None else {"alg": "ES256", "typ": "JWT"}
        # Properly signed by our key: only the kid is wrong, so nothing but the kid lookup can refuse it.
        forged = es256(header, claims_of(genuine), signing_key().private_key)
        assert door.read(forged) == "unauthenticated", kid


def test_wrong_issuer_or_audience_is_refused(door, genuine, settings):
    """Signed with our own key, so that only the claim can refuse them (an issuer bug, or a token for another API
    of the same issuer): the claim must be exactly ours."""
    issuer, audience = settings.OAUTH_ISSUER, settings.OAUTH_AUDIENCE
    wrong = [
        {"iss": "https://evil.example"},
        {"iss": f"{issuer}/"},
        {"iss": [issuer]},
        {"iss": None},
        {"aud": "another-api"},
        {"aud": ["another-api"]},
        {"aud": f"{audience} "},
        {"aud": []},
        {"aud": None},
    ]
    for claims in wrong:
        forged = es256(header_of(genuine), {**claims_of(genuine), **claims}, signing_key().private_key)
        assert door.read(forged) == "unauthenticated", claims


def test_an_expired_token_is_refused(door, app_client):
    now = int(time.time())
    assert door.read(factories.bearer_for(app_client.client, iat=now - 7200, nbf=now - 7200, exp=now - 1)) == (
        "unauthenticated"
    )


def test_a_token_not_yet_valid_is_refused(door, app_client):
    for claim in ("nbf", "iat"):
        token = factories.bearer_for(app_client.client, **{claim: int(time.time()) + 600})
        assert door.read(token) == "unauthenticated", claim


def test_a_token_without_a_required_claim_is_refused(door, genuine):
    for claim in ("exp", "iat", "jti", "org", "roles", "aud", "iss", "sub", "client_id", "scope"):
        claims = claims_of(genuine)
        del claims[claim]
        assert door.read(sign(claims)) == "unauthenticated", claim


def test_tampered_claims_are_refused(door, org):
    """A read-only token whose payload is edited and re-encoded, keeping the original signature."""
    read_only = factories.bearer_for(factories.make_client(org, roles=["insights:read"]).client)
    assert door.write(read_only) == "forbidden"  # the control: the genuine token may not write
    header, _, signature = read_only.split(".")
    tampered = [
        {"roles": ["insights:read", "insights:write"]},
        {"scope": "insights:read insights:write"},
        {"exp": claims_of(read_only)["exp"] + 86400},
        {"org": "00000000-0000-0000-0000-000000000000"},
        {"sub_type": "user"},
    ]
    for change in tampered:
        forged = f"{header}.{b64(json.dumps({**claims_of(read_only), **change}).encode())}.{signature}"
        assert door.read(forged) == "unauthenticated", change
        assert door.write(forged) == "unauthenticated", change
    assert not Query.objects.filter(user_query="forged").exists()


def test_a_truncated_or_padded_signature_is_refused(door, genuine):
    header, payload, signature = genuine.split(".")
    for forged in (f"{header}.{payload}.", f"{header}.{payload}.{signature[:-4]}", f"{header}.{payload}.{signature}AAAA"):
        assert door.read(forged) == "unauthenticated"


def issued_token(live_server, app_client) -> str:
    response = requests.post(
        f"{live_server.url}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(app_client.client.client_id, app_client.client_secret),
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def test_a_revoked_token_is_refused(door, live_server, app_client):
    token = issued_token(live_server, app_client)
    assert door.read(token) == "ok"
    assert requests.delete(f"{live_server.url}/v2/auth/token/{token}", timeout=30).status_code == 204
    assert door.read(token) == "unauthenticated"
    # Revoking by the RFC 7009 endpoint works alike.
    other = issued_token(live_server, app_client)
    assert requests.post(f"{live_server.url}/oauth2/revoke", data={"token": other}, timeout=30).status_code == 200
    assert door.read(other) == "unauthenticated"


def test_a_token_of_a_disabled_client_is_refused(door, live_server, app_client):
    """However the client is disabled (here as a script or the shell would: the model saved), its tokens stop."""
    token = issued_token(live_server, app_client)
    assert door.read(token) == "ok"
    client = app_client.client
    client.is_active = False
    client.save()
    assert door.read(token) == "unauthenticated"
    assert door.write(token) == "unauthenticated"


def test_a_token_of_a_deactivated_user_is_refused(door, live_server, people_client, org):
    user = factories.make_user(org, roles=["insights:read", "insights:write"])
    response = password_grant(live_server, people_client, user.email)
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert door.read(token) == "ok"
    user.is_active = False
    user.save()
    assert door.read(token) == "unauthenticated"
    assert door.write(token) == "unauthenticated"
    # A deactivated account signs in as a wrong password does: the answer tells nobody the account exists.
    assert error_of(password_grant(live_server, people_client, user.email)) == (401, "invalid_credentials")


def test_a_token_of_organisation_a_does_not_reach_organisation_bs_resources(door, app_client):
    """A genuine token of A asking for B's query by its id: 404 like a missing one; B's rows are untouched."""
    org_b = factories.make_org()
    token_b = factories.bearer_for(factories.make_client(org_b).client)
    token_a = factories.bearer_for(app_client.client)
    shared_id = f"b-only-{door.protocol}"
    over_rest = Door("rest", door.live_server, None)
    assert over_rest.call("track_query", token_b, make_query(query_id=shared_id)).outcome == "ok"
    event = make_event(event_id=f"e-{door.protocol}", query_id=shared_id)
    assert over_rest.call("track_event", token_b, event).outcome == "ok"

    assert door.get_query(token_a, shared_id) == "not found"
    assert door.get_query(token_b, shared_id) == "ok"
    # A token of A whose org claim is B's is a forgery: refused, not served B's data.
    claims = {**claims_of(token_a), "org": str(org_b.pk)}
    header, _, signature = token_a.split(".")
    assert door.get_query(f"{header}.{b64(json.dumps(claims).encode())}.{signature}", shared_id) == "unauthenticated"
    assert Event.objects.filter(organization=org_b).count() == 1
