"""A local HTTP server that plays WeChat Pay (API v3) with keys generated for the test.

It verifies the merchant's ``Authorization`` signature on every request, answers transfer bills
(idempotent by ``out_bill_no``) with signed responses, and builds signed, encrypted transfer
callbacks the way WeChat Pay sends them.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from bcone.ledger import wechatpay
from bcone.ledger.wechatpay import WechatPayConfig

MCHID = "1900000109"
APPID = "wxd678efh567hg6787"
MERCHANT_SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
PLATFORM_SERIAL = "3775B6A45ACD588826D15E583A95F5DD********"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class FakeWechatPay:
    merchant_public_key: rsa.RSAPublicKey
    platform_key: rsa.RSAPrivateKey = field(default_factory=new_key)
    apiv3_key: bytes = field(default_factory=lambda: secrets.token_hex(16).encode())
    bills: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def config(self, merchant_key: rsa.RSAPrivateKey, *, notify_url: str = "") -> WechatPayConfig:
        return WechatPayConfig(
            mchid=MCHID,
            appid=APPID,
            merchant_serial_no=MERCHANT_SERIAL,
            merchant_private_key=merchant_key,
            platform_serial_no=PLATFORM_SERIAL,
            platform_public_key=self.platform_key.public_key(),
            apiv3_key=self.apiv3_key,
            notify_url=notify_url,
            base_url=self.url,
        )

    def signed_headers(self, body: str, *, timestamp: int | None = None) -> dict[str, str]:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        nonce = secrets.token_hex(16)
        return {
            "Wechatpay-Timestamp": ts,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Serial": PLATFORM_SERIAL,
            "Wechatpay-Signature": wechatpay.sign(self.platform_key, f"{ts}\n{nonce}\n{body}\n"),
        }

    def callback(
        self, out_bill_no: str, state: str, *, fail_reason: str = ""
    ) -> tuple[dict[str, str], bytes]:
        """A transfer result callback for a bill: (headers, body), signed and encrypted."""
        bill = self.bills[out_bill_no]
        resource = {
            "out_bill_no": out_bill_no,
            "transfer_bill_no": bill["transfer_bill_no"],
            "state": state,
            "mch_id": MCHID,
            "transfer_amount": bill["transfer_amount"],
            "openid": bill["openid"],
            "fail_reason": fail_reason,
            "create_time": "2026-11-23T22:00:00+08:00",
            "update_time": "2026-11-23T22:00:05+08:00",
        }
        nonce = secrets.token_hex(6)  # 12 characters, as WeChat Pay sends
        envelope = {
            "id": secrets.token_hex(18),
            "create_time": "2026-11-23T22:00:05+08:00",
            "resource_type": "encrypt-resource",
            "event_type": "MCHTRANSFER.BILL.FINISHED",
            "summary": "商家转账单据终态通知",
            "resource": {
                "original_type": "mch_payment",
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": wechatpay.encrypt_resource(
                    self.apiv3_key, json.dumps(resource), nonce=nonce, associated_data="mch_payment"
                ),
                "associated_data": "mch_payment",
                "nonce": nonce,
            },
        }
        body = json.dumps(envelope, ensure_ascii=False)
        return {"Content-Type": "application/json", **self.signed_headers(body)}, body.encode()

    def start(self) -> FakeWechatPay:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:  # keep test output clean
                pass

            def _answer(self, code: int, payload: dict[str, Any]) -> None:
                body = json.dumps(payload, ensure_ascii=False)
                self.send_response(code)
                for name, value in fake.signed_headers(body).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body.encode())))
                self.end_headers()
                self.wfile.write(body.encode())

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                try:
                    auth = wechatpay.parse_authorization(self.headers.get("Authorization", ""))
                except ValueError:
                    auth = {}
                message = wechatpay.request_message(
                    "POST", self.path, auth.get("timestamp", ""), auth.get("nonce_str", ""), body
                )
                if not (
                    auth.get("mchid") == MCHID
                    and auth.get("serial_no") == MERCHANT_SERIAL
                    and wechatpay.verify(fake.merchant_public_key, message, auth.get("signature", ""))
                ):
                    fake.refused += 1
                    self._answer(401, {"code": "SIGN_ERROR", "message": "签名错误"})
                    return
                if self.path != wechatpay.TRANSFER_PATH:
                    self._answer(404, {"code": "NOT_FOUND", "message": "no such API"})
                    return
                data = json.loads(body)
                fake.requests.append(data)
                bill = fake.bills.setdefault(
                    data["out_bill_no"],
                    {
                        "transfer_bill_no": f"1330000071100999991182020050700{len(fake.bills):04d}",
                        "transfer_amount": data["transfer_amount"],
                        "openid": data["openid"],
                    },
                )
                self._answer(
                    200,
                    {
                        "out_bill_no": data["out_bill_no"],
                        "transfer_bill_no": bill["transfer_bill_no"],
                        "create_time": "2026-11-23T22:00:00+08:00",
                        "state": "WAIT_USER_CONFIRM",
                        "package_info": "affffddafdfafddffda==",
                    },
                )

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
