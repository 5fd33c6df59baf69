"""Ebling's settings, read from ``EBLING_*`` environment variables and an optional TOML file.

Precedence, highest first: arguments given in code, environment variables, the file named by
``EBLING_CONFIG_FILE``, then the defaults below, which run everything embedded on one machine.
"""

from __future__ import annotations

import os
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from ebling.auth.oidc import DEFAULT_ALGORITHMS, OidcConfig
from ebling.storage import ObjectStore, S3Settings, open_store

__all__ = ["AuthMode", "Settings", "default_home"]


class AuthMode(StrEnum):
    """How people sign in. API keys work in every mode."""

    SIMPLE = "simple"
    OIDC = "oidc"


def default_home() -> Path:
    """Where the embedded database and files live unless configured otherwise."""
    return Path(os.environ.get("EBLING_HOME", Path.home() / ".ebling")).expanduser()


class Settings(BaseSettings):
    """Everything Ebling can be told, with the embedded defaults."""

    model_config = SettingsConfigDict(env_prefix="EBLING_", extra="ignore")

    home: Path = Field(default_factory=default_home)
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means a SQLite file under `home`.",
    )
    storage_url: str = Field(
        default="",
        description="file:///dir or s3://bucket/prefix; empty means the storage folder in home.",
    )
    s3_endpoint_url: str | None = Field(
        default=None,
        description="the S3 server of an s3:// storage URL, e.g. http://127.0.0.1:9000; unset: AWS",
    )
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_region: str = "us-east-1"
    s3_create_bucket: bool = Field(
        default=False,
        description="create the storage bucket if it is missing (embedded set-ups and tests)",
    )
    auth: AuthMode = AuthMode.SIMPLE
    oidc_issuer: str | None = Field(
        default=None,
        description="with auth=oidc: the provider's issuer, e.g. https://sso/realms/automation",
    )
    oidc_audience: str = Field(
        default="ebling", description="the audience access tokens must name: Ebling's client id"
    )
    oidc_algorithms: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ALGORITHMS),
        description="accepted token signature algorithms; asymmetric ones only",
    )
    oidc_leeway_seconds: float = Field(default=30.0, ge=0, le=300)
    oidc_jwks_refresh_seconds: float = Field(
        default=10.0,
        ge=0,
        description="least time between JWKS fetches caused by tokens with unknown key ids",
    )
    oidc_jwks_max_age_seconds: float = Field(
        default=300.0, gt=0, description="how long fetched signing keys are used unchecked"
    )
    login_token_lifetime_seconds: int = Field(
        default=3600, ge=60, le=86_400, description="how long a simple sign-in's token is valid"
    )
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    max_batch_events: int = Field(default=1000, ge=1, le=10_000)
    max_upload_bytes: int = Field(
        default=1024**3, ge=1024, description="Largest artifact or report file, in bytes."
    )
    database_pool_size: int = Field(default=10, ge=1)
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _oidc_needs_an_issuer(self) -> Self:
        if self.auth is AuthMode.OIDC and not self.oidc_issuer:
            raise ValueError(
                "EBLING_AUTH=oidc needs EBLING_OIDC_ISSUER, the identity provider's issuer URL "
                "(for Keycloak: https://<host>/realms/automation)"
            )
        if self.auth is AuthMode.OIDC:
            self.oidc_config()  # refuses HS* and "none" at start rather than at the first token
        return self

    def oidc_config(self) -> OidcConfig:
        """The identity provider's settings, for ``EBLING_AUTH=oidc``."""
        if not self.oidc_issuer:
            raise ValueError("EBLING_OIDC_ISSUER is not set")
        return OidcConfig(
            issuer=self.oidc_issuer,
            audience=self.oidc_audience,
            algorithms=tuple(self.oidc_algorithms),
            leeway_seconds=self.oidc_leeway_seconds,
            jwks_refresh_interval_seconds=self.oidc_jwks_refresh_seconds,
            jwks_max_age_seconds=self.oidc_jwks_max_age_seconds,
        )

    @field_validator("home", mode="after")
    @classmethod
    def _expand_home(cls, home: Path) -> Path:
        return home.expanduser()

    @cached_property
    def resolved_database_url(self) -> str:
        """The database URL to connect to, with the embedded default filled in."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'ebling.db'}"

    @cached_property
    def resolved_storage_url(self) -> str:
        """The storage URL, with the embedded default filled in."""
        if self.storage_url:
            return self.storage_url
        return (self.home / "storage").as_uri()

    def object_store(self) -> ObjectStore:
        """Open the object store named by the storage URL, reaching S3 with the s3_* settings."""
        secret = self.s3_secret_access_key
        s3 = S3Settings(
            endpoint_url=self.s3_endpoint_url,
            access_key_id=self.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret else None,
            region=self.s3_region,
            create_bucket=self.s3_create_bucket,
        )
        return open_store(self.resolved_storage_url, s3=s3)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Add the TOML file named by ``EBLING_CONFIG_FILE`` below the environment."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("EBLING_CONFIG_FILE")
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)
