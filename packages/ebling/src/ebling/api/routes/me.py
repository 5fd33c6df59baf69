"""``GET /api/v1/me``: who the caller is and what they may do."""

from __future__ import annotations

from fastapi import APIRouter

from ebling.api.dependencies import Authenticated
from ebling.api.schemas import Me

router = APIRouter(prefix="/api/v1", tags=["access"])


@router.get("/me", summary="The caller")
def me(principal: Authenticated) -> Me:
    """The caller's identity, roles and permissions, for any authenticated caller.

    A dashboard uses it to show who is signed in and which parts of it to offer.
    """
    return Me(
        subject=principal.subject,
        kind=principal.kind,
        display_name=principal.display_name,
        client_id=principal.client_id,
        roles=sorted(principal.roles),
        permissions=sorted(principal.permissions),
    )
