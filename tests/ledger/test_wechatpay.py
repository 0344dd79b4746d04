"""WeChat Pay merchant transfers against a real local HTTP server playing WeChat Pay."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bcone.core.db import Database
from bcone.core.jobs import run_pending
from bcone.iam.schemas import TenantOut
from bcone.ledger import service, wechatpay
from bcone.ledger.errors import InvalidSignature, ProviderError
from bcone.ledger.schemas import PayoutLineOut, PayoutRequestIn
from tests.fixtures_iam import AuthHeaders
from tests.ledger.fake_wechatpay import MCHID, MERCHANT_SERIAL, FakeWechatPay, new_key
from tests.ledger.helpers import balance, fund, open_account

MERCHANT_KEY = new_key()


@pytest.fixture
def fake(tenant: TenantOut) -> Iterator[FakeWechatPay]:
    server = FakeWechatPay(merchant_public_key=MERCHANT_KEY.public_key()).start()
    yield server
    server.stop()
    wechatpay.configure(tenant.id, None)


def test_authorization_header_signs_the_documented_message(fake: FakeWechatPay) -> None:
    config = fake.config(MERCHANT_KEY)
    header = wechatpay.authorization(
        config,
        "POST",
        "/v3/fund-app/mch-transfer/transfer-bills",
        '{"a":1}',
        timestamp="1554208460",
        nonce="593BEC0C930BF1AFEB40B4A08C8FB242",
    )
    assert header.startswith(
        'WECHATPAY2-SHA256-RSA2048 mchid="1900000109",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",'
    )
    params = wechatpay.parse_authorization(header)
    assert params["timestamp"] == "1554208460"
    assert params["serial_no"] == MERCHANT_SERIAL
    assert params["mchid"] == MCHID
    message = 'POST\n/v3/fund-app/mch-transfer/transfer-bills\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n{"a":1}\n'
    assert wechatpay.verify(MERCHANT_KEY.public_key(), message, params["signature"])
    assert not wechatpay.verify(
        MERCHANT_KEY.public_key(), message.replace("POST", "GET"), params["signature"]
    )


def test_resource_decryption_refuses_tampering() -> None:
    key = b"0123456789abcdef0123456789abcdef"
    sealed = wechatpay.encrypt_resource(
        key, '{"out_bill_no":"x"}', nonce="abcdefghijkl", associated_data="mch_payment"
    )
    resource = {
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": sealed,
        "nonce": "abcdefghijkl",
        "associated_data": "mch_payment",
    }
    assert wechatpay.decrypt_resource(key, resource) == {"out_bill_no": "x"}
    for change in (
        {"associated_data": "other"},
        {"nonce": "abcdefghijkm"},
        {"ciphertext": base64.b64encode(b"\0" + base64.b64decode(sealed)[1:]).decode()},
    ):
        with pytest.raises(InvalidSignature):
            wechatpay.decrypt_resource(key, {**resource, **change})
    with pytest.raises(InvalidSignature):
        wechatpay.decrypt_resource(b"f" * 32, resource)


def _lines(db: Database, tenant_id: str, amounts: list[int]) -> tuple[str, list[PayoutLineOut]]:
    wallet = open_account(db, tenant_id, "consumer_wallet", "p1")
    fund(db, tenant_id, wallet.id, sum(amounts))
    lines = []
    with db.session(tenant_id=tenant_id) as s:
        for i, amount in enumerate(amounts):
            lines.append(
                service.request_payout(
                    PayoutRequestIn(
                        idempotency_key=f"red-packet:{i}",
                        account_id=wallet.id,
                        amount_fen=amount,
                        payee_name="张三",
                        payee_account=f"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o{i}",
                    ),
                    session=s,
                )
            )
    return wallet.id, lines


def test_transfer_callbacks_pay_once_and_refuse_bad_signatures(
    db: Database,
    app: FastAPI,
    tenant: TenantOut,
    other_tenant: TenantOut,
    auth_headers: AuthHeaders,
    fake: FakeWechatPay,
) -> None:
    wechatpay.configure(tenant.id, fake.config(MERCHANT_KEY, notify_url="https://brand.example/cb"))
    wallet_id, (paid, failed) = _lines(db, tenant.id, [188, 600])
    notify = f"/api/v1/ledger/wechatpay/notify/{tenant.id}"
    with TestClient(app, headers=auth_headers("owner")) as owner, TestClient(app) as wechat:
        batch = owner.post("/api/v1/ledger/payout-batches", json={"provider": "wechat_transfer"})
        assert batch.status_code == 201, batch.text
        batch_id = batch.json()["id"]
        queued = owner.post(f"/api/v1/ledger/payout-batches/{batch_id}/submit")
        assert queued.status_code == 202, queued.text
        again = owner.post(f"/api/v1/ledger/payout-batches/{batch_id}/submit")
        assert again.json()["job_id"] == queued.json()["job_id"]  # one submission at a time
        assert not fake.requests  # nothing leaves before the job runs, after the commit
        assert run_pending(db, worker_id="test") == 1
        assert owner.get(f"/api/v1/jobs/{queued.json()['job_id']}").json()["status"] == "succeeded"
        submitted = owner.get(f"/api/v1/ledger/payout-batches/{batch_id}")
        assert submitted.json()["status"] == "submitted"
        assert {x["status"] for x in submitted.json()["lines"]} == {"submitted"}
        assert fake.refused == 0
        sent = {r["out_bill_no"]: r for r in fake.requests}
        assert sent[paid.id.replace("-", "")]["transfer_amount"] == 188
        assert sent[paid.id.replace("-", "")]["notify_url"] == "https://brand.example/cb"
        assert owner.post(f"/api/v1/ledger/payout-batches/{batch_id}/submit").status_code == 409

        headers, body = fake.callback(paid.id.replace("-", ""), "SUCCESS")
        # A tampered body, a stale timestamp, a foreign serial: refused, nothing changes.
        assert (
            wechat.post(
                notify, content=body.replace(b"mch_payment", b"mch_paymenx", 1), headers=headers
            ).status_code
            == 401
        )
        stale = {**headers, **fake.signed_headers(body.decode(), timestamp=int(time.time()) - 3600)}
        assert wechat.post(notify, content=body, headers=stale).status_code == 401
        assert (
            wechat.post(notify, content=body, headers={**headers, "Wechatpay-Serial": "OTHER"}).status_code
            == 401
        )
        problem = wechat.post(notify, content=body, headers={**headers, "Wechatpay-Signature": "AAAA"})
        assert problem.status_code == 401
        assert problem.headers["content-type"].startswith("application/problem+json")
        assert problem.json()["code"] == "invalid_signature"
        assert (
            wechat.post(
                f"/api/v1/ledger/wechatpay/notify/{other_tenant.id}", content=body, headers=headers
            ).status_code
            == 404
        )
        assert owner.get("/api/v1/ledger/payouts/reconciliation").json()["clearing_balance"] == 788

        # Delivered twice: paid once.
        assert wechat.post(notify, content=body, headers=headers).status_code == 204
        assert wechat.post(notify, content=body, headers=headers).status_code == 204
        headers, body = fake.callback(
            failed.id.replace("-", ""), "FAIL", fail_reason="PAYEE_ACCOUNT_ABNORMAL"
        )
        assert wechat.post(notify, content=body, headers=headers).status_code == 204

        detail = owner.get(f"/api/v1/ledger/payout-batches/{batch_id}").json()
        assert detail["status"] == "closed"
        by_id = {x["id"]: x for x in detail["lines"]}
        assert by_id[paid.id]["status"] == "paid"
        assert by_id[paid.id]["provider_ref"] == fake.bills[paid.id.replace("-", "")]["transfer_bill_no"]
        assert (by_id[failed.id]["status"], by_id[failed.id]["failure_reason"]) == (
            "failed",
            "PAYEE_ACCOUNT_ABNORMAL",
        )
        rec = owner.get("/api/v1/ledger/payouts/reconciliation").json()
        assert rec == {"clearing_balance": 0, "open_lines": 0, "open_lines_total": 0, "balanced": True}
    assert balance(db, tenant.id, wallet_id) == 600  # the failed transfer came back
    with db.session(tenant_id=tenant.id) as s:
        assert service.external_account(session=s).balance == 188
        assert service.totals_by_unit(session=s) == {"fen": 0}


def test_a_wrong_merchant_key_is_refused_by_wechat_and_nothing_is_submitted(
    db: Database, tenant: TenantOut, fake: FakeWechatPay
) -> None:
    _lines(db, tenant.id, [100])
    provider = wechatpay.WechatTransferProvider(fake.config(new_key()))
    with db.session(tenant_id=tenant.id) as s:
        batch = service.create_batch(session=s, provider="wechat_transfer")
    with db.session(tenant_id=tenant.id) as s, pytest.raises(ProviderError):
        service.submit_batch(batch.id, provider, session=s)
    assert fake.refused == 1
    assert not fake.bills
    with db.session(tenant_id=tenant.id, write=False) as s:
        assert service.get_batch(batch.id, session=s).lines[0].status == "batched"


def test_concurrent_duplicate_callbacks_settle_once(
    db: Database, tenant: TenantOut, fake: FakeWechatPay
) -> None:
    config = fake.config(MERCHANT_KEY)
    wallet_id, lines = _lines(db, tenant.id, [500])
    with db.session(tenant_id=tenant.id) as s:
        batch = service.create_batch(session=s, provider="wechat_transfer")
        service.submit_batch(batch.id, wechatpay.WechatTransferProvider(config), session=s)
    headers, body = fake.callback(lines[0].id.replace("-", ""), "SUCCESS")
    barrier = threading.Barrier(8)

    def deliver(_: int) -> str:
        notice = wechatpay.parse_transfer_notification(config, headers, body)
        barrier.wait()
        with db.session(tenant_id=tenant.id) as s:
            line = service.apply_transfer_notice(notice, session=s)
        return line.status if line else ""

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(deliver, range(8))) == {"paid"}
    with db.session(tenant_id=tenant.id) as s:
        assert service.external_account(session=s).balance == 500
        assert service.reconciliation(session=s).balanced
    assert balance(db, tenant.id, wallet_id) == 0
    assert json.loads(body)["event_type"] == "MCHTRANSFER.BILL.FINISHED"
