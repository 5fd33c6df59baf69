"""Managing API keys over the API (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select

from ebling.api.dependencies import DbSession, require
from ebling.api.problems import NotFound, ProblemError
from ebling.api.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from ebling.auth.api_keys import ApiKeyNotFound, create_api_key, revoke_api_key
from ebling.auth.principal import Permission, Principal
from ebling.db.engine import WRITE
from ebling.db.models import ApiKey

router = APIRouter(prefix="/api/v1/api-keys", tags=["api keys"])

Admin = Annotated[Principal, Depends(require(Permission.MANAGE_API_KEYS))]


@router.get("", summary="List API keys")
def list_api_keys(session: DbSession, _: Admin) -> list[ApiKeyOut]:
    """Every key, revoked ones included; never their secrets."""
    keys = session.scalars(select(ApiKey).order_by(ApiKey.id))
    return [ApiKeyOut.model_validate(key) for key in keys]


@router.post("", status_code=201, summary="Create an API key")
def create_key(session: DbSession, principal: Admin, request: ApiKeyCreate) -> ApiKeyCreated:
    """Create a key. Its secret is in this answer only: store it now."""
    if request.expires_at is not None and request.expires_at.tzinfo is None:
        raise ProblemError("'expires_at' needs a UTC offset.", status=422, slug="invalid-request")
    session.connection(execution_options=WRITE)
    created = create_api_key(
        session,
        name=request.name,
        roles=request.roles,
        expires_at=request.expires_at,
        created_by=principal.subject,
    )
    session.commit()
    return ApiKeyCreated(**ApiKeyOut.model_validate(created.record).model_dump(), key=created.token)


@router.delete("/{key_id}", summary="Revoke an API key")
def revoke_key(session: DbSession, _: Admin, key_id: int) -> ApiKeyOut:
    """Revoke a key at once; requests with it fail from now on."""
    session.connection(execution_options=WRITE)
    try:
        record = revoke_api_key(session, key_id)
    except ApiKeyNotFound as error:
        raise NotFound(f"No API key has id {key_id}.") from error
    session.commit()
    return ApiKeyOut.model_validate(record)
