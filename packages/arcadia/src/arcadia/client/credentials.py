"""How the client proves who it is: anything that can produce an ``Authorization`` header.

The client asks its credentials for the header before every request, retries included, so a
provider whose secret changes over time needs no help from the client. An OAuth2
client-credentials provider, for example, fetches a token from Keycloak's token endpoint,
caches it, and renews it shortly before it expires, all inside ``authorization()``; if it
also defines ``authorization_async()``, the asynchronous client awaits that instead, so the
token request does not block the event loop.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from typing import Protocol, runtime_checkable

import httpx

__all__ = ["ApiKey", "AsyncCredentials", "ClientCredentials", "Credentials"]


@runtime_checkable
class Credentials(Protocol):
    """A source of the ``Authorization`` header value for requests to Ebling."""

    def authorization(self) -> str:
        """The header value for the next request, such as ``"Bearer <token>"``.

        Called before every request, so it should answer from a cache when it can.
        """
        ...


@runtime_checkable
class AsyncCredentials(Credentials, Protocol):
    """Credentials that can also produce the header without blocking an event loop."""

    async def authorization_async(self) -> str:
        """The header value for the next request, awaited by the asynchronous client."""
        ...


class ApiKey:
    """An Ebling API key, sent as a bearer token.

    The key never appears in ``repr()``, so it cannot leak into a log through a debug line
    or a traceback's locals.

    Args:
        key: The key as ``ebling api-key create`` printed it (``ebl_...``).
    """

    __slots__ = ("_key",)

    def __init__(self, key: str) -> None:
        key = key.strip()
        if not key:
            raise ValueError("The API key is empty; pass the key 'ebling api-key create' printed.")
        self._key = key

    def authorization(self) -> str:
        """``Bearer <key>``."""
        return f"Bearer {self._key}"

    def __repr__(self) -> str:
        return "ApiKey(<hidden>)"


# Defined in a module of its own for its length; importable from here with the others.
from arcadia.client._oauth import ClientCredentials  # noqa: E402


@runtime_checkable
class _Renewable(Protocol):
    """Credentials whose cached token can be dropped, so that the next one is fresh."""

    def invalidate(self) -> None: ...


class CredentialsAuth(httpx.Auth):
    """Adapts :class:`Credentials` to httpx, for both the sync and the async client.

    A 401 answer to a cached token (its signing key withdrawn at the provider, say, minutes
    before it would have been renewed) is retried once with a new token, where the request
    body can be sent again; a streamed upload is not held in memory for that.
    """

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """Set the header, send, and once more with a new token after a 401."""
        replayable = _replayable(request)
        request.headers["Authorization"] = self.credentials.authorization()
        response = yield request
        if replayable and self._renew_after(response):
            request.headers["Authorization"] = self.credentials.authorization()
            yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Set the header, awaiting the credentials if they can be awaited, then send."""
        replayable = _replayable(request)
        request.headers["Authorization"] = await self._authorization_async()
        response = yield request
        if replayable and self._renew_after(response):
            request.headers["Authorization"] = await self._authorization_async()
            yield request

    async def _authorization_async(self) -> str:
        if isinstance(self.credentials, AsyncCredentials):
            return await self.credentials.authorization_async()
        return self.credentials.authorization()

    def _renew_after(self, response: httpx.Response) -> bool:
        credentials = self.credentials
        if response.status_code != 401 or not isinstance(credentials, _Renewable):
            return False
        credentials.invalidate()
        return True


def _replayable(request: httpx.Request) -> bool:
    # Asked before sending: a body held in memory can go again, a streamed one is gone once
    # sent (and some transports read it into memory on the way, which would mislead a check
    # made afterwards).
    return isinstance(request.stream, httpx.ByteStream)
