"""Ebling's public REST API as Trillian uses it, always on behalf of one person's token."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx

__all__ = [
    "EblingClient",
    "EblingError",
    "EblingForbidden",
    "EblingNotFound",
    "EblingUnauthorized",
    "EblingUnavailable",
    "QueryParams",
]

log = logging.getLogger(__name__)

QueryParams = Mapping[str, str | int | float | Sequence[str] | None]


class EblingError(Exception):
    """Ebling refused a request; ``detail`` is the problem document's message for people."""

    def __init__(
        self, status: int, detail: str, *, errors: list[dict[str, Any]] | None = None
    ) -> None:
        self.status = status
        self.detail = detail
        self.errors = errors or []
        super().__init__(f"Ebling answered {status}: {detail}")


class EblingUnauthorized(EblingError):
    """The token is missing, expired or revoked: the person must sign in again."""


class EblingForbidden(EblingError):
    """The person's roles do not allow the request."""


class EblingNotFound(EblingError):
    """The thing asked for does not exist."""


class EblingUnavailable(EblingError):
    """Ebling could not be reached, or failed."""


def _error_for(response: httpx.Response) -> EblingError:
    detail = response.reason_phrase or "Ebling refused the request"
    errors: list[dict[str, Any]] = []
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        detail = str(body.get("detail") or body.get("title") or detail)
        if isinstance(body.get("errors"), list):
            errors = [e for e in body["errors"] if isinstance(e, dict)]
    kind: type[EblingError] = EblingError
    if response.status_code == 401:
        kind = EblingUnauthorized
    elif response.status_code == 403:
        kind = EblingForbidden
    elif response.status_code == 404:
        kind = EblingNotFound
    elif response.status_code >= 500:
        kind = EblingUnavailable
    return kind(response.status_code, detail, errors=errors)


def _clean(params: QueryParams | None) -> httpx.QueryParams:
    # httpx sends None as an empty value; Ebling would read that as a filter on "".
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for name, value in (params or {}).items():
        if value is None or value == "":
            continue
        if isinstance(value, str | int | float):
            pairs.append((name, str(value)))
        else:
            pairs.extend((name, str(item)) for item in value)
    return httpx.QueryParams(pairs)


class EblingClient:
    """An HTTP client for ``/api/v1``, shared by all requests of the process.

    Args:
        base_url: Ebling's base URL, e.g. ``http://127.0.0.1:8080``.
        timeout: seconds to wait for an answer.
        transport: an httpx transport to use instead of the network (tests).
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/api/v1",
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": "trillian"},
            # A page fans out to a few dozen calls at once (a workflow's grid, the list's run
            # strips); keeping that many connections open spares each page new handshakes.
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
        )

    async def close(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def _send(
        self,
        method: str,
        path: str,
        *,
        token: str | None,
        params: QueryParams | None = None,
        json: Any = None,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            response = await self._http.request(
                method, path, params=_clean(params), json=json, headers=headers
            )
        except httpx.HTTPError as error:
            log.warning("Ebling could not be reached for %s %s: %s", method, path, error)
            raise EblingUnavailable(
                503, "Ebling cannot be reached right now; try again in a moment."
            ) from error
        if response.is_error:
            raise _error_for(response)
        return response

    async def get(self, path: str, *, token: str, params: QueryParams | None = None) -> Any:
        """``GET`` a JSON document."""
        return (await self._send("GET", path, token=token, params=params)).json()

    async def post(self, path: str, *, token: str | None, json: Any) -> Any:
        """``POST`` a JSON body and return the JSON answer."""
        return (await self._send("POST", path, token=token, json=json)).json()

    async def delete(self, path: str, *, token: str) -> Any:
        """``DELETE`` and return the JSON answer (``None`` for an empty one)."""
        response = await self._send("DELETE", path, token=token)
        return response.json() if response.content else None

    async def login(self, username: str, password: str) -> dict[str, Any]:
        """Ebling's simple login: a token for a user name and password."""
        answer = await self.post(
            "/auth/login", token=None, json={"username": username, "password": password}
        )
        if not isinstance(answer, dict) or "access_token" not in answer:
            raise EblingUnavailable(502, "Ebling's login answered without an access token.")
        return answer

    @asynccontextmanager
    async def stream(
        self, path: str, *, token: str, params: QueryParams | None = None
    ) -> AsyncIterator[httpx.Response]:
        """Open a streamed ``GET``; the body is read by iterating the response's bytes."""
        request = self._http.build_request(
            "GET", path, params=_clean(params), headers={"Authorization": f"Bearer {token}"}
        )
        try:
            response = await self._http.send(request, stream=True)
        except httpx.HTTPError as error:
            raise EblingUnavailable(
                503, "Ebling cannot be reached right now; try again in a moment."
            ) from error
        try:
            if response.is_error:
                await response.aread()
                raise _error_for(response)
            yield response
        finally:
            await response.aclose()
