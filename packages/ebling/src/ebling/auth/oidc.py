"""OpenID Connect access tokens (Keycloak's, or any provider's) as bearer credentials.

Ebling is a resource server: it never signs anyone in, it checks the tokens a provider
issued. The provider's signing keys come from its JWKS document, found through discovery
(``<issuer>/.well-known/openid-configuration``), and are cached. A token naming a key id
the cache does not know makes Ebling fetch the JWKS again, so a key rotated in at the
provider is picked up without a restart; those fetches are rate-limited, so a flood of
tokens with made-up key ids cannot turn Ebling into a load generator against the provider.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from sqlalchemy.orm import Session

from ebling.auth.authenticators import AuthenticationUnavailable, InvalidCredentials
from ebling.auth.principal import Principal, Role

__all__ = [
    "DEFAULT_ALGORITHMS",
    "JwksCache",
    "OidcAuthenticator",
    "OidcConfig",
    "SigningKey",
    "looks_like_jwt",
    "roles_from_claims",
]

log = logging.getLogger(__name__)

# Asymmetric algorithms only. HS* would let anyone who knows the public key (everyone) sign
# tokens if the key were ever used as an HMAC secret, and "none" is no signature at all.
DEFAULT_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
_FORBIDDEN_ALGORITHMS = frozenset({"none", "HS256", "HS384", "HS512"})

# The claims an access token must have for Ebling to know whose it is and until when.
_REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]


def looks_like_jwt(token: str) -> bool:
    """Whether ``token`` has a JWS compact serialisation's shape: three dot-separated parts."""
    parts = token.split(".")
    return len(parts) == 3 and bool(parts[0]) and bool(parts[1])


@dataclass(frozen=True, slots=True)
class OidcConfig:
    """What Ebling is told about its identity provider.

    Attributes:
        issuer: The provider's issuer URL, exactly as tokens carry it in ``iss``, such as
            ``https://sso.example.org/realms/automation``.
        audience: The ``aud`` a token must include: Ebling's client id at the provider.
        algorithms: The signature algorithms accepted; asymmetric ones only.
        leeway_seconds: Clock skew tolerated on ``exp``, ``nbf`` and ``iat``.
        jwks_refresh_interval_seconds: The least time between two fetches of the JWKS
            caused by unknown key ids.
        jwks_max_age_seconds: How long fetched keys are trusted before they are fetched
            again, so a key the provider withdrew stops verifying tokens.
        http_timeout_seconds: How long to wait for the provider's discovery and JWKS.
    """

    issuer: str
    audience: str = "ebling"
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    leeway_seconds: float = 30.0
    jwks_refresh_interval_seconds: float = 10.0
    jwks_max_age_seconds: float = 300.0
    http_timeout_seconds: float = 5.0

    def __post_init__(self) -> None:
        forbidden = sorted(_FORBIDDEN_ALGORITHMS.intersection(self.algorithms))
        if forbidden:
            raise ValueError(
                f"OIDC algorithms {forbidden} are not allowed: use asymmetric ones such as "
                "RS256, PS256 or ES256."
            )
        if not self.algorithms:
            raise ValueError("OIDC needs at least one signature algorithm, such as RS256.")


