"""Administration: API keys (created and shown once, revoked) and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from trillian.access import Permission
from trillian.ebling_client import EblingError
from trillian.timeutil import rfc3339
from trillian.web import access_token, render, require, services

__all__ = ["routes"]

ROLES = ("viewer", "operator", "billing", "admin", "ingest")
AUDIT_PER_PAGE = 50
AUDIT_OUTCOMES = ("success", "unauthenticated", "denied", "failure")


async def _keys_page(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    session = require(request, Permission.API_KEYS)
    token = await access_token(request, session)
    keys = await services(request).ebling.get("/api-keys", token=token)
    created = session.flash.pop("created_key", None)
    created_name = session.flash.pop("created_name", None)
    return render(
        request,
        "admin/api_keys.html",
        {
            "keys": sorted(keys, key=lambda k: k["id"], reverse=True),
            "roles": ROLES,
            "created_key": created,
            "created_name": created_name,
            "error": error,
        },
        status=status,
    )


async def api_keys(request: Request) -> Response:
    """Every API key, and a form to create one."""
    return await _keys_page(request)


async def create_api_key(request: Request) -> Response:
    """Create a key; its secret is shown on the next page, once, and never again."""
    session = require(request, Permission.API_KEYS)
    token = await access_token(request, session)
    form = await request.form()
    name = str(form.get("name", "")).strip()
    roles = [str(role) for role in form.getlist("roles")]
    days = str(form.get("expires_in_days", "")).strip()
    if not name or not roles:
        return await _keys_page(
            request, error="Give the key a name and at least one role.", status=400
        )
    body: dict[str, object] = {"name": name, "roles": roles}
    if days:
        if not days.isdigit() or not 1 <= int(days) <= 3650:
            return await _keys_page(
                request, error="Expiry is a whole number of days, 1 to 3650.", status=400
            )
        body["expires_at"] = rfc3339(datetime.now(UTC) + timedelta(days=int(days)))
    try:
        created = await services(request).ebling.post("/api-keys", token=token, json=body)
    except EblingError as error:
        if error.status >= 500:
            raise
        return await _keys_page(request, error=error.detail, status=error.status)
    # Post/redirect/get, so reloading the page shows the list, not a second new key.
    session.flash["created_key"] = created["key"]
    session.flash["created_name"] = created["name"]
    return RedirectResponse("/admin/api-keys", status_code=303)


async def revoke_api_key(request: Request) -> Response:
    """Revoke a key at once."""
    session = require(request, Permission.API_KEYS)
    token = await access_token(request, session)
    await services(request).ebling.delete(f"/api-keys/{request.path_params['key_id']}", token=token)
    return RedirectResponse("/admin/api-keys", status_code=303)


async def audit_log(request: Request) -> Response:
    """Who did what, newest first, by person and outcome."""
    session = require(request, Permission.AUDIT)
    token = await access_token(request, session)
    filters = {
        "subject": request.query_params.get("subject", "").strip(),
        "outcome": request.query_params.get("outcome", ""),
    }
    page = await services(request).ebling.get(
        "/audit-events",
        token=token,
        params={**filters, "limit": AUDIT_PER_PAGE, "cursor": request.query_params.get("cursor")},
    )
    return render(
        request,
        "admin/audit.html",
        {
            "events": page["items"],
            "filters": filters,
            "outcomes": AUDIT_OUTCOMES,
            "next_cursor": page.get("next_cursor"),
            "paged": bool(request.query_params.get("cursor")),
        },
    )


routes = [
    Route("/admin/api-keys", api_keys, methods=["GET"]),
    Route("/admin/api-keys", create_api_key, methods=["POST"]),
    Route("/admin/api-keys/{key_id:int}/revoke", revoke_api_key, methods=["POST"]),
    Route("/admin/audit", audit_log, methods=["GET"]),
]
