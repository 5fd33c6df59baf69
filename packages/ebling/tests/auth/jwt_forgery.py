"""Tokens made in the test: signed with keys of the test's own, or not signed properly at all.

``FakeIssuer`` stands in for an OpenID Connect provider where no real one is needed: it
serves a discovery document and a JWKS through an httpx mock transport (the real provider,
Keycloak, is used by test_sso_keycloak.py). The raw builders make what no honest library
would: ``alg: none`` tokens and HS256 tokens keyed with a public key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://sso.test/realms/automation"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(claims: dict[str, Any], *, kid: str | None = None) -> str:
    """An ``alg: none`` token: a header, the claims, and an empty signature."""
    header: dict[str, Any] = {"alg": "none", "typ": "JWT"}
    if kid:
        header["kid"] = kid
    return f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}."


def hs256_with_public_key(claims: dict[str, Any], public_pem: bytes, *, kid: str) -> str:
    """An HS256 token whose HMAC key is the issuer's public key: the algorithm-confusion attack."""
    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def public_pem_of_jwk(jwk: dict[str, Any]) -> bytes:
    """The PEM of an RSA JWK's public key, as an attacker would derive it from the JWKS."""
    key = RSAAlgorithm.from_jwk(json.dumps(jwk))
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def access_claims(
    *,
    issuer: str = ISSUER,
    audience: str | list[str] = "ebling",
    roles: list[str] | None = None,
    lifetime: int = 300,
    not_before_in: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Claims like Keycloak's access tokens: realm roles under ``realm_access``.

    Times are relative to now (``lifetime`` and ``not_before_in`` in seconds), so build the
    claims in the test itself, not where its parameters are collected.
    """
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": str(uuid.uuid4()),
        "azp": "arcadia-airflow",
        "typ": "Bearer",
        "iat": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
        "realm_access": {"roles": roles if roles is not None else ["ingest"]},
    }
    if not_before_in is not None:
        claims["nbf"] = now + not_before_in
    claims.update(extra)
    return claims


@dataclass
class SigningKeyPair:
    kid: str
    algorithm: str
    private_key: Any

    @classmethod
    def rsa(cls, kid: str, algorithm: str = "RS256") -> SigningKeyPair:
        return cls(kid, algorithm, rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @classmethod
    def ec(cls, kid: str) -> SigningKeyPair:
        return cls(kid, "ES256", ec.generate_private_key(ec.SECP256R1()))

    def jwk(self) -> dict[str, Any]:
        public = self.private_key.public_key()
        if self.algorithm.startswith("ES"):
            data = json.loads(ECAlgorithm.to_jwk(public))
        else:
            data = json.loads(RSAAlgorithm.to_jwk(public))
        data.update({"kid": self.kid, "alg": self.algorithm, "use": "sig"})
        return data

    def sign(self, claims: dict[str, Any], *, kid: str | None = None) -> str:
        return jwt.encode(
            claims, self.private_key, algorithm=self.algorithm, headers={"kid": kid or self.kid}
        )


@dataclass
class FakeIssuer:
    """A provider's discovery and JWKS endpoints, counting how often the JWKS is fetched."""

    issuer: str = ISSUER
    keys: list[SigningKeyPair] = field(default_factory=lambda: [SigningKeyPair.rsa("key-1")])
    jwks_fetches: int = 0
    down: bool = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if request.url.path.endswith("/.well-known/openid-configuration"):
            return httpx.Response(
                200, json={"issuer": self.issuer, "jwks_uri": f"{self.issuer}/certs"}
            )
        if request.url.path.endswith("/certs"):
            self.jwks_fetches += 1
            return httpx.Response(200, json={"keys": [key.jwk() for key in self.keys]})
        return httpx.Response(404)

    def http_client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handler))

    def sign(self, claims: dict[str, Any]) -> str:
        return self.keys[0].sign(claims)
