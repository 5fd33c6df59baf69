"""OAuth 2 client credentials (RFC 6749 §4.4): a machine's access tokens for Ebling.

A service account (in Keycloak, a confidential client with service accounts enabled) trades
its client id and secret for a short-lived access token at the provider's token endpoint.
The token is cached and renewed shortly before it expires, so a workflow that calls Ebling
a thousand times asks the provider once every few minutes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

from arcadia.client.errors import EblingAuthError, EblingUnavailable, Problem

__all__ = ["ClientCredentials"]

DEFAULT_RENEW_BEFORE = 30.0
DEFAULT_TIMEOUT = 10.0


class _ClientCredentialsRefused(EblingAuthError):
    """The identity provider, not Ebling, refused the client's id or secret."""

    def _message(self) -> str:
        return f"The identity provider refused a token at {self.url}: {self.problem.detail}."


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    renew_at: float


class ClientCredentials:
    """Access tokens from an OAuth 2 token endpoint with the client-credentials grant.

    Thread-safe, and usable from asyncio: threads share one cached token and one request
    renews it for all of them; the asynchronous client awaits :meth:`authorization_async`,
    which fetches without blocking the event loop. The secret never appears in ``repr()``.

    Args:
        client_id: The client's id at the provider, such as ``arcadia-airflow``.
        client_secret: The client's secret.
        token_url: The provider's token endpoint. Give this or ``issuer``.
        issuer: The provider's issuer URL (for Keycloak ``https://<host>/realms/<realm>``),
            whose discovery document names the token endpoint.
        scope: Scopes to ask for, space-separated; the provider's defaults if not given.
        renew_before: Seconds before a token's expiry at which it is renewed, so a request
            never leaves with a token about to lapse.
        timeout: Seconds to wait for the provider.

    Raises:
        ValueError: neither or both of ``token_url`` and ``issuer``, or an empty id or
            secret.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        token_url: str | None = None,
        issuer: str | None = None,
        scope: str | None = None,
        renew_before: float = DEFAULT_RENEW_BEFORE,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if (token_url is None) == (issuer is None):
            raise ValueError("Pass token_url or issuer (one of them) to find the token endpoint.")
        if not client_id.strip() or not client_secret.strip():
            raise ValueError("The client id and secret must not be empty.")
        self.client_id = client_id.strip()
        self._secret = client_secret.strip()
        self._token_url = token_url
        self._issuer = issuer.rstrip("/") if issuer else None
        self._scope = scope
        self._renew_before = renew_before
        self._timeout = timeout
        self._clock = clock
        self._token: _Token | None = None
        self._lock = threading.Lock()
        self._async_lock: anyio.Lock | None = None

    def authorization(self) -> str:
        """``Bearer <access token>``, from the cache or, when it is due, from the provider.

        Raises:
            EblingAuthError: the provider refused the client's credentials.
            EblingUnavailable: the provider could not be reached or failed.
        """
        token = self._fresh_token()
        if token is None:
            with self._lock:
                token = self._fresh_token()  # another thread may have renewed it meanwhile
                if token is None:
                    with httpx.Client(timeout=self._timeout) as http:
                        token_url = self._token_url or self._discover(http.get)
                        try:
                            response = http.post(**self._request(token_url))
                        except httpx.HTTPError as error:
                            raise _unreachable("POST", token_url, error) from error
                    token = self._store(self._parse(response))
        return f"Bearer {token.value}"

    async def authorization_async(self) -> str:
        """``Bearer <access token>``, fetched without blocking the event loop when due.

        Raises:
            EblingAuthError: the provider refused the client's credentials.
            EblingUnavailable: the provider could not be reached or failed.
        """
        token = self._fresh_token()
        if token is None:
            if self._async_lock is None:
                self._async_lock = anyio.Lock()
            async with self._async_lock:
                token = self._fresh_token()
                if token is None:
                    async with httpx.AsyncClient(timeout=self._timeout) as http:
                        token_url = self._token_url or await self._discover_async(http)
                        try:
                            response = await http.post(**self._request(token_url))
                        except httpx.HTTPError as error:
                            raise _unreachable("POST", token_url, error) from error
                    token = self._store(self._parse(response))
        return f"Bearer {token.value}"

    def invalidate(self) -> None:
        """Forget the cached token, so the next request fetches a new one."""
        self._token = None

    def _fresh_token(self) -> _Token | None:
        token = self._token
        return token if token is not None and self._clock() < token.renew_at else None

    def _store(self, answer: Mapping[str, Any]) -> _Token:
        lifetime = float(answer.get("expires_in") or 60)
        # A token shorter-lived than twice the margin is renewed half-way instead, or it
        # would be renewed before every request.
        margin = min(self._renew_before, lifetime / 2)
        renew_at = self._clock() + lifetime - margin
        token = _Token(value=str(answer["access_token"]), renew_at=renew_at)
        self._token = token
        return token

    def _request(self, token_url: str) -> dict[str, Any]:
        # client_secret_post: the id and secret in the form body, which every provider that
        # supports client secrets accepts, and which needs no extra encoding rules.
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._secret,
        }
        if self._scope:
            form["scope"] = self._scope
        return {"url": token_url, "data": form, "headers": {"Accept": "application/json"}}

    def _discover(self, get: Callable[[str], httpx.Response]) -> str:
        url = self._discovery_url()
        try:
            response = get(url)
        except httpx.HTTPError as error:
            raise _unreachable("GET", url, error) from error
        self._token_url = self._token_endpoint_of(url, response)
        return self._token_url

    async def _discover_async(self, http: httpx.AsyncClient) -> str:
        url = self._discovery_url()
        try:
            response = await http.get(url)
        except httpx.HTTPError as error:
            raise _unreachable("GET", url, error) from error
        self._token_url = self._token_endpoint_of(url, response)
        return self._token_url

    def _discovery_url(self) -> str:
        return f"{self._issuer}/.well-known/openid-configuration"

    @staticmethod
    def _token_endpoint_of(url: str, response: httpx.Response) -> str:
        try:
            response.raise_for_status()
            endpoint = response.json()["token_endpoint"]
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
            raise EblingUnavailable(
                "GET",
                url,
                attempts=1,
                status=response.status_code,
                reason="the issuer's discovery document names no token endpoint; is the "
                "issuer URL right?",
            ) from error
        return str(endpoint)

    def _parse(self, response: httpx.Response) -> Mapping[str, Any]:
        url = str(response.request.url)
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.status_code in (400, 401) and isinstance(answer, Mapping):
            # RFC 6749 §5.2: invalid_client, unauthorized_client and the like.
            error = answer.get("error", "refused")
            description = answer.get("error_description", "")
            problem = Problem(
                status=response.status_code,
                title="Client credentials refused",
                detail=f"{error}"
                + (f" ({description})" if description else "")
                + f" for client '{self.client_id}'; check its id and secret",
            )
            raise _ClientCredentialsRefused("POST", url, problem)
        if response.status_code >= 400 or not isinstance(answer, Mapping):
            raise EblingUnavailable(
                "POST",
                url,
                attempts=1,
                status=response.status_code,
                reason=f"the token endpoint answered {response.status_code}",
            )
        if not answer.get("access_token"):
            raise EblingUnavailable(
                "POST", url, attempts=1, reason="the token endpoint answered without a token"
            )
        return answer

    def __repr__(self) -> str:
        return f"ClientCredentials({self.client_id!r}, <secret hidden>)"


def _unreachable(method: str, url: str, error: httpx.HTTPError) -> EblingUnavailable:
    reason = f"the identity provider could not be reached ({type(error).__name__})"
    return EblingUnavailable(method, url, attempts=1, reason=reason)
