"""HTTP API of the iam domain: tenants (operator), the caller, users and API keys (owner, admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from bcone.core.auth import Principal
from bcone.core.deps import CurrentPrincipal, OperatorPrincipal, PageDep, SessionDep, require_roles
from bcone.core.pagination import Page
from bcone.iam import service
from bcone.iam.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    Me,
    TenantCreate,
    TenantOut,
    UserCreate,
    UserOut,
    UserUpdate,
)

router = APIRouter(tags=["iam"])

# require_roles() with no extra role admits exactly the tenant's owners and admins.
TenantAdmin = Annotated[Principal, Depends(require_roles())]


@router.post("/tenants", status_code=status.HTTP_201_CREATED)
def create_tenant(body: TenantCreate, _: OperatorPrincipal, session: SessionDep) -> TenantOut:
    """Create a tenant (brand). Platform operator only."""
    return service.create_tenant(session=session, slug=body.slug, name=body.name)


@router.get("/tenants")
def list_tenants(_: OperatorPrincipal, session: SessionDep, page: PageDep) -> Page[TenantOut]:
    """Every tenant of the platform. Platform operator only."""
    return service.list_tenants(session=session, params=page)


@router.get("/me")
def me(principal: CurrentPrincipal, session: SessionDep) -> Me:
    """The caller: tenant, role, and how they authenticated."""
    return service.describe_principal(principal, session=session)


@router.post("/users", status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, principal: TenantAdmin, session: SessionDep) -> UserOut:
    """Create a user of your tenant (owner, admin; only an owner creates owners)."""
    return service.create_user(
        session=session,
        email=body.email,
        display_name=body.display_name,
        password=body.password,
        role=body.role,
        org_id=body.org_id,
        actor=principal,
    )


@router.get("/users")
def list_users(_: TenantAdmin, session: SessionDep, page: PageDep) -> Page[UserOut]:
    """Your tenant's users; ``q`` searches email and name."""
    return service.list_users(session=session, params=page)


@router.get("/users/{user_id}")
def get_user(user_id: str, _: TenantAdmin, session: SessionDep) -> UserOut:
    """One user of your tenant."""
    return service.get_user(user_id, session=session)


@router.patch("/users/{user_id}")
def update_user(user_id: str, body: UserUpdate, principal: TenantAdmin, session: SessionDep) -> UserOut:
    """Change a user's name, role, organisation, status or password; only the fields sent change."""
    return service.update_user(user_id, body, session=session, actor=principal)


@router.post("/api-keys", status_code=status.HTTP_201_CREATED)
def create_api_key(body: ApiKeyCreate, principal: TenantAdmin, session: SessionDep) -> ApiKeyCreated:
    """Create an API key; the secret is in this response only."""
    return service.create_api_key(
        session=session,
        name=body.name,
        role=body.role,
        org_id=body.org_id,
        expires_at=body.expires_at,
        created_by=principal.user_id,
        actor=principal,
    )


@router.get("/api-keys")
def list_api_keys(_: TenantAdmin, session: SessionDep, page: PageDep) -> Page[ApiKeyOut]:
    """Your tenant's API keys (prefix only, never the secret)."""
    return service.list_api_keys(session=session, params=page)


@router.delete("/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_api_key(key_id: str, _: TenantAdmin, session: SessionDep) -> Response:
    """Revoke an API key; it stops working at once."""
    service.revoke_api_key(key_id, session=session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
