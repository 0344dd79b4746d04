"""Rules shared by the iam service modules: input validation, role grants, partner organisations."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from bcone.core.auth import Principal, Role
from bcone.core.errors import NotFound, ValidationFailed
from bcone.iam.errors import OrgNotFound, OrgOnlyForPartner, OwnerRoleReserved, PartnerNeedsOrg
from bcone.network import service as network_service

M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], **data: Any) -> M:
    """``model(**data)``, with a Pydantic error turned into a 422 that names the field.

    Services validate their keyword arguments through the same schemas the API uses, so the CLI,
    fixtures and other domains get the same rules as HTTP callers.
    """
    try:
        return model(**data)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]
        first = errors[0]
        raise ValidationFailed(
            f"{first['field']}: {first['message']}", field=first["field"], errors=errors
        ) from exc


def require_role_grant(actor: Principal | None, role: Role | None, *, touches_owner: bool = False) -> None:
    """Only an owner may grant the owner role or change an owner. ``actor`` None is the system (CLI)."""
    if actor is None:
        return
    if (role is Role.owner or touches_owner) and actor.role is not Role.owner:
        raise OwnerRoleReserved("only an owner may grant or change the owner role", field="role")


def check_partner_org(role: Role, org_id: str | None, *, session: Session) -> None:
    """A partner is bound to one existing organisation of the channel network; nobody else is."""
    if role is Role.partner:
        if not org_id:
            raise PartnerNeedsOrg("a partner must belong to an organisation (org_id)", field="org_id")
        if not organisation_exists(org_id, session=session):
            raise OrgNotFound(f"no organisation {org_id} in this tenant", field="org_id")
    elif org_id is not None:
        raise OrgOnlyForPartner("only partner users belong to an organisation", field="org_id")


def organisation_exists(org_id: str, *, session: Session) -> bool:
    """Whether ``org_id`` is an organisation of the bound tenant's channel network."""
    try:
        network_service.get_organization(org_id, session=session)
    except NotFound:  # unknown, or another tenant's: the network answers alike
        return False
    return True
