"""Consumer identity on the scan page: WeChat OAuth against a real local HTTP server standing in
for api.weixin.qq.com, the development phone + one-time code adapter, the signed cookie and
state, and the development-only openid shortcut."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from bcone.app import create_app
from bcone.cdp.identifiers import identity_key, keyed_hash
from bcone.codes import service
from bcone.codes._identity import PORT
from bcone.codes.errors import ConsumerLoginFailed
from bcone.codes.models import CodeConsumerOtp
from bcone.core.db import Database
from bcone.core.settings import Settings
from bcone.iam.schemas import TenantOut
from bcone.ledger import service as ledger
from bcone.ledger.schemas import AccountSpec
from bcone.promotions import service as promotions
from bcone.promotions.schemas import CampaignIn
from tests.codes.conftest import MakeBatch

APPID = "wx1234567890abcdef"
APP_SECRET = "s3cr3tAppSecretForTests"
MOBILE_UA = "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 MicroMessenger/8.0.47 NetType/WIFI"


class _FakeWeChat(BaseHTTPRequestHandler):
    """WeChat's OAuth token endpoint: ``code`` GOOD-<openid> answers that openid (and a unionid)."""

    calls: list[dict[str, list[str]]] = []

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        type(self).calls.append(query)
        body: dict[str, Any]
        if url.path == "/sns/oauth2/access_token":
            code = query.get("code", [""])[0]
            if query.get("appid") != [APPID] or query.get("secret") != [APP_SECRET]:
                body = {"errcode": 40125, "errmsg": "invalid appsecret"}
            elif code.startswith("GOOD-"):
                openid = code[5:]
                body = {"access_token": "AT", "expires_in": 7200, "openid": openid, "scope": "snsapi_base"}
                body["unionid"] = f"u-{openid}"
            else:
                body = {"errcode": 40029, "errmsg": "invalid code"}
        else:
            body = {"errcode": 404, "errmsg": "no such api"}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def wechat_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeWeChat)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    before = (PORT.api_base,)
    service.configure_wechat(api_base=base)
    _FakeWeChat.calls = []
    try:
        yield base
    finally:
        service.configure_wechat(api_base=before[0])
        server.shutdown()
        server.server_close()


def _path(url: str) -> str:
    return urlsplit(url).path


def _campaign(db: Database, tenant: TenantOut) -> None:
    with db.session(tenant_id=tenant.id) as s:
        campaign = promotions.create_campaign(
            CampaignIn(
                name="扫码红包",
                budget_fen=10_000,
                prizes=[{"kind": "red_packet", "probability": 1, "amount_fen": 100}],
            ),
            session=s,
        )
        promotions.change_status(campaign.id, "activate", session=s)


def _wallet(db: Database, tenant: TenantOut, owner_type: str, owner_id: str) -> int:
    with db.session(tenant_id=tenant.id, write=False) as s:
        spec = AccountSpec(kind="consumer_wallet", unit="fen", owner_type=owner_type, owner_id=owner_id)
        account = ledger.find_account(spec, session=s)
        return account.balance if account else 0


def _scan_identities(db: Database, tenant: TenantOut) -> list[list[list[str]]]:
    """The ``[namespace, value]`` identities of each ``code.scanned`` event of ``tenant``."""
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT identities FROM outbox WHERE type = 'code.scanned' AND tenant_id = "
            + ("%s" if db.dialect == "postgresql" else "?"),
            (tenant.id,),
        ).all()
    return [[[i["namespace"], i["value"]] for i in json.loads(r[0])] for r in rows]


def test_phone_hash_is_the_cdp_hash(settings: Settings) -> None:
    tenant_id = "t-1"
    ours = service.phone_hash("13812341234", secret_key=settings.secret_key, tenant_id=tenant_id)
    assert ours == keyed_hash(identity_key(settings.secret_key, tenant_id), "phone", "13812341234")


