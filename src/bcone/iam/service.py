"""Tenants, users, roles, API keys and console sessions: the only door other domains use.

Why ``users`` is scoped here and not by the automatic tenant filter: a login looks a user up by
email before any tenant is known, and the platform operator belongs to no tenant, so the table
cannot be :class:`~bcone.core.tenancy.TenantScoped`. Every user query that runs for a tenant goes
through :func:`_tenant_users`, which takes the tenant bound to the session - the one place the
tenant criterion is written by hand. The look-ups that must cross tenants (login by email, the
global uniqueness of emails, resolving a cookie or an API key) say so where they happen.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bcone.core.auth import Principal, Role
from bcone.core.db import utcnow
from bcone.core.errors import ValidationFailed
from bcone.core.pagination import Page, PageParams, paginate_rows
from bcone.core.tenancy import current_tenant
from bcone.iam._rules import check_partner_org, require_role_grant, validated
from bcone.iam.credentials import (
    API_KEY_PREFIX,
    SESSION_COOKIE,
    authenticate_request,
    create_api_key,
    dummy_password_hash,
    end_console_session,
    end_console_session_by_token,
    end_user_sessions,
    hash_password,
    list_api_keys,
    password_needs_rehash,
    revoke_api_key,
    start_console_session,
    verify_password,
)
from bcone.iam.errors import (
    EmailTaken,
    InvalidCredentials,
    LastOwner,
    LoginThrottled,
    TenantNotFound,
    TenantSlugTaken,
    UserNotFound,
)
from bcone.iam.models import LoginFailure, Tenant, User
from bcone.iam.schemas import Me, OperatorCreate, TenantCreate, TenantOut, UserCreate, UserOut, UserUpdate

__all__ = [
    "API_KEY_PREFIX",
    "LOGIN_FAILURE_LIMIT",
    "LOGIN_FAILURE_LIMIT_PER_CLIENT",
    "LOGIN_FAILURE_WINDOW",
    "SESSION_COOKIE",
    "authenticate_password",
    "authenticate_request",
    "create_api_key",
    "create_operator",
    "create_tenant",
    "create_user",
    "describe_principal",
    "end_console_session",
    "end_console_session_by_token",
    "get_tenant",
    "get_tenant_by_slug",
    "get_user",
    "list_api_keys",
    "list_tenants",
    "list_users",
    "revoke_api_key",
    "set_tenant_status",
    "start_console_session",
    "update_user",
]

# Password guessing against one account: after this many failures within the window, further
# attempts are refused without checking the password (OWASP authentication cheat sheet).
LOGIN_FAILURE_LIMIT = 10
# Password spraying tries a few passwords on many emails: one address gets this many failures.
LOGIN_FAILURE_LIMIT_PER_CLIENT = 50
LOGIN_FAILURE_WINDOW = timedelta(minutes=15)


# --- tenants ----------------------------------------------------------------------------------


def create_tenant(*, session: Session, slug: str, name: str) -> TenantOut:
    """Create a tenant (brand). Slugs are unique across the platform."""
    data = validated(TenantCreate, slug=slug, name=name)
    if session.scalar(select(Tenant.id).where(Tenant.slug == data.slug)) is not None:
        raise TenantSlugTaken(f"tenant slug {data.slug!r} is taken", field="slug")
    row = Tenant(slug=data.slug, name=data.name, status="active")
    _insert(session, row, TenantSlugTaken(f"tenant slug {data.slug!r} is taken", field="slug"))
    return TenantOut.model_validate(row)


def list_tenants(*, session: Session, params: PageParams) -> Page[TenantOut]:
    """Every tenant of the platform (operator view), by slug; ``q`` searches slug and name."""
    stmt = select(Tenant).order_by(Tenant.slug)
    if params.q:
        needle = params.q.lower()
        stmt = stmt.where(
            or_(
                func.lower(Tenant.slug).contains(needle, autoescape=True),
                func.lower(Tenant.name).contains(needle, autoescape=True),
            )
        )
    rows, total = paginate_rows(session, stmt, params)
    return Page[TenantOut](
        items=[TenantOut.model_validate(r) for r in rows],
        total=total,
        page=params.page,
        page_size=params.page_size,
    )


def get_tenant(tenant_id: str, *, session: Session) -> TenantOut:
    """One tenant by id."""
    row = session.get(Tenant, tenant_id)
    if row is None:
        raise TenantNotFound(f"no tenant {tenant_id}", field="tenant_id")
    return TenantOut.model_validate(row)


def get_tenant_by_slug(slug: str, *, session: Session) -> TenantOut:
    """One tenant by its slug."""
    row = session.scalar(select(Tenant).where(Tenant.slug == slug.strip().lower()))
    if row is None:
        raise TenantNotFound(f"no tenant {slug!r}", field="slug")
    return TenantOut.model_validate(row)


def set_tenant_status(tenant_id: str, status: str, *, session: Session) -> TenantOut:
    """Suspend or reactivate a tenant; a suspended tenant's logins and keys stop working at once."""
    if status not in ("active", "suspended"):
        raise ValidationFailed("status must be active or suspended", field="status")
    row = session.get(Tenant, tenant_id)
    if row is None:
        raise TenantNotFound(f"no tenant {tenant_id}", field="tenant_id")
    row.status = status
    session.flush()
    return TenantOut.model_validate(row)


