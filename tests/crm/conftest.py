"""Fixtures of the crm tests: a session of tenant "acme" and a few sales users."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from bcone.core.db import Database
from bcone.core.pagination import PageParams
from bcone.crm import service
from bcone.crm.schemas import AccountIn, OpportunityIn, OpportunityOut, SalesTeamIn
from bcone.iam.schemas import TenantOut, UserOut
from tests.fixtures_iam import MakeUser


@pytest.fixture
def s(db: Database, tenant: TenantOut) -> Iterator[Session]:
    with db.session(tenant_id=tenant.id) as session:
        yield session


@dataclass
class Sales:
    owner: UserOut
    manager: UserOut
    rep: UserOut
    rep2: UserOut
    other_team_rep: UserOut
    team_id: str


@pytest.fixture
def sales(db: Database, tenant: TenantOut, make_user: MakeUser) -> Sales:
    owner = make_user("owner")
    manager = make_user("sales_manager")
    rep, rep2, other = make_user("sales_rep"), make_user("sales_rep"), make_user("sales_rep")
    with db.session(tenant_id=tenant.id) as session:
        team = service.create_sales_team(
            SalesTeamIn(name="华东一组", manager_user_id=manager.id, member_user_ids=[rep.id, rep2.id]),
            session=session,
        )
        service.create_sales_team(SalesTeamIn(name="华南组", member_user_ids=[other.id]), session=session)
    return Sales(owner, manager, rep, rep2, other, team.id)


def viewer(user: UserOut) -> service.Viewer:
    return service.Viewer(user.id, user.role.value if user.role else None)


def new_opportunity(
    session: Session, owner: UserOut, name: str = "门店数字化项目", amount_fen: int = 12_000_000, **kw: object
) -> OpportunityOut:
    account_name = f"客户 {name}"
    found = service.list_accounts(PageParams(q=account_name), session=session).items
    account = found[0] if found else service.create_account(AccountIn(name=account_name), session=session)
    data = OpportunityIn.model_validate(
        {
            "account_id": account.id,
            "name": name,
            "amount_fen": amount_fen,
            "close_date": (date.today() + timedelta(days=30)).isoformat(),
            **kw,
        }
    )
    return service.create_opportunity(data, session=session, viewer=viewer(owner))
