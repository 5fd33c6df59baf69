"""Trillian's settings, read from ``TRILLIAN_*`` environment variables."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["AuthMode", "Settings"]


class AuthMode(StrEnum):
    """How people sign in to Trillian."""

    #: Ebling's built-in login (``EBLING_AUTH=simple``): a user name and password.
    SIMPLE = "simple"
    #: OpenID Connect against Keycloak (``EBLING_AUTH=oidc``).
    OIDC = "oidc"


class Settings(BaseSettings):
    """Everything Trillian can be told, with defaults for one machine."""

    model_config = SettingsConfigDict(env_prefix="TRILLIAN_", extra="ignore")

    ebling_url: str = Field(
        default="http://127.0.0.1:8080", description="Ebling's base URL, without /api/v1."
    )
    auth: AuthMode = AuthMode.SIMPLE
    oidc_issuer: str | None = Field(
        default=None, description="e.g. http://127.0.0.1:18080/realms/automation"
    )
    oidc_client_id: str = "trillian"
    oidc_client_secret: SecretStr | None = None
    session_secret: SecretStr | None = Field(
        default=None,
        description="Signs session cookies; random per process when unset.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8081",
        description="Where people reach Trillian; cookies are Secure when it is https.",
    )
    session_idle_minutes: int = Field(default=60, ge=1, le=24 * 60)
    session_max_hours: int = Field(default=12, ge=1, le=24 * 7)
    ebling_timeout_seconds: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _oidc_is_complete(self) -> Settings:
        if self.auth is AuthMode.OIDC:
            missing = [
                name
                for name, value in (
                    ("TRILLIAN_OIDC_ISSUER", self.oidc_issuer),
                    ("TRILLIAN_OIDC_CLIENT_SECRET", self.oidc_client_secret),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"TRILLIAN_AUTH=oidc needs {' and '.join(missing)}")
        return self

    @property
    def secure_cookies(self) -> bool:
        """Whether cookies carry ``Secure``: when people reach Trillian over https."""
        return self.public_url.lower().startswith("https://")

    @property
    def public_base(self) -> str:
        """The public URL without a trailing slash."""
        return self.public_url.rstrip("/")