# Which key type signs with which algorithm family.
_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A published signing key and the algorithm its JWK declares, if any."""

    kid: str
    key_type: str
    algorithm: str | None
    jwk: jwt.PyJWK

    def signs_with(self, algorithm: str) -> bool:
        """Whether a signature made with ``algorithm`` can come from this key."""
        if self.algorithm is not None:
            return self.algorithm == algorithm
        return _KEY_TYPES.get(algorithm[:2]) == self.key_type


@dataclass(slots=True)
class _JwksState:
    keys: dict[str, SigningKey] = field(default_factory=dict)
    jwks_uri: str | None = None
    fetched_at: float | None = None


class JwksCache:
    """The provider's signing keys by key id, fetched on demand and again for unknown ids.

    Thread-safe: Ebling checks tokens in a thread pool, and one fetch serves every thread
    waiting for it.

    Args:
        config: The provider's settings.
        http: The HTTP client to reach the provider with; a new one by default.
        clock: A monotonic clock, for tests.
    """

    def __init__(
        self,
        config: OidcConfig,
        *,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._http = http or httpx.Client(timeout=config.http_timeout_seconds)
        self._clock = clock
        self._lock = threading.Lock()
        self._state = _JwksState()

    def close(self) -> None:
        """Close the connections to the provider."""
        self._http.close()

    def key(self, kid: str | None) -> SigningKey | None:
        """The key with id ``kid``, or None if the provider does not publish it.

        A token without a ``kid`` is matched when the provider publishes exactly one key.
        Keys older than the maximum age are fetched again first; if the provider cannot be
        reached then, the old keys go on serving rather than refusing every caller.

        Raises:
            AuthenticationUnavailable: the provider could not be reached to look the key up.
        """
        if not self._expired():
            key = self._lookup(kid)
            if key is not None:
                return key
        with self._lock:
            # Another thread may have fetched while this one waited for the lock.
            expired = self._expired()
            if not expired:
                key = self._lookup(kid)
                if key is not None or not self._may_fetch():
                    return key
            try:
                self._fetch()
            except AuthenticationUnavailable:
                if not (expired and self._state.keys):
                    raise
            return self._lookup(kid)

    def _lookup(self, kid: str | None) -> SigningKey | None:
        keys = self._state.keys
        if kid is None:
            return next(iter(keys.values())) if len(keys) == 1 else None
        return keys.get(kid)

    def _expired(self) -> bool:
        fetched_at = self._state.fetched_at
        return fetched_at is None or self._clock() - fetched_at >= self._config.jwks_max_age_seconds

    def _may_fetch(self) -> bool:
        fetched_at = self._state.fetched_at
        interval = self._config.jwks_refresh_interval_seconds
        return fetched_at is None or self._clock() - fetched_at >= interval

    def _fetch(self) -> None:
        # Counted as a fetch even when it fails, so an unreachable provider is not hammered.
        self._state.fetched_at = self._clock()
        try:
            jwks_uri = self._state.jwks_uri or self._discover_jwks_uri()
            response = self._http.get(jwks_uri)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as error:
            log.warning("could not fetch the JWKS of %s: %s", self._config.issuer, error)
            raise AuthenticationUnavailable(
                "the identity provider could not be reached to check the token; try again"
            ) from error
        self._state.jwks_uri = jwks_uri
        self._state.keys = _signing_keys(document.get("keys", []))
        log.info("fetched %d signing keys of %s", len(self._state.keys), self._config.issuer)

    def _discover_jwks_uri(self) -> str:
        url = self._config.issuer.rstrip("/") + "/.well-known/openid-configuration"
        response = self._http.get(url)
        response.raise_for_status()
        document = response.json()
        # A discovery document for another issuer means a misconfiguration (or worse); its
        # keys must not be trusted for this one.
        if document.get("issuer") != self._config.issuer:
            raise ValueError(
                f"discovery at {url} names issuer {document.get('issuer')!r}, "
                f"not {self._config.issuer!r}"
            )
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri:
            raise ValueError(f"discovery at {url} has no jwks_uri")
        return jwks_uri


def _signing_keys(entries: Iterable[Any]) -> dict[str, SigningKey]:
    keys: dict[str, SigningKey] = {}
    for entry in entries:
        if not isinstance(entry, Mapping) or entry.get("use", "sig") != "sig":
            continue  # encryption keys sign nothing
        try:
            jwk = jwt.PyJWK(dict(entry))
        except jwt.PyJWTError:
            continue  # a key type or algorithm this build cannot use
        kid = str(entry.get("kid", ""))
        algorithm = entry.get("alg")
        keys[kid] = SigningKey(
            kid=kid,
            key_type=str(entry.get("kty", "")),
            algorithm=algorithm if isinstance(algorithm, str) else None,
            jwk=jwk,
        )
    return keys


def roles_from_claims(claims: Mapping[str, Any], audience: str) -> frozenset[Role]:
    """The platform roles in a token: realm roles and the audience client's roles.

    Keycloak puts realm roles in ``realm_access.roles`` and a client's roles in
    ``resource_access.<client>.roles``. Roles that are not the platform's (Keycloak's own
    ``offline_access``, say) are ignored.
    """
    names: set[str] = set()
    realm_access = claims.get("realm_access")
    if isinstance(realm_access, Mapping):
        names.update(_strings(realm_access.get("roles")))
    resource_access = claims.get("resource_access")
    if isinstance(resource_access, Mapping):
        client_access = resource_access.get(audience)
        if isinstance(client_access, Mapping):
            names.update(_strings(client_access.get("roles")))
    known = {role.value for role in Role}
    return frozenset(Role(name) for name in names if name in known)


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


class OidcAuthenticator:
    """Access tokens from the configured OpenID Connect provider.

    Args:
        config: The provider's settings.
        keys: Where signing keys come from; a :class:`JwksCache` for ``config`` by default.
    """

    kind = "oidc"

    def __init__(self, config: OidcConfig, *, keys: JwksCache | None = None) -> None:
        self.config = config
        self._keys = keys or JwksCache(config)

    def recognises(self, token: str) -> bool:
        """Anything shaped like a JWT."""
        return looks_like_jwt(token)

    def close(self) -> None:
        """Close the connections to the provider."""
        self._keys.close()

    def authenticate(self, token: str, session: Session) -> Principal:
        """Verify the token's signature and claims and return whose it is.

        Raises:
            InvalidCredentials: the token is malformed, signed with a key or algorithm not
                accepted, expired, not yet valid, or for another issuer or audience.
            AuthenticationUnavailable: the provider's keys could not be fetched.
        """
        claims = self._verified_claims(token)
        subject = str(claims["sub"])
        client_id = claims.get("azp") or claims.get("client_id")
        # A Keycloak token issued to a person belongs to a session (``sid``); one from the
        # client-credentials grant has none.
        kind = "user" if claims.get("sid") else "service_account"
        display_name = (
            claims.get("preferred_username")
            or claims.get("name")
            or claims.get("email")
            or client_id
            or subject
        )
        return Principal(
            subject=subject,
            kind=kind,
            roles=roles_from_claims(claims, self.config.audience),
            display_name=str(display_name),
            client_id=str(client_id) if client_id else None,
        )

    def _verified_claims(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise InvalidCredentials("the token is not a well-formed JWT") from error
        algorithm = header.get("alg")
        if algorithm not in self.config.algorithms:
            raise InvalidCredentials(f"the token's signature algorithm {algorithm!r} is refused")
        kid = header.get("kid")
        key = self._keys.key(kid if isinstance(kid, str) else None)
        if key is None:
            raise InvalidCredentials("the token is signed by a key the issuer does not publish")
        # The key's own algorithm, where the JWKS names one, must be the token's: a key
        # published for RS256 does not verify a PS256 signature.
        if not key.signs_with(algorithm):
            raise InvalidCredentials("the token's algorithm does not match its key")

        try:
            # The raw key, so the (allow-listed) algorithm of the header is the one used.
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key.jwk.key,
                algorithms=[algorithm],
                audience=self.config.audience,
                issuer=self.config.issuer,
                leeway=self.config.leeway_seconds,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.PyJWTError as error:
            raise InvalidCredentials(_reason(error)) from error

        # ID tokens and refresh tokens are JWTs from the same issuer too; only access tokens
        # grant access. Keycloak marks them "Bearer"; RFC 9068 tokens use the header instead.
        token_type = claims.get("typ")
        if token_type is not None and token_type != "Bearer":  # noqa: S105 - a token type
            raise InvalidCredentials(f"the token is a {token_type!r} token, not an access token")
        return claims


def _reason(error: jwt.PyJWTError) -> str:
    reasons: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
        (jwt.ExpiredSignatureError, "the token has expired"),
        (jwt.ImmatureSignatureError, "the token is not valid yet"),
        (jwt.InvalidAudienceError, "the token is not meant for Ebling (its audience)"),
        (jwt.InvalidIssuerError, "the token comes from another issuer"),
        (jwt.InvalidSignatureError, "the token's signature does not verify"),
        (jwt.MissingRequiredClaimError, "the token lacks a required claim"),
        (jwt.InvalidAlgorithmError, "the token's signature algorithm is refused"),
    )
    for kind, reason in reasons:
        if isinstance(error, kind):
            if isinstance(error, jwt.MissingRequiredClaimError):
                return f"{reason} ({error.claim})"
            return reason
    return "the token does not verify"
