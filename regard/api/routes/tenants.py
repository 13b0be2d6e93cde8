"""``/v1/tenants`` (system role) and ``/v1/keys`` (admin role; another tenant's keys: system role)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from regard.api.auth import Caller, Service
from regard.api.paging import Paging
from regard.api.schemas.base import Paged
from regard.api.schemas.governance import KeyCreate, KeyOut, NewKeyOut, TenantCreate, TenantOut

router = APIRouter(tags=["tenants and keys"])


@router.post("/tenants", response_model=TenantOut, status_code=201, summary="Create a tenant")
def create_tenant(regard: Service, ctx: Caller, body: TenantCreate) -> TenantOut:
    """System role only: a tenant's admin cannot make tenants."""
    regard.create_tenant(body.tenant, ctx, body.display_name)
    return TenantOut(tenant=body.tenant)


@router.get("/tenants", response_model=Paged[TenantOut], summary="List tenants")
def list_tenants(regard: Service, ctx: Caller, paging: Paging) -> Paged[TenantOut]:
    return paging.cut(regard.list_tenants(ctx), lambda t: TenantOut(tenant=t))


@router.post("/keys", response_model=NewKeyOut, status_code=201, summary="Create an API key")
def create_key(regard: Service, ctx: Caller, body: KeyCreate) -> NewKeyOut:
    """The token is in this response only; only a hash of its secret is stored."""
    key = regard.create_api_key(
        body.roles, ctx, owner=body.owner, label=body.label, expires_in_days=body.expires_in_days, tenant=body.tenant
    )
    return NewKeyOut.of(key)


@router.get("/keys", response_model=Paged[KeyOut], summary="List the tenant's API keys")
def list_keys(regard: Service, ctx: Caller, paging: Paging) -> Paged[KeyOut]:
    return paging.cut(regard.list_api_keys(ctx), KeyOut.of)


@router.delete("/keys/{key_id}", status_code=204, response_class=Response, summary="Revoke an API key")
def revoke_key(
    regard: Service, ctx: Caller, key_id: Annotated[str, Path(max_length=32, description="The key's id.")]
) -> Response:
    regard.revoke_api_key(key_id, ctx)
    return Response(status_code=204)
