"""The id_token checks of the OpenID Connect client.

A real provider issues only good tokens, so these tests stand up a provider of their own:
an httpx transport answering discovery and JWKS with a key the test holds, and id_tokens
signed by it, each wrong in one way. The flow against the real Keycloak is in
test_keycloak.py.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import time
from collections.abc import Coroutine
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from trillian.signin.oidc import OidcClient, OidcError, TokenSet

ISSUER = "https://sso.example/realms/automation"
CLIENT = "trillian"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwks() -> dict[str, Any]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    return {"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}


def _provider(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/.well-known/openid-configuration"):
        return httpx.Response(
            200,
            json={
                "issuer": ISSUER,
                "authorization_endpoint": f"{ISSUER}/protocol/openid-connect/auth",
                "token_endpoint": f"{ISSUER}/protocol/openid-connect/token",
                "jwks_uri": f"{ISSUER}/protocol/openid-connect/certs",
                "end_session_endpoint": f"{ISSUER}/protocol/openid-connect/logout",
            },
        )
    if request.url.path.endswith("/certs"):
        return httpx.Response(200, json=_jwks())
    return httpx.Response(404)


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    # In a thread of its own: Playwright's sync API holds an event loop in the main thread
    # while the browser tests' session lasts.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def client() -> OidcClient:
    return OidcClient(ISSUER, CLIENT, "secret", transport=httpx.MockTransport(_provider))


def id_token(*, key: Any = KEY, kid: str = "k1", **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": CLIENT, "sub": "u1", "iat": now, "exp": now + 300}
    body.update(claims)
    body.setdefault("nonce", "n1")
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid})


def verify(token: str, nonce: str = "n1") -> dict[str, Any]:
    return run(client().verify_id_token(token, nonce=nonce))


def test_a_good_id_token_verifies() -> None:
    assert verify(id_token())["sub"] == "u1"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (lambda: id_token(aud="another-client"), "(?i)audience"),
        (lambda: id_token(iss="https://evil.example/realms/automation"), "(?i)issuer"),
        (lambda: id_token(exp=int(time.time()) - 120), "(?i)expired"),
        (lambda: id_token(key=OTHER_KEY), "(?i)signature"),
        (lambda: id_token(kid="unknown"), "no signing key"),
    ],
)
def test_a_bad_id_token_is_refused_with_the_reason(token: Any, reason: str) -> None:
    with pytest.raises(OidcError, match=reason):
        verify(token())


def test_an_id_token_for_another_sign_in_is_refused() -> None:
    with pytest.raises(OidcError, match="nonce"):
        verify(id_token(nonce="someone-elses"))


def test_an_unsigned_id_token_is_refused() -> None:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": CLIENT, "sub": "u1", "iat": now, "exp": now + 60}
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": "k1"})
    with pytest.raises(OidcError):
        verify(unsigned)


def test_the_authorization_url_asks_for_pkce_s256() -> None:
    url = httpx.URL(
        run(
            client().authorization_url(
                redirect_uri="http://127.0.0.1:8081/auth/callback",
                state="s",
                nonce="n",
                code_challenge="c" * 43,
            )
        )
    )
    assert url.params["code_challenge_method"] == "S256"
    assert url.params["code_challenge"] == "c" * 43
    assert url.params["response_type"] == "code"
    assert "openid" in url.params["scope"].split()
    assert "secret" not in str(url)


def test_the_sign_out_url_carries_the_id_token_hint() -> None:
    url = httpx.URL(
        run(client().end_session_url(id_token_hint="tok", post_logout_uri="http://t/login"))
    )
    assert url.path.endswith("/logout")
    assert url.params["id_token_hint"] == "tok"
    assert url.params["post_logout_redirect_uri"] == "http://t/login"


def test_a_provider_that_names_another_issuer_is_refused() -> None:
    wrong = OidcClient(
        "https://sso.example/realms/other", CLIENT, "s", transport=httpx.MockTransport(_provider)
    )
    with pytest.raises(OidcError, match="TRILLIAN_OIDC_ISSUER"):
        run(wrong.metadata())


def test_token_answers_become_absolute_expiry_times() -> None:
    tokens = TokenSet.from_answer(
        {"access_token": "a", "expires_in": 300, "refresh_expires_in": 0, "refresh_token": "r"},
        now=1000.0,
    )
    assert tokens.access_expires_at == 1300.0
    assert tokens.refresh_expires_at is None  # Keycloak's 0: no fixed expiry
