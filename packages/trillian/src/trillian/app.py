"""The Trillian ASGI application."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from trillian.csrf import SessionAndCsrfMiddleware
from trillian.ebling_client import EblingClient
from trillian.errors import install_error_pages
from trillian.routes import admin, auth, monitoring, reports
from trillian.security_headers import SecurityHeadersMiddleware, content_security_policy
from trillian.server_timing import ServerTimingMiddleware
from trillian.sessions import SessionStore
from trillian.settings import AuthMode, Settings
from trillian.signin.oidc import OidcClient
from trillian.web import Services

__all__ = ["create_app"]

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"


async def healthz(_: Request) -> Response:
    """Answers while the process is up."""
    return PlainTextResponse("ok")


def create_app(
    settings: Settings | None = None,
    *,
    ebling_transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """Build the dashboard for ``settings`` (from ``TRILLIAN_*`` variables if not given).

    Args:
        settings: what to connect to and how people sign in.
        ebling_transport: an httpx transport for Ebling instead of the network (tests).
    """
    settings = settings or Settings()
    if not (STATIC / "vendor" / "htmx.min.js").exists():
        log.warning("front-end assets are missing: run packages/trillian/scripts/build-assets")
    secret = settings.session_secret
    if secret is None:
        log.info("TRILLIAN_SESSION_SECRET is unset; session cookies are signed with a random key")
    sessions = SessionStore(
        secret.get_secret_value().encode() if secret else secrets.token_bytes(32),
        idle_seconds=settings.session_idle_minutes * 60,
        max_age_seconds=settings.session_max_hours * 3600,
    )
    oidc = None
    form_targets: tuple[str, ...] = ()
    if settings.auth is AuthMode.OIDC:
        # Settings refuses oidc without an issuer and a secret; "or" only satisfies the types.
        oidc = OidcClient(
            settings.oidc_issuer or "",
            settings.oidc_client_id,
            settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else "",
        )
        issuer = urlsplit(oidc.issuer)
        form_targets = (f"{issuer.scheme}://{issuer.netloc}",)
    ebling = EblingClient(
        settings.ebling_url, timeout=settings.ebling_timeout_seconds, transport=ebling_transport
    )
    parts = Services(settings=settings, ebling=ebling, sessions=sessions, oidc=oidc)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await ebling.close()
        if oidc is not None:
            await oidc.close()

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            *auth.routes,
            *monitoring.routes,
            *reports.routes,
            *admin.routes,
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[
            Middleware(ServerTimingMiddleware),
            Middleware(
                SecurityHeadersMiddleware,
                policy=content_security_policy(form_targets=form_targets),
                hsts=settings.secure_cookies,
            ),
            Middleware(SessionAndCsrfMiddleware, store=sessions),
        ],
        lifespan=lifespan,
    )
    app.state.services = parts
    install_error_pages(app)
    return app
