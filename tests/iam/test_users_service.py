"""Users, tenants and password login through the service, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from bcone.core.auth import Principal, Role
from bcone.core.db import Database
from bcone.core.errors import ValidationFailed
from bcone.core.pagination import PageParams
from bcone.core.tenancy import TenantNotBound
from bcone.iam import service
from bcone.iam.errors import (
    EmailTaken,
    InvalidCredentials,
    LastOwner,
    LoginThrottled,
    OrgNotFound,
    OrgOnlyForPartner,
    OwnerRoleReserved,
    PartnerNeedsOrg,
    TenantSlugTaken,
)
from bcone.iam.models import ConsoleSession, User
from bcone.iam.schemas import TenantOut, UserUpdate
from bcone.network import service as network_service
from bcone.network.schemas import OrganizationIn
from tests.fixtures_iam import DEFAULT_PASSWORD, MakeUser


def _make_org(db: Database, tenant: TenantOut, code: str = "D-GD") -> str:
    with db.session(tenant_id=tenant.id) as s:
        org = network_service.create_organization(
            OrganizationIn(kind="distributor", code=code, name="广东粤饮商贸", division_code="440106"),
            session=s,
        )
    return org.id


def _admin_actor(tenant: TenantOut) -> Principal:
    return Principal(via="session", tenant_id=tenant.id, user_id="x", role=Role.admin)


def test_password_is_stored_as_argon2id_never_in_clear(db: Database, make_user: MakeUser) -> None:
    user = make_user("marketer", email="Mixed.Case@Acme.example")
    assert user.email == "mixed.case@acme.example"
    with db.session() as s:
        stored = s.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert DEFAULT_PASSWORD not in stored


def test_login_accepts_the_password_and_rejects_others(db: Database, make_user: MakeUser) -> None:
    user = make_user("analyst")
    with db.session() as s:
        ok = service.authenticate_password(session=s, email=user.email.upper(), password=DEFAULT_PASSWORD)
    assert ok.id == user.id
    assert ok.last_login_at is not None
    with db.session() as s, pytest.raises(InvalidCredentials):
        service.authenticate_password(session=s, email=user.email, password="wrong password!")
    with db.session() as s, pytest.raises(InvalidCredentials):
        service.authenticate_password(session=s, email="nobody@acme.example", password=DEFAULT_PASSWORD)


def test_login_rehashes_when_parameters_change(db: Database, make_user: MakeUser) -> None:
    user = make_user("analyst")
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(DEFAULT_PASSWORD)
    with db.session() as s:
        s.get_one(User, user.id).password_hash = weak
    with db.session() as s:
        service.authenticate_password(session=s, email=user.email, password=DEFAULT_PASSWORD)
    with db.session() as s:
        upgraded = s.get_one(User, user.id).password_hash
    assert upgraded != weak
    assert "m=65536" in upgraded


def test_disabled_user_and_suspended_tenant_cannot_log_in(
    db: Database, tenant: TenantOut, make_user: MakeUser
) -> None:
    owner = make_user("owner")
    user = make_user("marketer")
    with db.session(tenant_id=tenant.id) as s:
        service.update_user(user.id, UserUpdate(status="disabled"), session=s)
    with db.session() as s, pytest.raises(InvalidCredentials):
        service.authenticate_password(session=s, email=user.email, password=DEFAULT_PASSWORD)
    with db.session() as s:
        service.set_tenant_status(tenant.id, "suspended", session=s)
    with db.session() as s, pytest.raises(InvalidCredentials):
        service.authenticate_password(session=s, email=owner.email, password=DEFAULT_PASSWORD)


def test_repeated_failures_throttle_the_email(db: Database, make_user: MakeUser) -> None:
    user = make_user("marketer")
    for _ in range(service.LOGIN_FAILURE_LIMIT):
        s = db.sessionmaker()
        with pytest.raises(InvalidCredentials):
            service.authenticate_password(session=s, email=user.email, password="not the password")
        s.commit()  # the login page catches the error and commits the recorded failure
        s.close()
    with db.session() as s, pytest.raises(LoginThrottled) as err:
        service.authenticate_password(session=s, email=user.email, password=DEFAULT_PASSWORD)
    assert err.value.status == 429


def test_tenant_slug_unique_and_well_formed(db: Database, tenant: TenantOut) -> None:
    with db.session() as s, pytest.raises(TenantSlugTaken):
        service.create_tenant(session=s, slug="acme", name="Another Acme")
    with db.session() as s, pytest.raises(ValidationFailed) as err:
        service.create_tenant(session=s, slug="Not A Slug", name="x")
    assert err.value.field == "slug"
    with db.session() as s:
        assert service.get_tenant_by_slug("acme", session=s).id == tenant.id


def test_email_is_unique_across_tenants(db: Database, make_user: MakeUser, other_tenant: TenantOut) -> None:
    make_user("owner", email="same@example.com")
    with pytest.raises(EmailTaken):
        make_user("owner", tenant=other_tenant, email="SAME@example.com")
    with db.session(tenant_id=other_tenant.id) as s:
        assert service.list_users(session=s, params=PageParams()).total == 0


def test_partner_is_bound_to_one_existing_org(
    db: Database, tenant: TenantOut, other_tenant: TenantOut, make_user: MakeUser
) -> None:
    org_id = _make_org(db, tenant)
    theirs = _make_org(db, other_tenant, code="D-OTHER")
    with pytest.raises(PartnerNeedsOrg) as err:
        make_user("partner")
    assert err.value.field == "org_id"
    with pytest.raises(OrgOnlyForPartner):
        make_user("marketer", org_id=org_id)
    for unknown in ("01900000-0000-7000-8000-000000000001", theirs):
        with pytest.raises(OrgNotFound) as not_found:
            make_user("partner", org_id=unknown)
        assert not_found.value.field == "org_id"
    partner = make_user("partner", org_id=org_id)
    assert partner.role is Role.partner
    assert partner.org_id == org_id


def test_leaving_the_partner_role_drops_the_org(db: Database, tenant: TenantOut, make_user: MakeUser) -> None:
    partner = make_user("partner", org_id=_make_org(db, tenant))
    with db.session(tenant_id=tenant.id) as s:
        changed = service.update_user(partner.id, UserUpdate(role=Role.sales_rep), session=s)
    assert changed.role is Role.sales_rep
    assert changed.org_id is None


def test_only_an_owner_grants_or_changes_owners(db: Database, tenant: TenantOut, make_user: MakeUser) -> None:
    owner = make_user("owner")
    make_user("owner")
    user = make_user("marketer")
    admin = _admin_actor(tenant)
    with db.session(tenant_id=tenant.id) as s, pytest.raises(OwnerRoleReserved):
        service.update_user(user.id, UserUpdate(role=Role.owner), session=s, actor=admin)
    with db.session(tenant_id=tenant.id) as s, pytest.raises(OwnerRoleReserved):
        service.update_user(owner.id, UserUpdate(status="disabled"), session=s, actor=admin)
    with db.session(tenant_id=tenant.id) as s, pytest.raises(OwnerRoleReserved):
        service.create_user(
            session=s,
            email="new@acme.example",
            display_name="N",
            password=DEFAULT_PASSWORD,
            role="owner",
            actor=admin,
        )


def test_the_last_active_owner_stays(db: Database, tenant: TenantOut, make_user: MakeUser) -> None:
    first = make_user("owner")
    with db.session(tenant_id=tenant.id) as s, pytest.raises(LastOwner):
        service.update_user(first.id, UserUpdate(role=Role.admin), session=s)
    second = make_user("owner")
    with db.session(tenant_id=tenant.id) as s:
        service.update_user(first.id, UserUpdate(status="disabled"), session=s)
    with db.session(tenant_id=tenant.id) as s, pytest.raises(LastOwner):
        service.update_user(second.id, UserUpdate(status="disabled"), session=s)


def test_create_user_needs_a_bound_tenant(db: Database) -> None:
    with db.session() as s, pytest.raises(TenantNotBound):
        service.create_user(
            session=s, email="a@b.example", display_name="A", password=DEFAULT_PASSWORD, role="owner"
        )


def test_list_users_pages_and_searches(db: Database, tenant: TenantOut, make_user: MakeUser) -> None:
    for name in ("Zhang Wei", "Li Na", "Wang Fang"):
        make_user("marketer", display_name=name)
    with db.session(tenant_id=tenant.id) as s:
        page = service.list_users(session=s, params=PageParams(page=1, page_size=2))
        found = service.list_users(session=s, params=PageParams(q="li n"))
    assert page.total == 3
    assert len(page.items) == 2
    assert [u.display_name for u in found.items] == ["Li Na"]


def test_password_change_ends_sessions(db: Database, tenant: TenantOut, make_user: MakeUser) -> None:
    user = make_user("marketer")
    with db.session() as s:
        started = service.start_console_session(user.id, session=s, max_age_seconds=60)
    with db.session(tenant_id=tenant.id) as s:
        service.update_user(user.id, UserUpdate(password="a brand new password"), session=s)
    with db.session() as s:
        service.authenticate_password(session=s, email=user.email, password="a brand new password")
    with db.session() as s:
        row = s.get_one(ConsoleSession, started.session_id)
    assert row.revoked_at is not None


def test_repeated_failures_from_one_address_throttle_every_email(
    db: Database, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert service.LOGIN_FAILURE_LIMIT_PER_CLIENT > service.LOGIN_FAILURE_LIMIT
    monkeypatch.setattr(service, "LOGIN_FAILURE_LIMIT_PER_CLIENT", 4)  # fewer slow password checks
    user = make_user("marketer")
    for i in range(4):
        s = db.sessionmaker()
        with pytest.raises(InvalidCredentials):  # a different email each time: password spraying
            service.authenticate_password(
                session=s, email=f"guess{i}@example.com", password="Spring2026!", client="203.0.113.7"
            )
        s.commit()
        s.close()
    with db.session() as s, pytest.raises(LoginThrottled) as err:
        service.authenticate_password(
            session=s, email=user.email, password=DEFAULT_PASSWORD, client="203.0.113.7"
        )
    assert (err.value.status, err.value.field) == (429, "client")
    with db.session() as s:  # another address, and the user's own email, are not held back
        found = service.authenticate_password(
            session=s, email=user.email, password=DEFAULT_PASSWORD, client="198.51.100.2"
        )
    assert found.id == user.id
