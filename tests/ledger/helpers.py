"""Helpers for ledger tests: open accounts and fund them in their own units of work."""

from __future__ import annotations

from bcone.core.db import Database
from bcone.ledger import service
from bcone.ledger.schemas import AccountKind, AccountOut, AccountSpec, Unit


def open_account(
    db: Database,
    tenant_id: str,
    kind: AccountKind,
    owner_id: str = "",
    *,
    unit: Unit = "fen",
    owner_type: str = "",
) -> AccountOut:
    spec = AccountSpec(kind=kind, unit=unit, owner_type=owner_type or kind.split("_")[0], owner_id=owner_id)
    with db.session(tenant_id=tenant_id) as s:
        return service.get_or_open_account(spec, session=s)


def fund(
    db: Database, tenant_id: str, account_id: str, amount: int, *, unit: Unit = "fen", key: str = ""
) -> None:
    """Top ``account_id`` up from the brand's funding account."""
    with db.session(tenant_id=tenant_id) as s:
        funding = service.funding_account(session=s, unit=unit)
        service.transfer(
            session=s,
            idempotency_key=key or f"fund:{account_id}:{amount}",
            from_account_id=funding.id,
            to_account_id=account_id,
            amount=amount,
            kind="budget_topup",
        )


def balance(db: Database, tenant_id: str, account_id: str) -> int:
    with db.session(tenant_id=tenant_id, write=False) as s:
        return service.get_account(account_id, session=s).balance
