"""Console login and logout (cookie session, CSRF), the login throttle and the settings pages."""

from __future__ import annotations

import hashlib
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bcone.app import create_app
from bcone.core.db import Database
from bcone.core.settings import Settings
from bcone.iam import service
from bcone.iam.models import ConsoleSession
from bcone.iam.schemas import TenantOut
from tests.fixtures_iam import DEFAULT_PASSWORD, LOGIN_CSRF_COOKIE, ConsoleLogin, MakeUser


def _login_token(client: TestClient) -> str:
    client.get("/login")
    token = client.cookies.get(LOGIN_CSRF_COOKIE)
    assert token
    return token


def _post_login(client: TestClient, email: str, password: str = DEFAULT_PASSWORD, **extra: str) -> object:
    data = {"email": email, "password": password, "csrf_token": _login_token(client), **extra}
    return client.post("/login", data=data, follow_redirects=False)


def test_login_page_speaks_chinese_first_then_english(client: TestClient) -> None:
    zh = client.get("/login")
    assert zh.status_code == 200
    assert "登录" in zh.text
    assert LOGIN_CSRF_COOKIE in zh.headers["set-cookie"]
    en = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Log in" in en.text


def test_login_sets_a_hardened_cookie_and_stores_only_its_hash(
    client: TestClient, make_user: MakeUser, db: Database
) -> None:
    user = make_user("marketer")
    resp = _post_login(client, user.email, next="/network?page=2")
    assert resp.status_code == 303
    assert resp.headers["location"] == "/network?page=2"
    cookie = next(
        c for c in resp.headers.get_list("set-cookie") if c.startswith(f"{service.SESSION_COOKIE}=")
    )
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # development: plain http on localhost
    token = client.cookies.get(service.SESSION_COOKIE)
    assert token
    with db.session() as s:
        stored = s.scalars(select(ConsoleSession.token_hash)).all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in stored
    me = client.get("/api/v1/me").json()
    assert me["via"] == "session"
    assert me["user_id"] == user.id


def test_secure_cookie_in_production(db: Database, make_user: MakeUser) -> None:
    settings = Settings(environment="production", secret_key="x" * 40, phone_hash_key="y" * 40)
    user = make_user("marketer")
    with TestClient(create_app(settings, db=db), base_url="https://testserver") as c:
        resp = _post_login(c, user.email)
    cookie = next(
        c for c in resp.headers.get_list("set-cookie") if c.startswith(f"{service.SESSION_COOKIE}=")
    )
    assert "Secure" in cookie


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:x"]
)
def test_next_only_accepts_local_paths(client: TestClient, make_user: MakeUser, target: str) -> None:
    user = make_user("marketer")
    resp = _post_login(client, user.email, next=target)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/"


def test_wrong_password_shows_a_message_not_a_session(client: TestClient, make_user: MakeUser) -> None:
    user = make_user("marketer")
    resp = _post_login(client, user.email, password="wrong password")
    assert resp.status_code == 401
    assert "邮箱或密码不正确" in resp.text
    assert 'id="login-error"' in resp.text
    assert client.cookies.get(service.SESSION_COOKIE) is None
    assert client.get("/api/v1/me").status_code == 401


