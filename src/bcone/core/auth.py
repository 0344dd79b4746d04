"""Who is calling: roles, the principal of a request, and the authenticator port.

``iam`` owns users, sessions and API keys and implements :data:`Authenticator`; the app
installs it on ``app.state.authenticator``. Every other domain only sees :class:`Principal`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from fastapi import Request
from sqlalchemy.orm import Session


class Role(StrEnum):
    owner = "owner"
    admin = "admin"
    marketer = "marketer"
    sales_manager = "sales_manager"
    sales_rep = "sales_rep"
    analyst = "analyst"
    partner = "partner"


# Owner and admin may do everything inside their tenant.
SUPER_ROLES = frozenset({Role.owner, Role.admin})
# Roles that may read brand-wide data (a partner sees only its own organisation).
BRAND_ROLES = frozenset(Role) - {Role.partner}


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request."""

    via: Literal["session", "api_key"]
    tenant_id: str | None
    user_id: str | None = None
    role: Role | None = None
    org_id: str | None = None  # set for partner users: the one organisation they belong to
    is_operator: bool = False  # platform operator: creates tenants, belongs to none
    api_key_id: str | None = None
    session_id: str | None = None
    csrf_token: str | None = None
    display_name: str = ""
    tenant_name: str = ""

    def has_role(self, *roles: Role) -> bool:
        if self.role is None:
            return False
        return self.role in SUPER_ROLES or self.role in roles

    @property
    def is_partner(self) -> bool:
        return self.role is Role.partner


Authenticator = Callable[[Request, Session], Principal | None]
