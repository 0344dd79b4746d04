"""The ledger's console pages: balances, accounts, statements, batches, upload of results."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from bcone.core.db import Database
from bcone.core.settings import get_settings
from bcone.iam.schemas import TenantOut
from bcone.ledger import service
from bcone.ledger.cli import app as ledger_cli
from bcone.ledger.schemas import PayoutRequestIn
from tests.fixtures_iam import ConsoleLogin, MakeUser
from tests.ledger.helpers import balance, fund, open_account


def test_ledger_page_batches_and_confirmation_upload(
    db: Database, client: TestClient, tenant: TenantOut, make_user: MakeUser, console_login: ConsoleLogin
) -> None:
    csrf = console_login(client, make_user("owner").email)
    empty = client.get("/ledger")
    assert empty.status_code == 200
    assert "还没有账户" in empty.text
    assert 'href="/ledger"' in empty.text
    wallet = open_account(db, tenant.id, "store_wallet", "s1")
    fund(db, tenant.id, wallet.id, 10_000)
    with db.session(tenant_id=tenant.id) as s:
        line = service.request_payout(
            PayoutRequestIn(
                idempotency_key="r1",
                account_id=wallet.id,
                amount_fen=2_550,
                payee_name="王记便利店",
                payee_account="6222-1",
            ),
            session=s,
        )
    page = client.get("/ledger")
    assert 'data-kind="store_wallet" data-unit="fen" data-balance="7450"' in page.text
    assert "待处理提现：1 笔，共 ¥25.50" in page.text
    assert "一致" in page.text
    assert client.post("/ledger/batches", data={}, follow_redirects=False).status_code == 403  # no CSRF
    created = client.post("/ledger/batches", data={"csrf_token": csrf}, follow_redirects=False)
    assert created.status_code == 303
    batch_page = client.get(created.headers["location"])
    assert "已生成提现批次，共 1 笔" in batch_page.text
    assert f'id="line-{line.id}" data-status="batched"' in batch_page.text
    export = client.get(
        re.findall(r'href="(/api/v1/ledger/payout-batches/[^"]+/export\.csv)"', batch_page.text)[0]
    )
    assert export.status_code == 200
    filled = export.content.decode("utf-8-sig").replace(",batched,", ",paid,")
    url = created.headers["location"] + "/confirm"
    bad = client.post(
        url,
        data={"csrf_token": csrf},
        files={"file": ("r.csv", b"line_id,status\nx,maybe\n")},
        follow_redirects=True,
    )
    assert "结果文件有误" in bad.text
    done = client.post(
        url, data={"csrf_token": csrf}, files={"file": ("r.csv", filled.encode())}, follow_redirects=True
    )
    assert "已记录付款结果" in done.text
    assert 'data-status="closed"' in done.text
    assert balance(db, tenant.id, wallet.id) == 7_450
    again = client.post("/ledger/batches", data={"csrf_token": csrf}, follow_redirects=True)
    assert "当前状态不允许此操作" in again.text


def test_statement_page_and_english(
    db: Database, client: TestClient, tenant: TenantOut, make_user: MakeUser, console_login: ConsoleLogin
) -> None:
    csrf = console_login(client, make_user("analyst").email)
    budget = open_account(db, tenant.id, "campaign_budget", "spring")
    fund(db, tenant.id, budget.id, 12_345)
    page = client.get(f"/ledger/accounts/{budget.id}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "Campaign budget" in page.text
    assert "¥123.45" in page.text
    assert 'data-seq="1" data-amount="12345"' in page.text
    listed = client.get(
        "/ledger",
        params={"kind": "campaign_budget"},
        headers={"HX-Request": "true", "HX-Target": "account-results"},
    )
    assert "<html" not in listed.text
    assert 'data-owner="spring"' in listed.text
    overview = client.get("/ledger")
    assert 'id="create-batch"' not in overview.text  # analysts read only
    assert (
        client.post("/ledger/batches", data={"csrf_token": csrf}, follow_redirects=False).status_code == 403
    )


@pytest.fixture
def cli_db(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("BCONE_DATABASE_URL", db.url)
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


def test_cli_balances_and_export(cli_db: Database, tenant: TenantOut, tmp_path: Path) -> None:
    db = cli_db
    wallet = open_account(db, tenant.id, "consumer_wallet", "p1")
    fund(db, tenant.id, wallet.id, 1_000)
    with db.session(tenant_id=tenant.id) as s:
        service.request_payout(
            PayoutRequestIn(idempotency_key="r", account_id=wallet.id, amount_fen=300, payee_name="张三"),
            session=s,
        )
        batch = service.create_batch(session=s)
    runner = CliRunner()
    shown = runner.invoke(ledger_cli, ["balances", "--tenant", tenant.slug])
    assert shown.exit_code == 0, shown.output
    assert "consumer_wallet" in shown.output
    assert "fen=0" in shown.output
    as_json = json.loads(runner.invoke(ledger_cli, ["balances", "--tenant", tenant.slug, "--json"]).output)
    assert {(b["kind"], b["balance"]) for b in as_json["balances"]} >= {
        ("consumer_wallet", 700),
        ("payouts_clearing", 300),
    }
    out = tmp_path / "batch.csv"
    exported = runner.invoke(
        ledger_cli, ["payouts", "export", "--tenant", tenant.slug, batch.id, "--out", str(out)]
    )
    assert exported.exit_code == 0, exported.output
    assert "张三" in out.read_text("utf-8-sig")
    assert ",3.00," in out.read_text("utf-8-sig")
    missing = runner.invoke(
        ledger_cli, ["payouts", "export", "--tenant", tenant.slug, "nope", "--out", str(out)]
    )
    assert missing.exit_code == 1
    assert "payout_batch_not_found" in missing.output
    assert runner.invoke(ledger_cli, ["balances", "--tenant", "nobody"]).exit_code == 2