# --- users ------------------------------------------------------------------------------------


def _tenant_users(session: Session) -> Select[User]:
    """Users of the tenant bound to ``session``: the one place ``users`` is filtered by tenant."""
    return select(User).where(User.tenant_id == current_tenant(session))


def _tenant_user(user_id: str, *, session: Session) -> User:
    row = session.scalar(_tenant_users(session).where(User.id == user_id))
    if row is None:
        raise UserNotFound(f"no user {user_id}", field="user_id")
    return row


def _insert(session: Session, row: Any, conflict: Exception) -> None:
    """Insert ``row`` in a savepoint; a unique violation (a concurrent twin) becomes ``conflict``."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        raise conflict from exc


def _check_email_free(session: Session, email: str) -> None:
    # Emails are unique across tenants (a login names no tenant), so this look-up is global.
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise EmailTaken(f"{email} is already registered", field="email")


def create_user(
    *,
    session: Session,
    email: str,
    display_name: str,
    password: str,
    role: Role | str,
    org_id: str | None = None,
    actor: Principal | None = None,
) -> UserOut:
    """Create a user of the bound tenant.

    Emails are unique platform-wide. Only an owner creates owners (``actor`` None is the system).
    A partner belongs to exactly one organisation of the channel network; other roles to none.
    """
    data = validated(
        UserCreate, email=email, display_name=display_name, password=password, role=role, org_id=org_id
    )
    tenant_id = current_tenant(session)
    require_role_grant(actor, data.role)
    check_partner_org(data.role, data.org_id, session=session)
    _check_email_free(session, data.email)
    row = User(
        tenant_id=tenant_id,
        email=data.email,
        display_name=data.display_name,
        password_hash=hash_password(data.password),
        role=data.role.value,
        org_id=data.org_id,
        is_operator=False,
        status="active",
    )
    _insert(session, row, EmailTaken(f"{data.email} is already registered", field="email"))
    return UserOut.model_validate(row)


def create_operator(*, session: Session, email: str, display_name: str, password: str) -> UserOut:
    """Create a platform operator: belongs to no tenant, creates and suspends tenants."""
    data = validated(OperatorCreate, email=email, display_name=display_name, password=password)
    _check_email_free(session, data.email)
    row = User(
        tenant_id=None,
        email=data.email,
        display_name=data.display_name,
        password_hash=hash_password(data.password),
        role=None,
        org_id=None,
        is_operator=True,
        status="active",
    )
    _insert(session, row, EmailTaken(f"{data.email} is already registered", field="email"))
    return UserOut.model_validate(row)


def get_user(user_id: str, *, session: Session) -> UserOut:
    """One user of the bound tenant; another tenant's user is not found."""
    return UserOut.model_validate(_tenant_user(user_id, session=session))


def list_users(*, session: Session, params: PageParams) -> Page[UserOut]:
    """The bound tenant's users by email; ``q`` searches email and display name."""
    stmt = _tenant_users(session).order_by(User.email)
    if params.q:
        needle = params.q.lower()
        stmt = stmt.where(
            or_(
                User.email.contains(needle, autoescape=True),
                func.lower(User.display_name).contains(needle, autoescape=True),
            )
        )
    rows, total = paginate_rows(session, stmt, params)
    return Page[UserOut](
        items=[UserOut.model_validate(r) for r in rows],
        total=total,
        page=params.page,
        page_size=params.page_size,
    )


def update_user(
    user_id: str, changes: UserUpdate, *, session: Session, actor: Principal | None = None
) -> UserOut:
    """Change a user of the bound tenant; only the fields set in ``changes`` are applied.

    Only an owner grants the owner role or changes an owner. A tenant keeps at least one active
    owner. Leaving the partner role drops the organisation. Disabling a user or changing their
    password ends their console sessions.
    """
    row = _tenant_user(user_id, session=session)
    sent = changes.model_fields_set
    current_role = Role(row.role) if row.role else None
    new_role = changes.role if changes.role is not None else current_role
    new_org = row.org_id
    new_status = changes.status or row.status
    # Every check runs before the row is touched, so a refused change leaves nothing behind.
    require_role_grant(actor, new_role, touches_owner=current_role is Role.owner)
    if new_role is not None and ({"role", "org_id"} & sent):
        new_org = changes.org_id if "org_id" in sent else (row.org_id if new_role is Role.partner else None)
        check_partner_org(new_role, new_org, session=session)
    if (
        current_role is Role.owner
        and row.status == "active"
        and (new_role is not Role.owner or new_status != "active")
    ):
        _require_another_owner(row, session=session)
    row.role = new_role.value if new_role is not None else None
    row.org_id = new_org
    row.status = new_status
    if changes.display_name is not None:
        row.display_name = changes.display_name
    if changes.password is not None:
        row.password_hash = hash_password(changes.password)
    if changes.password is not None or (new_status != "active" and "status" in sent):
        end_user_sessions(row.id, session=session)
    session.flush()
    return UserOut.model_validate(row)


