"""What the sync and the async client share: their settings and how they are read."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Self

import httpx

from arcadia._version import __version__
from arcadia.client.credentials import ApiKey, ClientCredentials, Credentials, CredentialsAuth
from arcadia.client.errors import EblingConfigError
from arcadia.client.retry import RetryPolicy

DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3

URL_VARIABLE = "EBLING_URL"
API_KEY_VARIABLE = "EBLING_API_KEY"
CLIENT_ID_VARIABLE = "EBLING_CLIENT_ID"
CLIENT_SECRET_VARIABLE = "EBLING_CLIENT_SECRET"  # noqa: S105 - a variable's name
TOKEN_URL_VARIABLE = "EBLING_OIDC_TOKEN_URL"  # noqa: S105 - a variable's name
ISSUER_VARIABLE = "EBLING_OIDC_ISSUER"


class ClientSettings:
    """Checks and keeps a client's settings; the clients add the I/O."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        auth: Credentials | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retries: int | RetryPolicy = DEFAULT_RETRIES,
    ) -> None:
        if api_key is not None and auth is not None:
            raise ValueError("Pass api_key or auth, not both.")
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(
                f"base_url must be an http:// or https:// URL, such as "
                f"http://127.0.0.1:8080, not {base_url!r}."
            )

        self.base_url = url
        self.credentials = ApiKey(api_key) if api_key is not None else auth
        self.retry_policy = retries if isinstance(retries, RetryPolicy) else RetryPolicy(retries)
        self.timeout = timeout

    @classmethod
    def from_env(
        cls,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retries: int | RetryPolicy = DEFAULT_RETRIES,
        environ: Mapping[str, str] | None = None,
    ) -> Self:
        """A client for the Ebling named by ``EBLING_URL``, with credentials from the environment.

        The credentials are an API key in ``EBLING_API_KEY``, or a service account's OAuth 2
        client credentials: ``EBLING_CLIENT_ID``, ``EBLING_CLIENT_SECRET`` and the token
        endpoint in ``EBLING_OIDC_TOKEN_URL`` (or the issuer in ``EBLING_OIDC_ISSUER``, whose
        discovery document names it).

        Args:
            timeout: Seconds to wait for Ebling at each step of a request.
            retries: Attempts after the first for calls that are safe to repeat, or a
                :class:`RetryPolicy`.
            environ: Where to read the variables; the process environment by default.

        Raises:
            EblingConfigError: ``EBLING_URL`` is unset or not an HTTP URL, or the
                credentials are incomplete or given twice.
        """
        environ = os.environ if environ is None else environ
        url = environ.get(URL_VARIABLE, "").strip()
        if not url:
            raise EblingConfigError(
                URL_VARIABLE,
                "it is not set; set it to Ebling's address, e.g. http://127.0.0.1:8080",
            )
        key = environ.get(API_KEY_VARIABLE, "").strip() or None
        auth = _client_credentials_from_env(environ)
        if key is not None and auth is not None:
            raise EblingConfigError(API_KEY_VARIABLE, f"set it or {CLIENT_ID_VARIABLE}, not both")
        try:
            return cls(url, api_key=key, auth=auth, timeout=timeout, retries=retries)
        except ValueError as error:
            raise EblingConfigError(URL_VARIABLE, str(error)) from error

    def http_options(self) -> dict[str, Any]:
        """Keyword arguments for ``httpx.Client`` or ``httpx.AsyncClient``."""
        # Credentials go in through httpx's auth hook rather than default headers, so they
        # are asked for afresh on each request and never sit in the client's headers.
        auth = CredentialsAuth(self.credentials) if self.credentials is not None else None
        return {
            "base_url": self.base_url,
            "auth": auth,
            "timeout": self.timeout,
            "headers": {
                "User-Agent": f"arcadia/{__version__} httpx/{httpx.__version__}",
                "Accept": "application/json, application/problem+json",
            },
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.base_url)!r})"


def _client_credentials_from_env(environ: Mapping[str, str]) -> ClientCredentials | None:
    client_id = environ.get(CLIENT_ID_VARIABLE, "").strip()
    if not client_id:
        return None
    secret = environ.get(CLIENT_SECRET_VARIABLE, "").strip()
    if not secret:
        raise EblingConfigError(
            CLIENT_SECRET_VARIABLE, f"it is not set, and {CLIENT_ID_VARIABLE} needs it"
        )
    token_url = environ.get(TOKEN_URL_VARIABLE, "").strip() or None
    issuer = environ.get(ISSUER_VARIABLE, "").strip() or None
    if token_url is None and issuer is None:
        raise EblingConfigError(
            TOKEN_URL_VARIABLE,
            f"it is not set (nor {ISSUER_VARIABLE}); {CLIENT_ID_VARIABLE} needs one, e.g. "
            "https://sso.example.org/realms/automation/protocol/openid-connect/token",
        )
    # The token URL wins if both are set: it needs no discovery.
    return ClientCredentials(
        client_id, secret, token_url=token_url, issuer=None if token_url else issuer
    )
