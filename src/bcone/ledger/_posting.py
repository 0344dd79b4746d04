"""Accounts and balanced transactions: the double-entry core.

How a posting stays exactly-once and never overspends, on SQLite and on PostgreSQL alike:

1. The transaction row (with its idempotency key, unique per tenant) is inserted first, inside a
   SAVEPOINT of the caller's transaction. A second poster of the same key blocks on the unique
   index until the first commits (PostgreSQL) or waits for the write lock (SQLite, BEGIN
   IMMEDIATE), then fails the insert; the savepoint is rolled back and the committed original is
   read and returned (or refused as ``idempotency_conflict`` when its content differs).
2. Each entry is applied with one conditional statement,
   ``UPDATE ledger_accounts SET balance = balance + :delta, entry_count = entry_count + 1
   WHERE id = :id AND (floor IS NULL OR balance + :delta >= floor) RETURNING balance, entry_count``.
   Under READ COMMITTED, PostgreSQL re-evaluates the WHERE clause on the newest committed row
   after waiting for a concurrent writer's lock, so two spenders can never both see the same
   money; on SQLite the write lock serialises them. No row back means the floor would be crossed:
   the savepoint is rolled back and nothing of the transaction is left.
3. Entries are applied in account-id order, so two transactions touching the same accounts lock
   them in the same order and cannot deadlock.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from bcone.core.db import utcnow
from bcone.core.ids import new_id
from bcone.core.pagination import Page, PageParams, paginate_rows
from bcone.core.tenancy import current_tenant, run_tenant_query, tenant_query
from bcone.ledger.errors import (
    AccountNotFound,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidPosting,
    TransactionNotFound,
    UnbalancedTransaction,
)
from bcone.ledger.models import LedgerAccount, LedgerEntry, LedgerTransaction
from bcone.ledger.schemas import (
    UNBOUNDED_KINDS,
    AccountOut,
    AccountSpec,
    EntryIn,
    EntryOut,
    KindBalance,
    PostingIn,
    Statement,
    StatementLine,
    TransactionOut,
)

REVERSAL_KIND = "reversal"


# --- accounts ---------------------------------------------------------------------------------


def account_out(account: LedgerAccount) -> AccountOut:
    return AccountOut.model_validate(account, from_attributes=True)


def _find_account(spec: AccountSpec, session: Session) -> LedgerAccount | None:
    return session.scalars(
        select(LedgerAccount).where(
            LedgerAccount.kind == spec.kind,
            LedgerAccount.unit == spec.unit,
            LedgerAccount.owner_type == spec.owner_type,
            LedgerAccount.owner_id == spec.owner_id,
        )
    ).one_or_none()


def find_account(spec: AccountSpec, *, session: Session) -> AccountOut | None:
    """The account of ``spec`` if it is open, without opening it (for read-only callers)."""
    found = _find_account(spec, session)
    return None if found is None else account_out(found)


def get_or_open_account(spec: AccountSpec, *, session: Session, likely_new: bool = False) -> AccountOut:
    """The account of ``spec`` (kind, unit, owner), opened with balance 0 if it does not exist.

    Safe to call concurrently: the insert is ``ON CONFLICT DO NOTHING`` on the unique (kind,
    unit, owner), so a lost race inserts nothing and the winner's account is returned.
    ``likely_new`` (a caller that has not seen this owner before) tries the insert first: one
    statement instead of two for a new account, two instead of one for an existing one.
    """
    if not likely_new:
        found = _find_account(spec, session)
        if found is not None:
            return _known(account_out(found), current_tenant(session))
    tenant_id = current_tenant(session)
    now = utcnow()
    values = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "kind": spec.kind,
        "unit": spec.unit,
        "owner_type": spec.owner_type,
        "owner_id": spec.owner_id,
        "name": spec.name,
        "floor": None if spec.kind in UNBOUNDED_KINDS else 0,
        "balance": 0,
        "entry_count": 0,
        "created_at": now,
        "updated_at": now,
    }
    connection = session.connection()
    # ON CONFLICT instead of a SAVEPOINT: a concurrent opener of the same account waits for the
    # first to commit, inserts nothing, and reads the winner's account.
    if connection.execute(_OPEN[connection.dialect.name], values).first() is None:
        found = _find_account(spec, session)
        if found is None:  # pragma: no cover - the conflicting row is committed by then
            raise AccountNotFound(f"no account {spec.kind}/{spec.unit}", field="account_id")
        return _known(account_out(found), tenant_id)
    return _known(AccountOut.model_validate(values), tenant_id)


def _known(account: AccountOut, tenant_id: str) -> AccountOut:
    """Remember what never changes of an account about to be posted to (see ``_KNOWN_ACCOUNTS``)."""
    if len(_KNOWN_ACCOUNTS) >= _KNOWN_LIMIT:
        _KNOWN_ACCOUNTS.clear()
    _KNOWN_ACCOUNTS[(tenant_id, account.id)] = _AccountRow(
        account.id, account.kind, account.unit, account.owner_type, account.owner_id
    )
    return account


def _open_statement(dialect: str) -> Any:
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    table = cast(Table, LedgerAccount.__table__)
    return (
        make(table)
        .values({c: bindparam(c) for c in _OPEN_COLUMNS})
        .on_conflict_do_nothing(index_elements=["tenant_id", "kind", "unit", "owner_type", "owner_id"])
        .returning(table.c.id)
    )


_OPEN_COLUMNS = (
    "id",
    "tenant_id",
    "kind",
    "unit",
    "owner_type",
    "owner_id",
    "name",
    "floor",
    "balance",
    "entry_count",
    "created_at",
    "updated_at",
)
_OPEN = {dialect: _open_statement(dialect) for dialect in ("postgresql", "sqlite")}


def _account(account_id: str, session: Session) -> LedgerAccount:
    account = session.scalars(
        select(LedgerAccount).where(LedgerAccount.id == account_id).execution_options(populate_existing=True)
    ).one_or_none()
    if account is None:
        raise AccountNotFound(f"no account {account_id}", field="account_id")
    return account


def get_account(account_id: str, *, session: Session) -> AccountOut:
    return account_out(_account(account_id, session))


def list_accounts(
    params: PageParams,
    *,
    session: Session,
    kind: str | None = None,
    unit: str | None = None,
    owner_type: str | None = None,
    owner_id: str | None = None,
) -> Page[AccountOut]:
    """Accounts, by kind, unit and owner; ``q`` searches the name and the owner id."""
    stmt = select(LedgerAccount)
    if kind:
        stmt = stmt.where(LedgerAccount.kind == kind)
    if unit:
        stmt = stmt.where(LedgerAccount.unit == unit)
    if owner_type:
        stmt = stmt.where(LedgerAccount.owner_type == owner_type)
    if owner_id:
        stmt = stmt.where(LedgerAccount.owner_id == owner_id)
    if params.q:
        like = f"%{params.q}%"
        stmt = stmt.where(LedgerAccount.name.ilike(like) | LedgerAccount.owner_id.ilike(like))
    stmt = stmt.order_by(
        LedgerAccount.kind, LedgerAccount.unit, LedgerAccount.owner_type, LedgerAccount.owner_id
    )
    rows, total = paginate_rows(session, stmt, params)
    return Page(
        items=[account_out(a) for a in rows], total=total, page=params.page, page_size=params.page_size
    )


def balances_by_kind(*, session: Session) -> list[KindBalance]:
    """Number of accounts and total balance per account kind and unit."""
    rows = session.execute(
        select(
            LedgerAccount.kind,
            LedgerAccount.unit,
            func.count(LedgerAccount.id),
            func.sum(LedgerAccount.balance),
        )
        .group_by(LedgerAccount.kind, LedgerAccount.unit)
        .order_by(LedgerAccount.unit, LedgerAccount.kind)
    ).all()
    return [
        KindBalance(kind=kind, unit=unit, accounts=int(n), balance=int(total or 0))
        for kind, unit, n, total in rows
    ]


def totals_by_unit(*, session: Session) -> dict[str, int]:
    """The sum of all balances per unit: 0 for every unit, always (the double-entry invariant)."""
    rows = session.execute(
        select(LedgerAccount.unit, func.sum(LedgerAccount.balance)).group_by(LedgerAccount.unit)
    ).all()
    return {unit: int(total or 0) for unit, total in rows}


# --- transactions -----------------------------------------------------------------------------


def _content_hash(body: PostingIn, reverses_id: str | None) -> str:
    content = {
        "kind": body.kind,
        "memo": body.memo,
        "reference": body.reference,
        "reverses": reverses_id,
        "entries": sorted((e.account_id, e.amount) for e in body.entries),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _entries_out(transaction_id: str, session: Session) -> list[EntryOut]:
    entries = session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.transaction_id == transaction_id)
        .order_by(LedgerEntry.account_id, LedgerEntry.seq)
    )
    return [EntryOut.model_validate(e, from_attributes=True) for e in entries]


def _transaction_out(tx: LedgerTransaction, session: Session, *, created: bool) -> TransactionOut:
    return TransactionOut(
        id=tx.id,
        idempotency_key=tx.idempotency_key,
        kind=tx.kind,
        memo=tx.memo,
        reference=tx.reference,
        reverses_id=tx.reverses_id,
        created_at=tx.created_at,
        entries=_entries_out(tx.id, session),
        created=created,
    )


def _by_key(key: str, session: Session) -> LedgerTransaction | None:
    return session.scalars(
        select(LedgerTransaction).where(LedgerTransaction.idempotency_key == key)
    ).one_or_none()


def _replay(existing: LedgerTransaction, content_hash: str, session: Session) -> TransactionOut:
    if existing.content_hash != content_hash:
        raise IdempotencyConflict(
            f"idempotency key {existing.idempotency_key!r} was used for another transaction",
            field="idempotency_key",
            transaction_id=existing.id,
        )
    return _transaction_out(existing, session, created=False)


@dataclass(frozen=True, slots=True)
class _AccountRow:
    id: str
    kind: str
    unit: str
    owner_type: str
    owner_id: str


# The hot path's statements, built once (see core.tenancy.tenant_query): the accounts of a
# posting, read for the bound tenant only, and the transaction already posted under a key.
_ACCOUNTS_OF = tenant_query(
    select(
        LedgerAccount.id,
        LedgerAccount.kind,
        LedgerAccount.unit,
        LedgerAccount.owner_type,
        LedgerAccount.owner_id,
    ).where(LedgerAccount.id.in_(bindparam("ids", expanding=True)))
)
_KEY_POSTED = tenant_query(
    select(LedgerTransaction.id).where(LedgerTransaction.idempotency_key == bindparam("key"))
)
_ACCOUNTS = cast(Table, LedgerAccount.__table__)
_ENTRIES = cast(Table, LedgerEntry.__table__)
_TRANSACTIONS = cast(Table, LedgerTransaction.__table__)
# Apply one entry: credits always pass; a debit only while the balance stays at or above the floor.
_CREDIT = (
    update(_ACCOUNTS)
    .where(_ACCOUNTS.c.id == bindparam("account_id"))
    .values(
        balance=_ACCOUNTS.c.balance + bindparam("delta"),
        entry_count=_ACCOUNTS.c.entry_count + 1,
        updated_at=bindparam("now"),
    )
    .returning(_ACCOUNTS.c.balance, _ACCOUNTS.c.entry_count)
)
_EXISTS = select(_ACCOUNTS.c.id).where(_ACCOUNTS.c.id == bindparam("id"))
_UNDO = (
    update(_ACCOUNTS)
    .where(_ACCOUNTS.c.id == bindparam("account_id"))
    .values(balance=_ACCOUNTS.c.balance - bindparam("delta"), entry_count=_ACCOUNTS.c.entry_count - 1)
)
_DEBIT = _CREDIT.where(
    _ACCOUNTS.c.floor.is_(None) | (_ACCOUNTS.c.balance + bindparam("delta") >= _ACCOUNTS.c.floor)
)


# What never changes of an account (id, kind, unit, owner), per (tenant, id), for this process:
# a posting then reads no account before writing. An entry that finds no row to update (an
# account that vanished with a rolled-back unit of work) forgets the account and is refused.
_KNOWN_ACCOUNTS: dict[tuple[str, str], _AccountRow] = {}
_KNOWN_LIMIT = 200_000


def _forget_accounts(tenant_id: str, ids: Iterable[str]) -> None:
    for account_id in ids:
        _KNOWN_ACCOUNTS.pop((tenant_id, account_id), None)


def _check(body: PostingIn, session: Session) -> dict[str, _AccountRow]:
    tenant_id = current_tenant(session)
    ids = sorted({e.account_id for e in body.entries})
    accounts = {i: row for i in ids if (row := _KNOWN_ACCOUNTS.get((tenant_id, i))) is not None}
    missing = [i for i in ids if i not in accounts]
    if missing:
        for found in run_tenant_query(session, _ACCOUNTS_OF, {"ids": missing}):
            row = _AccountRow(*found)
            accounts[row.id] = row
            if len(_KNOWN_ACCOUNTS) >= _KNOWN_LIMIT:
                _KNOWN_ACCOUNTS.clear()
            _KNOWN_ACCOUNTS[(tenant_id, row.id)] = row
    per_unit: dict[str, int] = defaultdict(int)
    for i, entry in enumerate(body.entries):
        account = accounts.get(entry.account_id)
        if account is None:
            raise InvalidPosting(f"no account {entry.account_id}", field=f"entries.{i}.account_id")
        if entry.amount == 0:
            raise InvalidPosting("an entry moves a non-zero amount", field=f"entries.{i}.amount")
        per_unit[account.unit] += entry.amount
    off = {unit: total for unit, total in per_unit.items() if total != 0}
    if off:
        detail = ", ".join(f"{unit} sum to {total}" for unit, total in sorted(off.items()))
        raise UnbalancedTransaction(
            f"entries must sum to 0 per unit ({detail})", field="entries", sums=dict(sorted(off.items()))
        )
    return accounts


def _apply(entry: EntryIn, index: int, account: _AccountRow, session: Session) -> tuple[int, int]:
    """Apply one entry with the conditional UPDATE; returns (balance after, seq).

    The account id was read through the tenant-scoped query of :func:`_check`, so the UPDATE by
    primary key cannot reach another tenant's row.
    """
    delta = entry.amount
    params = {"account_id": entry.account_id, "delta": delta, "now": utcnow()}
    row = session.connection().execute(_DEBIT if delta < 0 else _CREDIT, params).one_or_none()
    if row is None:
        tenant_id = current_tenant(session)
        _forget_accounts(tenant_id, [entry.account_id])
        if delta > 0 or session.connection().execute(_EXISTS, {"id": entry.account_id}).first() is None:
            raise InvalidPosting(f"no account {entry.account_id}", field=f"entries.{index}.account_id")
        raise InsufficientFunds(
            f"account {account.id} ({account.kind} {account.owner_type}:{account.owner_id}) "
            f"cannot pay {-delta} {account.unit}",
            field=f"entries.{index}.amount",
            account_id=account.id,
            account_kind=account.kind,
            unit=account.unit,
        )
    return int(row[0]), int(row[1])


def _posted(key: str, content_hash: str, session: Session) -> TransactionOut | None:
    tx_id = run_tenant_query(session, _KEY_POSTED, {"key": key}).scalar()
    if tx_id is None:
        return None
    existing = session.scalars(select(LedgerTransaction).where(LedgerTransaction.id == tx_id)).one()
    return _replay(existing, content_hash, session)


def post_transaction(
    body: PostingIn, *, session: Session, reverses_id: str | None = None, transaction_id: str | None = None
) -> TransactionOut:
    """Post a balanced transaction inside the caller's unit of work (exactly once per key).

    Raises ``InvalidPosting`` / ``UnbalancedTransaction`` (422) for bad entries,
    ``InsufficientFunds`` (409, naming the account) when an entry would cross a floor, and
    ``IdempotencyConflict`` (409) when the key was used with other content. On any error nothing
    of the transaction is written; the caller's other changes are kept. ``transaction_id`` names
    the new transaction (default: a new id), so a caller can record it before posting; a replay
    returns the original's id.
    """
    accounts = _check(body, session)
    content_hash = _content_hash(body, reverses_id)
    if reverses_id is not None:
        return _post_in_savepoint(body, accounts, content_hash, reverses_id, session)
    tenant_id = current_tenant(session)
    tx_id, now = transaction_id or new_id(), utcnow()
    if session.autoflush:
        session.flush()  # Core statements below: the unit's pending rows (a new account) go first
    connection = session.connection()
    # The key first: a second poster of it waits here for the first to commit (PostgreSQL's unique
    # index; SQLite's write lock), then inserts nothing and replays the committed original.
    claimed = connection.execute(
        _CLAIM[connection.dialect.name],
        {
            "id": tx_id,
            "tenant_id": tenant_id,
            "idempotency_key": body.idempotency_key,
            "kind": body.kind,
            "memo": body.memo,
            "reference": body.reference,
            "content_hash": content_hash,
            "created_at": now,
        },
    ).first()
    if claimed is None:
        replay = _posted(body.idempotency_key, content_hash, session)
        if replay is None:  # pragma: no cover - the conflicting row is committed by then
            raise IdempotencyConflict("the idempotency key is in use", field="idempotency_key")
        return replay
    entries: list[dict[str, Any]] = []
    applied: list[tuple[str, int]] = []
    try:
        order = sorted(range(len(body.entries)), key=lambda i: body.entries[i].account_id)
        for i in order:
            entry = body.entries[i]
            balance_after, seq = _apply(entry, i, accounts[entry.account_id], session)
            applied.append((entry.account_id, entry.amount))
            entries.append(
                {
                    "id": new_id(),
                    "tenant_id": tenant_id,
                    "transaction_id": tx_id,
                    "account_id": entry.account_id,
                    "amount": entry.amount,
                    "seq": seq,
                    "balance_after": balance_after,
                    "created_at": now,
                }
            )
        connection.execute(insert(_ENTRIES), entries)
    except BaseException:
        # No savepoint (two statements more on every posting): the entries already applied are
        # taken back and the transaction row deleted, in the same database transaction, which
        # still holds their row locks, so nobody saw them. Nothing of the posting is left.
        _undo(connection, tx_id, applied)
        raise
    finally:
        _expire_accounts(session, accounts)
    return TransactionOut(
        id=tx_id,
        idempotency_key=body.idempotency_key,
        kind=body.kind,
        memo=body.memo,
        reference=body.reference,
        reverses_id=None,
        created_at=now,
        entries=[EntryOut.model_validate(e) for e in entries],
        created=True,
    )


def _undo(connection: Any, tx_id: str, applied: list[tuple[str, int]]) -> None:
    try:
        for account_id, delta in applied:
            connection.execute(_UNDO, {"account_id": account_id, "delta": delta})
        connection.execute(delete(_TRANSACTIONS).where(_TRANSACTIONS.c.id == tx_id))
    except Exception:
        pass


def _claim_statement(dialect: str) -> Any:
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    values: dict[str, Any] = {
        name: bindparam(name)
        for name in (
            "id",
            "tenant_id",
            "idempotency_key",
            "kind",
            "memo",
            "reference",
            "content_hash",
            "created_at",
        )
    }
    return (
        make(_TRANSACTIONS)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["tenant_id", "idempotency_key"])
        .returning(_TRANSACTIONS.c.id)
    )


_CLAIM = {dialect: _claim_statement(dialect) for dialect in ("postgresql", "sqlite")}


def _post_in_savepoint(
    body: PostingIn, accounts: dict[str, _AccountRow], content_hash: str, reverses_id: str, session: Session
) -> TransactionOut:
    """A reversal: also unique on ``reverses_id``, so it is posted inside a SAVEPOINT."""
    replay = _posted(body.idempotency_key, content_hash, session)
    if replay is not None:
        return replay
    tenant_id = current_tenant(session)
    tx_id, now = new_id(), utcnow()
    entries: list[dict[str, Any]] = []
    try:
        with session.begin_nested():
            session.execute(
                insert(_TRANSACTIONS).values(
                    id=tx_id,
                    tenant_id=tenant_id,
                    idempotency_key=body.idempotency_key,
                    kind=body.kind,
                    memo=body.memo,
                    reference=body.reference,
                    content_hash=content_hash,
                    reverses_id=reverses_id,
                    created_at=now,
                )
            )
            order = sorted(range(len(body.entries)), key=lambda i: body.entries[i].account_id)
            for i in order:
                entry = body.entries[i]
                balance_after, seq = _apply(entry, i, accounts[entry.account_id], session)
                entries.append(
                    {
                        "id": new_id(),
                        "tenant_id": tenant_id,
                        "transaction_id": tx_id,
                        "account_id": entry.account_id,
                        "amount": entry.amount,
                        "seq": seq,
                        "balance_after": balance_after,
                        "created_at": now,
                    }
                )
            session.execute(insert(_ENTRIES), entries)
    except IntegrityError:
        replay = _posted(body.idempotency_key, content_hash, session)
        if replay is None:
            raise
        return replay
    finally:
        _expire_accounts(session, accounts)
    return TransactionOut(
        id=tx_id,
        idempotency_key=body.idempotency_key,
        kind=body.kind,
        memo=body.memo,
        reference=body.reference,
        reverses_id=reverses_id,
        created_at=now,
        entries=[EntryOut.model_validate(e) for e in entries],
        created=True,
    )


def _expire_accounts(session: Session, ids: Iterable[str]) -> None:
    """Balances changed underneath the ORM: reload any of these accounts it holds."""
    for account_id in ids:
        obj = session.identity_map.get(identity_key(LedgerAccount, account_id))
        if obj is not None:
            session.expire(obj)


def transfer(
    *,
    session: Session,
    idempotency_key: str,
    from_account_id: str,
    to_account_id: str,
    amount: int,
    kind: str,
    memo: str = "",
    reference: str = "",
    transaction_id: str | None = None,
) -> TransactionOut:
    """Move ``amount`` (> 0) from one account to another of the same unit: a two-entry posting."""
    if amount <= 0:
        raise InvalidPosting("the amount of a transfer is positive", field="amount")
    return post_transaction(
        PostingIn(
            idempotency_key=idempotency_key,
            kind=kind,
            memo=memo,
            reference=reference,
            entries=[
                EntryIn(account_id=from_account_id, amount=-amount),
                EntryIn(account_id=to_account_id, amount=amount),
            ],
        ),
        session=session,
        transaction_id=transaction_id,
    )


def get_transaction(transaction_id: str, *, session: Session) -> TransactionOut:
    tx = session.scalars(
        select(LedgerTransaction).where(LedgerTransaction.id == transaction_id)
    ).one_or_none()
    if tx is None:
        raise TransactionNotFound(f"no transaction {transaction_id}", field="transaction_id")
    return _transaction_out(tx, session, created=False)


def find_transaction(idempotency_key: str, *, session: Session) -> TransactionOut | None:
    """The transaction posted under ``idempotency_key``, if any."""
    tx = _by_key(idempotency_key, session)
    return None if tx is None else _transaction_out(tx, session, created=False)


def reverse_transaction(transaction_id: str, *, session: Session, memo: str = "") -> TransactionOut:
    """Post the mirror image of a transaction (every entry negated), once.

    The key is ``reversal:<transaction id>``; reversing again returns the first reversal. A
    reversal obeys the floors: a wallet whose money was already spent cannot be reversed.
    """
    original = get_transaction(transaction_id, session=session)
    done = session.scalars(
        select(LedgerTransaction).where(LedgerTransaction.reverses_id == original.id)
    ).one_or_none()
    if done is not None:
        return _transaction_out(done, session, created=False)
    body = PostingIn(
        idempotency_key=f"reversal:{original.id}",
        kind=REVERSAL_KIND,
        memo=memo or f"reversal of {original.kind}",
        reference=original.id,
        entries=[EntryIn(account_id=e.account_id, amount=-e.amount) for e in original.entries],
    )
    try:
        return post_transaction(body, session=session, reverses_id=original.id)
    except IdempotencyConflict:
        # Another reversal (with another memo) committed first: that one stands.
        done = session.scalars(
            select(LedgerTransaction).where(LedgerTransaction.reverses_id == original.id)
        ).one_or_none()
        if done is None:
            raise
        return _transaction_out(done, session, created=False)


def statement(account_id: str, params: PageParams, *, session: Session) -> Statement:
    """An account's entries, newest first, each with the balance right after it."""
    account = get_account(account_id, session=session)
    rows = session.execute(
        select(LedgerEntry, LedgerTransaction)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerEntry.account_id == account_id)
        .order_by(LedgerEntry.seq.desc())
        .limit(params.page_size)
        .offset(params.offset)
    ).all()
    items = [_statement_line(entry, tx) for entry, tx in rows]
    return Statement(
        account=account, items=items, total=account.entry_count, page=params.page, page_size=params.page_size
    )


def _statement_line(entry: LedgerEntry, tx: LedgerTransaction) -> StatementLine:
    return StatementLine(
        entry_id=entry.id,
        transaction_id=tx.id,
        seq=entry.seq,
        amount=entry.amount,
        balance_after=entry.balance_after,
        kind=tx.kind,
        memo=tx.memo,
        reference=tx.reference,
        created_at=entry.created_at,
    )