def _require_another_owner(row: User, *, session: Session) -> None:
    others = session.scalar(
        select(func.count()).select_from(
            _tenant_users(session)
            .where(User.role == Role.owner.value, User.status == "active", User.id != row.id)
            .subquery()
        )
    )
    if not others:
        raise LastOwner("the tenant would be left without an active owner", field="role")


# --- password login ---------------------------------------------------------------------------


def authenticate_password(
    *, session: Session, email: str, password: str, client: str | None = None
) -> UserOut:
    """Check an email and password for a console login from network address ``client``.

    Unknown emails are verified against a dummy hash so they take as long as known ones. After
    ``LOGIN_FAILURE_LIMIT`` failures of one email, or ``LOGIN_FAILURE_LIMIT_PER_CLIENT`` failures
    from one address (whatever the emails), within ``LOGIN_FAILURE_WINDOW``, the attempt is refused
    (429) without checking the password. A failure is recorded in the caller's transaction before
    InvalidCredentials is raised: the login page catches the error and commits, so it counts.
    A success clears the email's failures, stamps ``last_login_at`` and upgrades an outdated hash.
    """
    email = email.strip().lower()
    client = client[:64] if client else None
    now = utcnow()
    since = now - LOGIN_FAILURE_WINDOW
    minutes = int(LOGIN_FAILURE_WINDOW.total_seconds() // 60)
    # Logins name no tenant: the user is found by email across tenants, its tenant joined in.
    failures = session.scalar(
        select(func.count()).where(LoginFailure.email == email, LoginFailure.failed_at > since)
    )
    if (failures or 0) >= LOGIN_FAILURE_LIMIT:
        raise LoginThrottled(
            f"too many failed logins for this email; try again in {minutes} minutes", field="email"
        )
    if client is not None:
        from_client = session.scalar(
            select(func.count()).where(LoginFailure.client == client, LoginFailure.failed_at > since)
        )
        if (from_client or 0) >= LOGIN_FAILURE_LIMIT_PER_CLIENT:
            raise LoginThrottled(
                f"too many failed logins from this address; try again in {minutes} minutes", field="client"
            )
    found = session.execute(
        select(User, Tenant.status).outerjoin(Tenant, Tenant.id == User.tenant_id).where(User.email == email)
    ).first()
    if found is None:
        verify_password(dummy_password_hash(), password)
        _login_failed(session, email, client, now)
    user, tenant_status = found
    if not verify_password(user.password_hash, password):
        _login_failed(session, email, client, now)
    if user.status != "active" or (not user.is_operator and tenant_status != "active"):
        _login_failed(session, email, client, now)
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    session.execute(delete(LoginFailure).where(LoginFailure.email == email))
    session.flush()
    return UserOut.model_validate(user)


def _login_failed(session: Session, email: str, client: str | None, now: datetime) -> NoReturn:
    # Failures older than the window no longer count; drop this email's and address's while here.
    stale = LoginFailure.failed_at <= now - LOGIN_FAILURE_WINDOW
    mine = (
        LoginFailure.email == email
        if client is None
        else (LoginFailure.email == email) | (LoginFailure.client == client)
    )
    session.execute(delete(LoginFailure).where(stale, mine))
    session.add(LoginFailure(email=email[:254], failed_at=now, client=client))
    session.flush()
    raise InvalidCredentials("wrong email or password", field="password")


def describe_principal(principal: Principal, *, session: Session) -> Me:
    """What ``GET /me`` shows: the caller, with its tenant's slug."""
    slug = None
    if principal.tenant_id is not None:
        slug = session.scalar(select(Tenant.slug).where(Tenant.id == principal.tenant_id))
    return Me(
        via=principal.via,
        tenant_id=principal.tenant_id,
        tenant_slug=slug,
        user_id=principal.user_id,
        role=principal.role,
        org_id=principal.org_id,
        is_operator=principal.is_operator,
        display_name=principal.display_name,
        api_key_id=principal.api_key_id,
        csrf_token=principal.csrf_token,
    )