def test_signed_cookie_and_state_refuse_forgery(settings: Settings) -> None:
    who = service.ConsumerIdentity(tenant_id="t-1", via="wechat", openid="oA", appid=APPID)
    cookie = service.sign_identity(who, secret_key=settings.secret_key)
    assert service.read_identity(cookie, secret_key=settings.secret_key) == who
    body, sig = cookie.split(".")
    assert service.read_identity(body + "." + sig[:-2] + "AA", secret_key=settings.secret_key) is None
    assert service.read_identity(cookie, secret_key="another-secret-key-of-32-characters!") is None
    assert service.read_identity(cookie, secret_key=settings.secret_key, now=4_000_000_000) is None
    assert service.read_identity("garbage", secret_key=settings.secret_key) is None

    path = "/01/06901234567892/21/ABC"
    state = service.make_state(secret_key=settings.secret_key, nonce="n1", tenant_id="t-1", next_path=path)
    service.check_state(
        state, secret_key=settings.secret_key, nonce_cookie="n1", tenant_id="t-1", next_path=path
    )
    for nonce, tenant, where, now in (
        ("n2", "t-1", path, None),  # another browser (CSRF)
        (None, "t-1", path, None),  # no nonce cookie
        ("n1", "t-2", path, None),  # another tenant
        ("n1", "t-1", path + "X", None),  # another page
        ("n1", "t-1", path, 4_000_000_000.0),  # expired
    ):
        with pytest.raises(ConsumerLoginFailed) as info:
            service.check_state(
                state,
                secret_key=settings.secret_key,
                nonce_cookie=nonce,
                tenant_id=tenant,
                next_path=where,
                now=now,
            )
        assert info.value.field == "state"
    assert len(state) <= 128


