"""Credentials: password hashes, console sessions, API keys, and resolving the caller of a request.

:func:`authenticate_request` runs on every request, so it costs one indexed query and, on the
normal path, no write: secrets are 256-bit random values, so a SHA-256 look-up is as safe as a
slow hash and thousands of times cheaper (argon2 is only for human passwords).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Request
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bcone.core.auth import Principal, Role
from bcone.core.db import WRITES_KEY, as_utc, utcnow
from bcone.core.errors import ValidationFailed
from bcone.core.pagination import Page, PageParams, paginate_rows
from bcone.iam._rules import check_partner_org, require_role_grant, validated
from bcone.iam.errors import ApiKeyNotFound
from bcone.iam.models import ApiKey, ConsoleSession, Tenant, User
from bcone.iam.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, ConsoleSessionStarted

SESSION_COOKIE = "bcone_session"
API_KEY_PREFIX = "bk_"
# Characters of a key shown in lists: "bk_" plus 8, enough to tell keys apart, far too few to guess.
API_KEY_SHOWN_CHARS = len(API_KEY_PREFIX) + 8
# last_used_at is refreshed at most this often, so busy keys do not turn every request into a write.
LAST_USED_RESOLUTION = timedelta(minutes=5)
SECRET_BYTES = 32  # 256-bit tokens for session cookies and API keys

# argon2id with the library's defaults (RFC 9106 low-memory profile). When they change,
# password_needs_rehash() tells the login to store a fresh hash.
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``; the password itself is never stored."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def dummy_password_hash() -> str:
    """A hash to verify against when the email is unknown, so both cases take about as long."""
    return _hasher.hash(secrets.token_urlsafe(16))


def sha256_hex(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- console sessions -------------------------------------------------------------------------


def start_console_session(
    user_id: str, *, session: Session, max_age_seconds: int, user_agent: str | None = None
) -> ConsoleSessionStarted:
    """Open a console login for ``user_id``; the returned token goes into the cookie, once."""
    token = secrets.token_urlsafe(SECRET_BYTES)
    row = ConsoleSession(
        user_id=user_id,
        token_hash=sha256_hex(token),
        csrf_token=secrets.token_urlsafe(SECRET_BYTES),
        expires_at=utcnow() + timedelta(seconds=max_age_seconds),
        user_agent=(user_agent or "")[:300] or None,
    )
    session.add(row)
    session.flush()
    return ConsoleSessionStarted(
        session_id=row.id, token=token, csrf_token=row.csrf_token, expires_at=row.expires_at
    )


def end_console_session(session_id: str, *, session: Session) -> None:
    """Log out: the session is revoked server-side, so a copied cookie stops working too."""
    session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.id == session_id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def end_console_session_by_token(token: str, *, session: Session) -> None:
    """Revoke the session a cookie value belongs to (a new login replaces the old one)."""
    session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.token_hash == sha256_hex(token), ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def end_user_sessions(user_id: str, *, session: Session) -> None:
    """Revoke every console session of a user (disabled, or password changed)."""
    session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.user_id == user_id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


# --- API keys ---------------------------------------------------------------------------------


def create_api_key(
    *,
    session: Session,
    name: str,
    role: Role | str,
    created_by: str | None = None,
    org_id: str | None = None,
    expires_at: datetime | None = None,
    actor: Principal | None = None,
) -> ApiKeyCreated:
    """Create an API key of the bound tenant; the secret is returned in clear this once only.

    A key acts with its own role, under the same rules as users: only an owner grants the owner
    role, and a partner key is bound to one organisation.
    """
    data = validated(ApiKeyCreate, name=name, role=role, org_id=org_id, expires_at=expires_at)
    require_role_grant(actor, data.role)
    check_partner_org(data.role, data.org_id, session=session)
    if data.expires_at is not None and as_utc(data.expires_at) <= utcnow():
        raise ValidationFailed("expires_at must be in the future", field="expires_at")
    secret = API_KEY_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    row = ApiKey(
        name=data.name,
        role=data.role.value,
        org_id=data.org_id,
        prefix=secret[:API_KEY_SHOWN_CHARS],
        key_hash=sha256_hex(secret),
        created_by=created_by,
        expires_at=as_utc(data.expires_at) if data.expires_at else None,
    )
    session.add(row)
    session.flush()
    return ApiKeyCreated(**ApiKeyOut.model_validate(row).model_dump(), secret=secret)


def list_api_keys(*, session: Session, params: PageParams) -> Page[ApiKeyOut]:
    """The bound tenant's API keys, newest first, revoked ones included (they explain past calls)."""
    stmt = select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    if params.q:
        stmt = stmt.where(func.lower(ApiKey.name).contains(params.q.lower(), autoescape=True))
    rows, total = paginate_rows(session, stmt, params)
    items = [ApiKeyOut.model_validate(r) for r in rows]
    return Page[ApiKeyOut](items=items, total=total, page=params.page, page_size=params.page_size)


def revoke_api_key(key_id: str, *, session: Session) -> ApiKeyOut:
    """Revoke a key of the bound tenant; it stops working on the next request. Idempotent."""
    row = session.scalar(select(ApiKey).where(ApiKey.id == key_id))
    if row is None:
        raise ApiKeyNotFound(f"no API key {key_id}", field="key_id")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return ApiKeyOut.model_validate(row)


