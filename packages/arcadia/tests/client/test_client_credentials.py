"""OAuth 2 client credentials: tokens fetched once, cached, renewed early, shared by threads.

The token endpoint here is a small HTTP server of the test's own (a stand-in for Keycloak,
which Ebling's test_keycloak.py uses for real): it counts requests and can be slow.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
import httpx
import pytest
from arcadia.client import (
    ClientCredentials,
    EblingAuthError,
    EblingClient,
    EblingConfigError,
    EblingUnavailable,
)
from arcadia.client.credentials import CredentialsAuth

SECRET = "s3cret-value-for-tests"


class TokenEndpoint:
    """Issues ``token-<n>`` to the client ``machine`` with secret ``SECRET``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.expires_in = 300
        self.delay = 0.0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/realms/test/.well-known/openid-configuration":
                    self._json(200, {"token_endpoint": f"{endpoint.url}/token"})
                else:
                    self._json(404, {})

            def do_POST(self) -> None:
                length = int(self.headers["content-length"])
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                endpoint.requests.append(form)
                time.sleep(endpoint.delay)
                if form.get("client_id") != "machine" or form.get("client_secret") != SECRET:
                    self._json(401, {"error": "invalid_client", "error_description": "bad"})
                    return
                number = len(endpoint.requests)
                self._json(
                    200, {"access_token": f"token-{number}", "expires_in": endpoint.expires_in}
                )

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def endpoint() -> Iterator[TokenEndpoint]:
    server = TokenEndpoint()
    yield server
    server.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def credentials(endpoint: TokenEndpoint, clock: Clock, **kwargs: Any) -> ClientCredentials:
    return ClientCredentials(
        "machine", SECRET, token_url=f"{endpoint.url}/token", clock=clock, **kwargs
    )


def test_a_token_is_fetched_once_and_reused(endpoint: TokenEndpoint, clock: Clock) -> None:
    provider = credentials(endpoint, clock)
    assert {provider.authorization() for _ in range(5)} == {"Bearer token-1"}
    assert len(endpoint.requests) == 1
    assert endpoint.requests[0]["grant_type"] == "client_credentials"


def test_it_is_renewed_30_seconds_before_expiry(endpoint: TokenEndpoint, clock: Clock) -> None:
    provider = credentials(endpoint, clock)
    assert provider.authorization() == "Bearer token-1"
    clock.now = 269
    assert provider.authorization() == "Bearer token-1"
    clock.now = 270
    assert provider.authorization() == "Bearer token-2"


def test_a_short_lived_token_is_renewed_half_way(endpoint: TokenEndpoint, clock: Clock) -> None:
    endpoint.expires_in = 20
    provider = credentials(endpoint, clock)
    provider.authorization()
    clock.now = 9.9
    assert provider.authorization() == "Bearer token-1"
    clock.now = 10
    assert provider.authorization() == "Bearer token-2"


