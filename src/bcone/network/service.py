"""The channel network's door: the functions other domains, the API, pages and commands call.

Organisations form a tree of fixed depth (distributor -> wholesaler -> store); staff are the
brand's sales reps, shop assistants and KOCs. Every function takes the unit of work as
``session=`` and returns :mod:`bcone.network.schemas` contracts, never rows.
"""

from __future__ import annotations

from bcone.core.auth import Principal
from bcone.core.errors import Forbidden
from bcone.network._imports import (
    ORGANIZATION_COLUMNS,
    STAFF_COLUMNS,
    import_organization_table,
    import_organizations,
    import_staff,
    import_staff_table,
)
from bcone.network._organizations import (
    create_organization,
    create_organizations_bulk,
    get_organization,
    get_organization_by_code,
    list_organizations,
    organization_ids_by_code,
    organization_subtree_ids,
    organizations_covering,
    update_organization,
)
from bcone.network._rules import division_label
from bcone.network._staff import create_staff, create_staff_bulk, get_staff, list_staff, update_staff

__all__ = [
    "ORGANIZATION_COLUMNS",
    "STAFF_COLUMNS",
    "create_organization",
    "create_organizations_bulk",
    "create_staff",
    "create_staff_bulk",
    "division_label",
    "get_organization",
    "get_organization_by_code",
    "get_staff",
    "import_organization_table",
    "import_organizations",
    "import_staff",
    "import_staff_table",
    "list_organizations",
    "list_staff",
    "organization_ids_by_code",
    "organization_subtree_ids",
    "organizations_covering",
    "partner_scope",
    "update_organization",
    "update_staff",
]


def partner_scope(principal: Principal) -> str | None:
    """The subtree a caller may see: a partner's own organisation, or None (the whole network).

    A partner user belongs to one organisation and sees it and everything below it; every
    other role of the brand sees the whole network.
    """
    if not principal.is_partner:
        return None
    if principal.org_id is None:
        raise Forbidden("this partner user is not linked to an organisation", field="org_id")
    return principal.org_id
