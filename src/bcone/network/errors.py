"""Errors of the channel network, each with a stable ``code``."""

from __future__ import annotations

from bcone.core.errors import Conflict, NotFound, ValidationFailed


class OrganizationNotFound(NotFound):
    code = "organization_not_found"
    title = "Organisation not found"


class StaffNotFound(NotFound):
    code = "staff_not_found"
    title = "Staff member not found"


class DuplicateCode(Conflict):
    code = "duplicate_code"
    title = "Code already in use"


class InvalidParent(ValidationFailed):
    """The parent breaks the tree: distributor -> wholesaler -> store, no cycles."""

    code = "invalid_parent"
    title = "Invalid parent organisation"


class UnknownOrganization(ValidationFailed):
    """A reference (parent, organisation of a staff member) names no organisation of this tenant."""

    code = "unknown_organization"
    title = "Unknown organisation"


class HasChildren(Conflict):
    code = "has_children"
    title = "Organisation has child organisations"


class InvalidLocation(ValidationFailed):
    code = "invalid_location"
    title = "Invalid location"


class InvalidStaffOrganization(ValidationFailed):
    """The staff member's kind does not fit the organisation given (or the lack of one)."""

    code = "invalid_staff_organization"
    title = "Invalid organisation for this staff member"


class AmbiguousDivision(ValidationFailed):
    """A division name typed in a form names several divisions (朝阳区 is in Beijing and Changchun)."""

    code = "ambiguous_division"
    title = "Ambiguous division name"


class NotANumber(ValidationFailed):
    code = "number"
    title = "Not a number"