def test_wechat_oauth_end_to_end(
    db: Database,
    tenant: TenantOut,
    owner_client: TestClient,
    client: TestClient,
    make_batch: MakeBatch,
    first_urls: Any,
    wechat_server: str,
) -> None:
    answer = owner_client.patch(
        "/api/v1/codes/settings",
        json={"wechat_appid": APPID, "wechat_secret": APP_SECRET, "wechat_open_platform_id": "op1"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["wechat_secret_set"] is True
    assert "wechat_secret" not in answer.json()
    _campaign(db, tenant)
    path = _path(first_urls(make_batch(), 1)[0])

    # Outside WeChat the page offers the login as a link, which goes to WeChat's OAuth.
    outside = client.get(path)
    assert 'id="login-wechat"' in outside.text
    link = client.get("/consumer/wechat/login", params={"next": path}, follow_redirects=False)
    assert link.status_code == 302
    assert link.headers["location"].startswith("https://open.weixin.qq.com/connect/oauth2/authorize?")

    # Inside WeChat without an identity: off to WeChat's OAuth with a signed state.
    hop = client.get(path, headers={"User-Agent": MOBILE_UA}, follow_redirects=False)
    assert hop.status_code == 302
    target = urlsplit(hop.headers["location"])
    assert (
        f"{target.scheme}://{target.netloc}{target.path}"
        == "https://open.weixin.qq.com/connect/oauth2/authorize"
    )
    query = parse_qs(target.query)
    assert query["appid"] == [APPID]
    assert query["scope"] == ["snsapi_base"]
    assert target.fragment == "wechat_redirect"
    callback = urlsplit(query["redirect_uri"][0])
    assert callback.path == "/consumer/wechat/callback"
    assert parse_qs(callback.query)["next"] == [path]
    state = query["state"][0]
    assert client.cookies.get(service.NONCE_COOKIE)

    # A forged state and a refused code are 422, nothing set.
    bad = client.get(
        "/consumer/wechat/callback", params={"code": "GOOD-oEvil", "state": state + "x", "next": path}
    )
    assert bad.status_code == 422
    assert bad.json()["field"] == "state"
    refused = client.get("/consumer/wechat/callback", params={"code": "NOPE", "state": state, "next": path})
    assert refused.status_code == 422
    assert refused.json()["field"] == "code"
    assert "40029" in refused.json()["detail"]
    evil_next = client.get(
        "/consumer/wechat/callback", params={"code": "x", "state": state, "next": "https://evil"}
    )
    assert evil_next.status_code == 422
    assert evil_next.json()["field"] == "next"

    # WeChat comes back with a good code: the openid is exchanged, kept in the signed cookie.
    back = client.get(
        "/consumer/wechat/callback",
        params={"code": "GOOD-oWx1", "state": state, "next": path},
        follow_redirects=False,
    )
    assert back.status_code == 303
    assert back.headers["location"] == path
    assert client.cookies.get(service.CONSUMER_COOKIE)
    token_call = _FakeWeChat.calls[-1]
    assert token_call["grant_type"] == ["authorization_code"]
    assert token_call["code"] == ["GOOD-oWx1"]

    page = client.get(path, headers={"User-Agent": MOBILE_UA, "Accept": "application/json"})
    assert page.status_code == 200
    assert page.json()["reward"]["outcome"] == "granted"
    assert _wallet(db, tenant, "wechat_openid", "oWx1") == 100
    seen = _scan_identities(db, tenant)
    assert [f"wechat_openid:{APPID}", "oWx1"] in seen[-1]
    assert ["wechat_unionid:op1", "u-oWx1"] in seen[-1]


def test_phone_one_time_code(
    db: Database,
    tenant: TenantOut,
    client: TestClient,
    make_batch: MakeBatch,
    first_urls: Any,
    caplog: pytest.LogCaptureFixture,
    settings: Settings,
) -> None:
    _campaign(db, tenant)
    paths = [_path(u) for u in first_urls(make_batch(), 2)]
    form = client.get("/consumer/phone", params={"next": paths[0]})
    assert form.status_code == 200
    assert 'id="send"' in form.text
    bad_phone = client.post("/consumer/phone", data={"next": paths[0], "phone": "12345"})
    assert bad_phone.status_code == 422
    assert 'id="error-phone"' in bad_phone.text

    def send() -> str:
        with caplog.at_level(logging.WARNING, logger="bcone.codes.identity"):
            sent = client.post("/consumer/phone", data={"next": paths[0], "phone": "+86 138-1234-1234"})
        assert sent.status_code == 200
        assert 'id="code-sent"' in sent.text
        match = re.search(r"one-time code for 138\*\*\*\*1234 \(tenant [^)]+\): (\d{6})", caplog.text)
        assert match, caplog.text
        caplog.clear()
        return match.group(1)

    code = send()
    wrong = "000000" if code != "000000" else "111111"
    miss = client.post(
        "/consumer/phone",
        data={"next": paths[0], "phone": "13812341234", "code": wrong},
        headers={"Accept": "application/json"},
    )
    assert miss.status_code == 422
    assert miss.json()["outcome"] == "wrong"
    assert miss.json()["tries_left"] == 4
    ok = client.post(
        "/consumer/phone",
        data={"next": paths[0], "phone": "13812341234", "code": code},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert ok.headers["location"] == paths[0]
    again = client.post(
        "/consumer/phone",
        data={"next": paths[0], "phone": "13812341234", "code": code},
        headers={"Accept": "application/json"},
    )
    assert again.json()["outcome"] == "expired"  # used once

    page = client.get(paths[0], headers={"Accept": "application/json"})
    assert page.json()["reward"]["outcome"] == "granted"
    hashed = service.phone_hash("13812341234", secret_key=settings.secret_key, tenant_id=tenant.id)
    assert _wallet(db, tenant, "phone", hashed) == 100
    assert ["phone", hashed] in _scan_identities(db, tenant)[-1]
    html = client.get(paths[1])
    assert 'id="consumer"' in html.text
    assert "138****1234" in html.text

    # Attempts limit: five wrong tries lock the code, even the right one is refused then.
    code = send()
    for _ in range(5):
        client.post("/consumer/phone", data={"next": paths[0], "phone": "13812341234", "code": wrong})
    locked = client.post(
        "/consumer/phone",
        data={"next": paths[0], "phone": "13812341234", "code": code},
        headers={"Accept": "application/json"},
    )
    assert locked.json()["outcome"] == "locked"

    # Expiry: a code past its time is refused.
    code = send()
    with db.session(tenant_id=tenant.id) as s:
        s.execute(
            update(CodeConsumerOtp)
            .where(CodeConsumerOtp.used_at.is_(None))
            .values(expires_at=CodeConsumerOtp.created_at)
        )
    expired = client.post(
        "/consumer/phone",
        data={"next": paths[0], "phone": "13812341234", "code": code},
        headers={"Accept": "application/json"},
    )
    assert expired.json()["outcome"] == "expired"
    with db.session(tenant_id=tenant.id, write=False) as s:
        assert len(s.scalars(select(CodeConsumerOtp)).all()) == 3
    # Per phone and hour: at most five codes (three sent so far).
    send()
    send()
    too_many = client.post(
        "/consumer/phone",
        data={"next": paths[0], "phone": "13812341234"},
        headers={"Accept": "application/json"},
    )
    assert too_many.status_code == 429


def test_openid_shortcut_is_development_only(
    db: Database, tenant: TenantOut, make_batch: MakeBatch, first_urls: Any, settings: Settings
) -> None:
    _campaign(db, tenant)
    production = settings.model_copy(
        update={"environment": "production", "secret_key": "p" * 40, "phone_hash_key": "q" * 40}
    )
    app: FastAPI = create_app(production, db=db)
    path = _path(first_urls(make_batch(), 1)[0])
    with TestClient(app) as prod:
        answer = prod.get(path, params={"openid": "oForged"}, headers={"Accept": "application/json"})
        assert answer.status_code == 200
        assert answer.json()["reward"]["outcome"] == "no_identity"
        assert prod.get("/consumer/phone", params={"next": path}).status_code == 404
    assert _wallet(db, tenant, "wechat_openid", "oForged") == 0
