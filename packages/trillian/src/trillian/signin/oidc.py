"""An OpenID Connect relying party for the authorization code flow with PKCE.

Written on httpx and PyJWT rather than a framework integration so that each step of the
flow (discovery, the authorization request, the code exchange, id_token checks, refresh,
RP-initiated logout) can be read, and tested, on its own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

__all__ = ["OidcClient", "OidcError", "ProviderMetadata", "TokenSet"]

log = logging.getLogger(__name__)

#: Signatures accepted on id_tokens; Keycloak signs with RS256 unless configured otherwise.
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"]


class OidcError(Exception):
    """A step of the sign-in failed; the message says which and why, for the person."""


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    """The endpoints the provider's discovery document names."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None


@dataclass(frozen=True, slots=True)
class TokenSet:
    """What the token endpoint answered, with expiry as absolute times (epoch seconds)."""

    access_token: str
    access_expires_at: float
    refresh_token: str | None
    refresh_expires_at: float | None
    id_token: str | None

    @classmethod
    def from_answer(cls, answer: dict[str, Any], *, now: float) -> TokenSet:
        """Read a token endpoint answer; refresh_expires_in 0 means "no fixed expiry"."""
        refresh_in = answer.get("refresh_expires_in")
        return cls(
            access_token=str(answer["access_token"]),
            access_expires_at=now + float(answer.get("expires_in", 300)),
            refresh_token=answer.get("refresh_token"),
            refresh_expires_at=now + float(refresh_in) if refresh_in else None,
            id_token=answer.get("id_token"),
        )


class OidcClient:
    """The confidential client ``client_id`` of the provider at ``issuer``.

    Args:
        issuer: the issuer URL, e.g. ``http://127.0.0.1:18080/realms/automation``.
        client_id: the client's id.
        client_secret: the client's secret; sent only to the token endpoint.
        transport: an httpx transport instead of the network (tests).
    """

    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self._secret = client_secret
        self._http = httpx.AsyncClient(timeout=15, transport=transport)
        self._metadata: ProviderMetadata | None = None
        self._keys: jwt.PyJWKSet | None = None
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def metadata(self) -> ProviderMetadata:
        """The provider's endpoints, discovered once and kept."""
        if self._metadata is None:
            async with self._lock:
                if self._metadata is None:
                    document = await self._get_json(
                        f"{self.issuer}/.well-known/openid-configuration", "discovery"
                    )
                    if document.get("issuer", "").rstrip("/") != self.issuer:
                        raise OidcError(
                            f"The provider calls itself {document.get('issuer')!r}, not "
                            f"{self.issuer!r}: check TRILLIAN_OIDC_ISSUER."
                        )
                    self._metadata = ProviderMetadata(
                        issuer=document["issuer"],
                        authorization_endpoint=document["authorization_endpoint"],
                        token_endpoint=document["token_endpoint"],
                        jwks_uri=document["jwks_uri"],
                        end_session_endpoint=document.get("end_session_endpoint"),
                    )
        return self._metadata

    async def authorization_url(
        self, *, redirect_uri: str, state: str, nonce: str, code_challenge: str
    ) -> str:
        """Where to send the browser to sign in."""
        metadata = await self.metadata()
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid profile email",
                "state": state,
                "nonce": nonce,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{metadata.authorization_endpoint}?{query}"

    async def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> TokenSet:
        """Trade the authorization code for tokens, and check the id_token."""
        tokens = await self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            }
        )
        if tokens.id_token is None:
            raise OidcError("The provider answered without an id_token; is 'openid' allowed?")
        await self.verify_id_token(tokens.id_token, nonce=nonce)
        return tokens

    async def refresh(self, refresh_token: str) -> TokenSet:
        """New tokens for a refresh token."""
        return await self._token_request(
            {"grant_type": "refresh_token", "refresh_token": refresh_token}
        )

    async def verify_id_token(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        """The id_token's claims, once its signature, issuer, audience, expiry and nonce hold."""
        metadata = await self.metadata()
        try:
            header = jwt.get_unverified_header(id_token)
            key = await self._signing_key(str(header.get("kid", "")))
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key.key,
                algorithms=ID_TOKEN_ALGORITHMS,
                audience=self.client_id,
                issuer=metadata.issuer,
                options={"require": ["exp", "iat", "sub"]},
                leeway=30,
            )
        except jwt.PyJWTError as error:
            raise OidcError(f"The id_token did not verify: {error}.") from error
        if claims.get("nonce") != nonce:
            raise OidcError("The id_token's nonce does not match this sign-in; start again.")
        return claims

    async def end_session_url(self, *, id_token_hint: str | None, post_logout_uri: str) -> str:
        """Where to send the browser so that the provider's session ends too."""
        metadata = await self.metadata()
        if metadata.end_session_endpoint is None:
            return post_logout_uri
        query: dict[str, str] = {
            "client_id": self.client_id,
            "post_logout_redirect_uri": post_logout_uri,
        }
        if id_token_hint:
            query["id_token_hint"] = id_token_hint
        return f"{metadata.end_session_endpoint}?{urlencode(query)}"

    async def _signing_key(self, kid: str) -> jwt.PyJWK:
        for attempt in range(2):
            if self._keys is None or attempt:
                # A kid we have not seen means the provider rotated its keys: fetch again.
                self._keys = jwt.PyJWKSet.from_dict(
                    await self._get_json((await self.metadata()).jwks_uri, "signing keys")
                )
            for key in self._keys.keys:
                if key.key_id == kid:
                    return key
        raise OidcError(f"The provider has no signing key {kid!r}.")

    async def _token_request(self, form: dict[str, str]) -> TokenSet:
        metadata = await self.metadata()
        now = time.time()
        try:
            response = await self._http.post(
                metadata.token_endpoint, data=form, auth=(self.client_id, self._secret)
            )
        except httpx.HTTPError as error:
            raise OidcError("The sign-in provider cannot be reached; try again.") from error
        if response.is_error:
            # The error code and description are the provider's; never the request's secrets.
            try:
                body = response.json()
            except ValueError:
                body = {}
            reason = body.get("error_description") or body.get("error") or response.status_code
            log.info("token request (%s) refused: %s", form["grant_type"], reason)
            raise OidcError(f"The sign-in provider refused: {reason}.")
        return TokenSet.from_answer(response.json(), now=now)

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url)
            response.raise_for_status()
            document: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise OidcError(f"Could not read the provider's {what} at {url}: {error}") from error
        return document