# --- resolving the caller ---------------------------------------------------------------------


# The two look-ups of the hot path are built once and run as Core statements on the session's
# connection: building an ORM select costs more than running it, and the tenant filter (an ORM
# event) must not apply here anyway, since the credential is what tells us the tenant. Both
# statements name their tables explicitly and match one row by a unique 256-bit hash.
_API_KEY_LOOKUP = (
    select(
        ApiKey.id,
        ApiKey.tenant_id,
        ApiKey.name,
        ApiKey.role,
        ApiKey.org_id,
        ApiKey.created_by,
        ApiKey.expires_at,
        ApiKey.last_used_at,
        Tenant.status,
        User.status,
    )
    .join(Tenant, Tenant.id == ApiKey.tenant_id)
    # A key stops working when the person who made it is disabled (people leave).
    .outerjoin(User, User.id == ApiKey.created_by)
    .where(ApiKey.key_hash == bindparam("key_hash"), ApiKey.revoked_at.is_(None))
)
_API_KEY_TOUCH = update(ApiKey).where(ApiKey.id == bindparam("key_id")).values(last_used_at=bindparam("now"))
_SESSION_LOOKUP = (
    select(
        ConsoleSession.id,
        ConsoleSession.csrf_token,
        ConsoleSession.expires_at,
        User.id,
        User.tenant_id,
        User.role,
        User.org_id,
        User.is_operator,
        User.status,
        User.display_name,
        Tenant.status,
        Tenant.name,
    )
    .join(User, User.id == ConsoleSession.user_id)
    .outerjoin(Tenant, Tenant.id == User.tenant_id)
    .where(ConsoleSession.token_hash == bindparam("token_hash"), ConsoleSession.revoked_at.is_(None))
)


def authenticate_request(request: Request, session: Session) -> Principal | None:
    """Resolve the caller from ``Authorization: Bearer bk_...``, else the ``bcone_session`` cookie.

    A request that sends an Authorization header is judged by it alone: a wrong key never falls
    back to a cookie. Disabled users, suspended tenants, revoked or expired keys and sessions
    give None (401 upstream). One indexed query; no write except ``last_used_at``, refreshed at
    most every ``LAST_USED_RESOLUTION``.
    """
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, credential = header.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential.startswith(API_KEY_PREFIX):
            return None
        return _principal_from_api_key(credential, session=session)
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    return _principal_from_session_token(token, session=session)


def _principal_from_api_key(secret: str, *, session: Session) -> Principal | None:
    conn = session.connection()
    row = conn.execute(_API_KEY_LOOKUP, {"key_hash": sha256_hex(secret)}).first()
    if row is None:
        return None
    key_id, tenant_id, name, role, org_id, created_by, expires_at, last_used, tenant_status, creator = row
    now = utcnow()
    if tenant_status != "active" or creator not in (None, "active"):
        return None
    if expires_at is not None and as_utc(expires_at) <= now:
        return None
    if last_used is None or as_utc(last_used) <= now - LAST_USED_RESOLUTION:
        _touch_api_key(session, key_id, now)
    return Principal(
        via="api_key",
        tenant_id=tenant_id,
        user_id=created_by,
        role=Role(role),
        org_id=org_id,
        api_key_id=key_id,
        display_name=name,
    )


def _touch_api_key(session: Session, key_id: str, now: datetime) -> None:
    """Stamp ``last_used_at``, best effort.

    The stamp is advisory, so it must not turn a read-only request into a writing one (on SQLite
    a read transaction that starts writing fails under concurrent writers) nor fail a request:
    a read stamps in its own short transaction. A writing unit of work stamps in its own
    transaction, which on SQLite already holds the write lock: another connection could only
    wait for that lock until the busy timeout.
    """
    if session.info.get(WRITES_KEY):
        session.connection().execute(_API_KEY_TOUCH, {"key_id": key_id, "now": now})
        return
    try:
        bind = session.get_bind()
        engine = bind if isinstance(bind, Engine) else bind.engine
        with engine.connect() as conn:
            conn.execute(_API_KEY_TOUCH, {"key_id": key_id, "now": now})
            conn.commit()
    except OperationalError:
        pass  # busy: another request is stamping the same key; the next one will


def _principal_from_session_token(token: str, *, session: Session) -> Principal | None:
    row = session.connection().execute(_SESSION_LOOKUP, {"token_hash": sha256_hex(token)}).first()
    if row is None:
        return None
    (
        sid,
        csrf,
        expires_at,
        user_id,
        tenant_id,
        role,
        org_id,
        is_operator,
        status,
        name,
        tenant_status,
        tenant_name,
    ) = row
    if status != "active" or as_utc(expires_at) <= utcnow():
        return None
    if not is_operator and tenant_status != "active":
        return None
    return Principal(
        via="session",
        tenant_id=tenant_id,
        user_id=user_id,
        role=Role(role) if role else None,
        org_id=org_id,
        is_operator=bool(is_operator),
        session_id=sid,
        csrf_token=csrf,
        display_name=name,
        tenant_name=tenant_name or "",
    )
