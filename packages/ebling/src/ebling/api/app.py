"""The Ebling ASGI application."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ebling import __version__
from ebling.api.audit_middleware import AuditMiddleware
from ebling.api.metrics import Metrics, MetricsMiddleware
from ebling.api.problems import install_problem_handlers
from ebling.api.routes import (
    api_keys,
    artifacts,
    audit,
    health,
    lineage,
    login,
    me,
    monitoring,
    reports,
    usage,
)
from ebling.auth.authenticators import ApiKeyAuthenticator, Authenticator
from ebling.auth.oidc import OidcAuthenticator
from ebling.auth.simple_tokens import SimpleTokenAuthenticator, load_or_create_signing_key
from ebling.db.engine import create_database_engine, session_factory
from ebling.settings import AuthMode, Settings

__all__ = ["create_app"]

DESCRIPTION = """\
Ebling records every run of every workflow, whatever orchestrates it.

Orchestrators report through `POST /api/v1/lineage` in OpenLineage; everything else reads.
Authenticate with `Authorization: Bearer <API key or access token>`: an OpenID Connect
access token (`EBLING_AUTH=oidc`) or a token from `POST /api/v1/auth/login` (simple).
Errors are RFC 9457 problem documents. Lists take `limit` and `cursor` and answer with
`next_cursor`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application for ``settings`` (from the environment if not given)."""
    settings = settings or Settings()
    engine = create_database_engine(
        settings.resolved_database_url, pool_size=settings.database_pool_size
    )

    store = settings.object_store()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Fails early on a store that cannot be reached, and creates the bucket or folder
        # where the settings allow it.
        store.check()
        # Modules, routes, validators and table metadata live as long as the process.
        # Frozen, the garbage collector stops walking them in every full collection, which
        # a batch of events sets off every request or two: a third of a worker's CPU.
        gc.collect()
        gc.freeze()
        yield
        engine.dispose()
        if oidc is not None:
            oidc.close()

    app = FastAPI(
        title="Ebling",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    metrics = Metrics()
    sessions = session_factory(engine)
    # API keys work in every mode; beside them, the tokens of the configured sign-in.
    authenticators: list[Authenticator] = [ApiKeyAuthenticator()]
    oidc: OidcAuthenticator | None = None
    if settings.auth is AuthMode.OIDC:
        oidc = OidcAuthenticator(settings.oidc_config())
        authenticators.append(oidc)
    else:
        app.state.token_signing_key = load_or_create_signing_key(settings.home)
        authenticators.append(SimpleTokenAuthenticator(app.state.token_signing_key))
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.store = store
    app.state.metrics = metrics
    app.state.authenticators = authenticators

    install_problem_handlers(app)
    app.add_middleware(AuditMiddleware, sessions=sessions)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    for module in (
        health,
        login,
        me,
        lineage,
        monitoring,
        reports,
        artifacts,
        usage,
        api_keys,
        audit,
    ):
        app.include_router(module.router)
    return app
