"""Records every write and every refused request in the audit log, after it is answered.

The middleware learns who called from the request's state, where authentication leaves the
principal (or, when it fails, the kind of credential tried), and why a request failed from
the problem handler, which leaves the problem's detail there.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from ebling.api.asgi import ResponseStatus
from ebling.audit import AuditEntry, is_audited, record_request
from ebling.auth.principal import Principal

__all__ = ["AUDIT_REASON", "AUTH_KIND", "PRINCIPAL", "AuditMiddleware"]

log = logging.getLogger(__name__)

# Keys in the request state (``request.state.<key>``) that the middleware reads.
PRINCIPAL = "principal"
AUTH_KIND = "auth_kind"
AUDIT_REASON = "audit_reason"


class AuditMiddleware:
    """Writes one audit event for each audited request, in a transaction of its own.

    The write happens once the response has been sent, so it adds nothing to the answer's
    latency; reads that succeed are not recorded and cost nothing. A failure to record is
    logged and does not turn an answered request into an error.
    """

    def __init__(self, app: ASGIApp, sessions: sessionmaker[Session]) -> None:
        self.app = app
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on and record it if it is a write or was refused."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response = ResponseStatus(send)
        try:
            await self.app(scope, receive, response.send)
        finally:
            if is_audited(scope["method"], response.status):
                entry = _entry(scope, response.status)
                try:
                    await run_in_threadpool(self._record, entry)
                except Exception:  # the request was answered: log and go on
                    log.exception("could not audit %s %s", entry.method, entry.path)

    def _record(self, entry: AuditEntry) -> None:
        with self.sessions() as session:
            record_request(session, entry)


def _entry(scope: Scope, status: int) -> AuditEntry:
    state: dict[str, Any] = scope.get("state") or {}
    principal = state.get(PRINCIPAL)
    client = scope.get("client")
    route = getattr(scope.get("route"), "path", None)
    reason = state.get(AUDIT_REASON) if status >= 400 else None
    # The kind of credential (api_key, oidc, simple, password) says more about an attempt
    # than the principal's kind, and is known even when authentication failed.
    if isinstance(principal, Principal):
        subject, client_id = principal.subject, principal.client_id
        kind = state.get(AUTH_KIND) or principal.kind
    else:
        subject, client_id, kind = None, None, state.get(AUTH_KIND) or "none"
    return AuditEntry(
        method=scope["method"],
        path=scope.get("path", ""),
        route=route,
        status=status,
        auth_kind=kind,
        subject=subject,
        client_id=client_id,
        reason=reason,
        remote_addr=client[0] if client else None,
    )