def test_login_without_the_form_token_is_refused(client: TestClient, make_user: MakeUser) -> None:
    user = make_user("marketer")
    client.get("/login")
    resp = client.post(
        "/login",
        data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert resp.status_code == 403
    assert client.cookies.get(service.SESSION_COOKIE) is None
    fresh = TestClient(client.app)
    cookieless = fresh.post(
        "/login", data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": "x"}
    )
    assert cookieless.status_code == 403


def test_repeated_failures_are_throttled(client: TestClient, make_user: MakeUser) -> None:
    user = make_user("marketer")
    for _ in range(service.LOGIN_FAILURE_LIMIT):
        assert _post_login(client, user.email, password="guess guess").status_code == 401
    blocked = _post_login(client, user.email)  # even the right password waits now
    assert blocked.status_code == 429
    assert "15 分钟" in blocked.text
    assert client.cookies.get(service.SESSION_COOKIE) is None
    other = make_user("analyst")
    assert _post_login(client, other.email).status_code == 303  # throttled per email, not globally


def test_cookie_session_needs_csrf_on_unsafe_requests(
    client: TestClient, make_user: MakeUser, console_login: ConsoleLogin
) -> None:
    owner = make_user("owner")
    csrf = console_login(client, owner.email)
    body = {"name": "erp", "role": "analyst"}
    refused = client.post("/api/v1/api-keys", json=body)
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    wrong = client.post("/api/v1/api-keys", json=body, headers={"X-CSRF-Token": "nope"})
    assert wrong.json()["code"] == "csrf_failed"
    assert client.post("/api/v1/api-keys", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201


def test_logout_revokes_the_session_server_side(
    client: TestClient, make_user: MakeUser, console_login: ConsoleLogin
) -> None:
    user = make_user("marketer")
    csrf = console_login(client, user.email)
    token = client.cookies.get(service.SESSION_COOKIE)
    assert token
    assert client.post("/logout", follow_redirects=False).status_code == 403  # no CSRF token
    resp = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/login"
    assert client.cookies.get(service.SESSION_COOKIE) is None
    replay = TestClient(client.app, cookies={service.SESSION_COOKIE: token})
    assert replay.get("/api/v1/me").status_code == 401


def test_a_new_login_replaces_the_old_session(
    client: TestClient, make_user: MakeUser, console_login: ConsoleLogin
) -> None:
    user = make_user("marketer")
    console_login(client, user.email)
    first = client.cookies.get(service.SESSION_COOKIE)
    console_login(client, user.email)
    assert client.cookies.get(service.SESSION_COOKIE) != first
    stale = TestClient(client.app, cookies={service.SESSION_COOKIE: first or ""})
    assert stale.get("/api/v1/me").status_code == 401


def test_users_page_lists_and_creates(
    client: TestClient, make_user: MakeUser, console_login: ConsoleLogin, tenant: TenantOut
) -> None:
    owner = make_user("owner", display_name="Chen Guoqiang")
    csrf = console_login(client, owner.email)
    page = client.get("/settings/users")
    assert page.status_code == 200
    assert "Chen Guoqiang" in page.text
    form = {"email": "wang.fang@acme.example", "display_name": "Wang Fang", "role": "sales_rep"}
    bad = client.post("/settings/users", data={**form, "password": "short", "csrf_token": csrf})
    assert bad.status_code == 422
    assert 'id="f-password-error"' in bad.text
    ok = client.post(
        "/settings/users",
        data={**form, "password": "long enough pw", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    listed = client.get("/settings/users")
    assert "wang.fang@acme.example" in listed.text
    assert "已添加用户" in listed.text  # the flash message


def test_user_row_form_changes_role_and_status(
    client: TestClient, make_user: MakeUser, console_login: ConsoleLogin, db: Database, tenant: TenantOut
) -> None:
    owner = make_user("owner")
    rep = make_user("sales_rep")
    csrf = console_login(client, owner.email)
    resp = client.post(
        f"/settings/users/{rep.id}",
        data={"role": "sales_manager", "status": "disabled", "org_id": "", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    with db.session(tenant_id=tenant.id) as s:
        changed = service.get_user(rep.id, session=s)
    assert changed.role is not None
    assert changed.role.value == "sales_manager"
    assert changed.status == "disabled"


def test_api_keys_page_shows_the_secret_once_and_revokes(
    client: TestClient, make_user: MakeUser, console_login: ConsoleLogin
) -> None:
    owner = make_user("owner")
    csrf = console_login(client, owner.email)
    created = client.post(
        "/settings/api-keys",
        data={"name": "ERP sync", "role": "analyst", "expires_days": "90", "csrf_token": csrf},
    )
    assert created.status_code == 201
    match = re.search(r'id="key-secret">(bk_[A-Za-z0-9_-]+)<', created.text)
    assert match
    secret = match.group(1)
    api = TestClient(client.app, headers={"Authorization": f"Bearer {secret}"})
    assert api.get("/api/v1/me").json()["role"] == "analyst"
    listing = client.get("/settings/api-keys")
    assert "ERP sync" in listing.text
    assert secret not in listing.text
    key_id = api.get("/api/v1/me").json()["api_key_id"]
    revoked = client.post(
        f"/settings/api-keys/{key_id}/revoke", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert revoked.status_code == 303
    assert api.get("/api/v1/me").status_code == 401
    again = client.post(
        f"/settings/api-keys/{key_id}/revoke", headers={"HX-Request": "true", "X-CSRF-Token": csrf}
    )
    assert again.status_code == 204
    assert again.headers["HX-Redirect"] == "/settings/api-keys"


def test_settings_pages_need_owner_or_admin(
    client: TestClient, make_user: MakeUser, console_login: ConsoleLogin
) -> None:
    assert client.get("/settings/users", follow_redirects=False).status_code in (303, 307)
    analyst = make_user("analyst")
    console_login(client, analyst.email)
    assert client.get("/settings/users").status_code == 403
    assert client.get("/settings/api-keys").status_code == 403


def test_a_refused_change_leaves_the_user_as_it_was(
    client: TestClient, make_user: MakeUser, console_login: ConsoleLogin, db: Database, tenant: TenantOut
) -> None:
    owner = make_user("owner")
    csrf = console_login(client, owner.email)
    resp = client.post(
        f"/settings/users/{owner.id}",
        data={"role": "admin", "status": "active", "org_id": "", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    page = client.get("/settings/users")
    assert "未能更新用户" in page.text
    with db.session(tenant_id=tenant.id) as s:
        unchanged = service.get_user(owner.id, session=s)
    assert unchanged.role is not None
    assert unchanged.role.value == "owner"