def test_threads_share_one_token_request(endpoint: TokenEndpoint, clock: Clock) -> None:
    endpoint.delay = 0.3
    provider = credentials(endpoint, clock)
    seen: list[str] = []
    threads = [
        threading.Thread(target=lambda: seen.append(provider.authorization())) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == ["Bearer token-1"] * 8
    assert len(endpoint.requests) == 1


def test_async_callers_share_one_token_request(endpoint: TokenEndpoint, clock: Clock) -> None:
    endpoint.delay = 0.3
    provider = credentials(endpoint, clock)
    seen: list[str] = []

    async def main() -> None:
        async def one() -> None:
            seen.append(await provider.authorization_async())

        async with anyio.create_task_group() as group:
            for _ in range(8):
                group.start_soon(one)

    anyio.run(main)
    assert seen == ["Bearer token-1"] * 8
    assert len(endpoint.requests) == 1


def test_the_token_endpoint_is_found_through_the_issuer(
    endpoint: TokenEndpoint, clock: Clock
) -> None:
    provider = ClientCredentials("machine", SECRET, issuer=f"{endpoint.url}/realms/test/")
    assert provider.authorization() == "Bearer token-1"


def test_refused_credentials_raise_an_auth_error_without_the_secret(
    endpoint: TokenEndpoint, clock: Clock
) -> None:
    provider = ClientCredentials("machine", "wrong", token_url=f"{endpoint.url}/token")
    with pytest.raises(EblingAuthError, match="invalid_client") as raised:
        provider.authorization()
    assert "wrong" not in str(raised.value)
    assert SECRET not in repr(credentials(endpoint, clock))


def test_an_unreachable_provider_is_unavailable(endpoint: TokenEndpoint) -> None:
    url = f"{endpoint.url}/token"
    endpoint.close()
    with pytest.raises(EblingUnavailable, match="could not be reached"):
        ClientCredentials("machine", SECRET, token_url=url).authorization()

    async def fetch() -> str:
        return await ClientCredentials("machine", SECRET, token_url=url).authorization_async()

    with pytest.raises(EblingUnavailable):
        anyio.run(fetch)


def test_from_env_builds_client_credentials(endpoint: TokenEndpoint) -> None:
    environ = {
        "EBLING_URL": "http://127.0.0.1:1",
        "EBLING_CLIENT_ID": "machine",
        "EBLING_CLIENT_SECRET": SECRET,
        "EBLING_OIDC_TOKEN_URL": f"{endpoint.url}/token",
    }
    with EblingClient.from_env(environ=environ) as client:
        assert isinstance(client.credentials, ClientCredentials)
        assert client.credentials.authorization() == "Bearer token-1"
    issuer_only = environ | {
        "EBLING_OIDC_TOKEN_URL": "",
        "EBLING_OIDC_ISSUER": f"{endpoint.url}/realms/test",
    }
    with EblingClient.from_env(environ=issuer_only) as client:
        assert isinstance(client.credentials, ClientCredentials)


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"EBLING_CLIENT_SECRET": ""}, "EBLING_CLIENT_SECRET"),
        ({"EBLING_OIDC_TOKEN_URL": ""}, "EBLING_OIDC_TOKEN_URL"),
        ({"EBLING_API_KEY": "ebl_x_y"}, "EBLING_API_KEY"),
    ],
)
def test_from_env_refuses_incomplete_or_double_credentials(
    change: dict[str, str], variable: str
) -> None:
    environ = {
        "EBLING_URL": "http://127.0.0.1:1",
        "EBLING_CLIENT_ID": "machine",
        "EBLING_CLIENT_SECRET": SECRET,
        "EBLING_OIDC_TOKEN_URL": "http://127.0.0.1:1/token",
    } | change
    with pytest.raises(EblingConfigError) as raised:
        EblingClient.from_env(environ=environ)
    assert raised.value.variable == variable
    assert SECRET not in str(raised.value)


def test_it_needs_one_way_to_the_token_endpoint() -> None:
    with pytest.raises(ValueError, match="token_url or issuer"):
        ClientCredentials("machine", SECRET)
    with pytest.raises(ValueError, match="token_url or issuer"):
        ClientCredentials("machine", SECRET, token_url="http://a/token", issuer="http://a")


def _server_accepting(*tokens: str) -> httpx.MockTransport:
    """An API (a mock transport) that takes only ``tokens``, recording what it was sent."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"].removeprefix("Bearer ") in tokens:
            return httpx.Response(200, json={"ok": True})
        return httpx.Response(401, json={"detail": "invalid token"})

    return httpx.MockTransport(handle)


def test_a_refused_cached_token_is_renewed_once(endpoint: TokenEndpoint, clock: Clock) -> None:
    provider = credentials(endpoint, clock)
    provider.authorization()  # token-1 cached; the API below no longer takes it
    auth = CredentialsAuth(provider)
    with httpx.Client(transport=_server_accepting("token-2"), auth=auth) as http:
        assert http.post("http://api/x", content=b"{}").status_code == 200
    assert len(endpoint.requests) == 2


def test_a_second_refusal_is_the_answer(endpoint: TokenEndpoint, clock: Clock) -> None:
    auth = CredentialsAuth(credentials(endpoint, clock))
    with httpx.Client(transport=_server_accepting(), auth=auth) as http:
        assert http.post("http://api/x", content=b"{}").status_code == 401
    assert len(endpoint.requests) == 2  # one renewal, no loop


def test_a_streamed_body_is_not_sent_twice(endpoint: TokenEndpoint, clock: Clock) -> None:
    auth = CredentialsAuth(credentials(endpoint, clock))
    with httpx.Client(transport=_server_accepting(), auth=auth) as http:
        response = http.post("http://api/x", content=iter([b"chunk"]))
    assert response.status_code == 401
    assert len(endpoint.requests) == 1


def test_async_renewal_after_a_refusal(endpoint: TokenEndpoint, clock: Clock) -> None:
    provider = credentials(endpoint, clock)
    provider.authorization()

    async def post() -> int:
        transport = _server_accepting("token-2")
        async with httpx.AsyncClient(transport=transport, auth=CredentialsAuth(provider)) as http:
            return (await http.post("http://api/x", content=b"{}")).status_code

    assert anyio.run(post) == 200
