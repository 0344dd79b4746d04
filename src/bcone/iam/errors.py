"""Errors of the iam domain, each with a stable ``code`` clients can rely on."""

from __future__ import annotations

from bcone.core.errors import BconeError, Conflict, Forbidden, NotFound, Unauthenticated, ValidationFailed


class TenantSlugTaken(Conflict):
    code = "tenant_slug_taken"
    title = "Tenant slug already taken"


class TenantNotFound(NotFound):
    code = "tenant_not_found"
    title = "Tenant not found"


class EmailTaken(Conflict):
    code = "email_taken"
    title = "Email already registered"


class UserNotFound(NotFound):
    code = "user_not_found"
    title = "User not found"


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"
    title = "API key not found"


class PartnerNeedsOrg(ValidationFailed):
    code = "partner_needs_org"
    title = "A partner user must belong to one organisation"


class OrgOnlyForPartner(ValidationFailed):
    code = "org_only_for_partner"
    title = "Only partner users belong to an organisation"


class OrgNotFound(ValidationFailed):
    code = "org_not_found"
    title = "Organisation not found"


class OwnerRoleReserved(Forbidden):
    code = "owner_role_reserved"
    title = "Only an owner may grant or change the owner role"


class LastOwner(Conflict):
    code = "last_owner"
    title = "A tenant keeps at least one active owner"


class InvalidCredentials(Unauthenticated):
    code = "invalid_credentials"
    title = "Wrong email or password"


class LoginThrottled(BconeError):
    code = "login_throttled"
    status = 429
    title = "Too many failed logins"
