"""The console shell: login redirects, the layout, error pages, the language switch, flashes."""

from __future__ import annotations

import re

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.testclient import TestClient

from bcone.core.errors import Forbidden
from bcone.iam.schemas import UserOut
from bcone.network.schemas import OrganizationOut
from bcone.web.deps import ConsolePrincipal, safe_next
from bcone.web.i18n import LOCALE_COOKIE
from bcone.web.templating import FLASH_COOKIE, flash, redirect_to, render
from tests.fixtures_iam import ConsoleLogin, MakeUser

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}

# --- ConsolePrincipal: anonymous visitors go to the login page ---------------------------------


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/", "/login"),
        ("/?days=7", "/login?next=%2F%3Fdays%3D7"),
        (
            "/test-shell/page?page=2&q=上海",
            "/login?next=%2Ftest-shell%2Fpage%3Fpage%3D2%26q%3D%25E4%25B8%258A%25E6%25B5%25B7",
        ),
    ],
)
def test_anonymous_console_page_redirects_to_login_with_next(
    app: FastAPI, client: TestClient, path: str, location: str
) -> None:
    _app_with_test_pages(app)
    resp = client.get(path, headers=HTML, follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"] == location


def test_anonymous_htmx_request_gets_hx_redirect_to_the_page_it_came_from(client: TestClient) -> None:
    resp = client.get(
        "/?days=7",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/network?page=3"},
        follow_redirects=False,
    )
    assert resp.status_code == 204
    assert resp.headers["HX-Redirect"] == "/login?next=%2Fnetwork%3Fpage%3D3"


def test_htmx_current_url_of_another_site_is_ignored(client: TestClient) -> None:
    resp = client.get(
        "/",
        headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/x"},
        follow_redirects=False,
    )
    assert resp.headers["HX-Redirect"] == "/login"


def test_the_api_still_answers_401_problem_json(client: TestClient) -> None:
    resp = client.get("/api/v1/overview/daily", headers=HTML)
    assert resp.status_code == 401
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["code"] == "unauthenticated"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "/"),
        ("", "/"),
        ("/network?page=2", "/network?page=2"),
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("network", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
    ],
)
def test_safe_next_keeps_only_local_paths(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected


# --- the layout ---------------------------------------------------------------------------------


def test_logged_in_shell_has_navigation_user_logout_and_htmx_csrf(
    console: TestClient, owner: UserOut
) -> None:
    resp = console.get("/", headers=HTML)
    assert resp.status_code == 200
    html = resp.text
    assert '<html lang="zh-CN">' in html
    for href, label in [
        ("/", "经营概览"),
        ("/network", "渠道网络"),
        ("/network/staff", "门店员工"),
        ("/catalog", "商品"),
        ("/settings/users", "设置"),
    ]:
        assert re.search(
            rf'<a href="{re.escape(href)}"[^>]*>\s*<svg[^>]*>.*?</svg><span>{label}</span>', html, re.S
        )
    assert re.search(r'<a href="/" id="nav-overview" aria-current="page"', html)
    assert "Wang Fang" in html
    assert "所有者" in html  # the role
    csrf = console.headers["X-CSRF-Token"]
    assert f"""hx-headers='{{"X-CSRF-Token": "{csrf}"}}'""" in html
    assert re.search(
        r'<form method="post" action="/logout"[^>]*>\s*<input type="hidden" name="csrf_token" value="'
        + re.escape(csrf)
        + '">',
        html,
    )
    assert re.search(r'<script src="/static/vendor/htmx/htmx\.min\.js\?v=[0-9a-f]{12}" defer>', html)


def test_partners_do_not_see_the_settings_link(
    client: TestClient, make_user: MakeUser, console_login: ConsoleLogin, distributor: OrganizationOut
) -> None:
    partner = make_user("partner", org_id=distributor.id)
    console_login(client, partner.email)
    html = client.get("/", headers=HTML).text
    assert 'href="/network"' in html
    assert 'href="/settings/users"' not in html
    # Only the pages that serve partners: no brand-wide analytics, CRM or ledger links to a 403.
    assert 'href="/store/portal"' in html
    for brand_page in ("/analytics/dashboard", "/crm", "/ledger", "/codes", "/cdp/profiles"):
        assert f'href="{brand_page}"' not in html


def test_the_active_entry_follows_the_longest_matching_path() -> None:
    from bcone.web.nav import nav_for

    class Owner:
        def has_role(self) -> bool:
            return True

    def active(path: str) -> list[str]:
        return [item["key"] for item in nav_for(path, Owner()) if item["active"]]

    assert active("/") == ["nav.overview"]
    assert active("/network") == ["nav.network"]
    assert active("/network/org-1/edit") == ["nav.network"]
    assert active("/network/staff") == ["nav.staff"]
    assert active("/network/staff/new") == ["nav.staff"]
    assert active("/networking") == []
    assert active("/settings/api-keys") == ["nav.settings"]


# --- error pages: HTML for browsers, problem+json for the API -----------------------------------


def test_unknown_page_is_an_html_404_for_browsers_and_json_otherwise(console: TestClient) -> None:
    page = console.get("/no-such-page", headers=HTML)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "页面不存在" in page.text
    assert 'id="nav-overview"' in page.text  # the caller is recognised: the navigation stays
    api = console.get("/api/v1/no-such-thing", headers=HTML)
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/problem+json")
    machine = console.get("/no-such-page")
    assert machine.headers["content-type"].startswith("application/problem+json")


def _app_with_test_pages(app: FastAPI) -> FastAPI:
    router = APIRouter()

    @router.get("/test-shell/forbidden")
    def forbidden(principal: ConsolePrincipal) -> HTMLResponse:
        raise Forbidden("only the finance team may see payouts", field="role")

    @router.post("/test-shell/save")
    def save(request: Request, principal: ConsolePrincipal) -> Response:
        response = redirect_to("/test-shell/page")
        flash(request, response, "shell.save")
        return response

    @router.get("/test-shell/page")
    def page(request: Request, principal: ConsolePrincipal) -> HTMLResponse:
        return render(request, "error.html", {"status": 200, "code": "ok", "detail": ""})

    app.include_router(router)
    return app


def test_forbidden_is_an_html_page_inside_the_shell(app: FastAPI, console: TestClient) -> None:
    _app_with_test_pages(app)
    resp = console.get("/test-shell/forbidden", headers=HTML)
    assert resp.status_code == 403
    assert "无权访问" in resp.text
    assert "only the finance team may see payouts" in resp.text
    assert 'id="nav-network"' in resp.text  # the caller is known, so the navigation is there
    api = console.get("/test-shell/forbidden", headers={"Accept": "application/json"})
    assert api.status_code == 403
    assert api.json()["code"] == "forbidden"


def test_htmx_errors_are_not_swapped_into_the_page(app: FastAPI, console: TestClient) -> None:
    _app_with_test_pages(app)
    resp = console.get("/test-shell/forbidden", headers={"HX-Request": "true"})
    assert resp.status_code == 403
    assert resp.headers["HX-Reswap"] == "none"
    assert resp.headers["X-Bcone-Error"] == "forbidden"
    bad = console.get("/?days=many", headers={"HX-Request": "true"})
    assert bad.status_code == 422
    assert bad.headers["X-Bcone-Error"] == "validation_failed"
    page = console.get("/test-shell/forbidden", headers=HTML)
    assert "HX-Reswap" not in page.headers


def test_invalid_query_on_a_page_is_an_html_422(console: TestClient) -> None:
    resp = console.get("/?days=many", headers=HTML)
    assert resp.status_code == 422
    assert "请求无效" in resp.text


def test_a_post_without_csrf_token_is_refused(app: FastAPI, console: TestClient) -> None:
    _app_with_test_pages(app)
    del console.headers["X-CSRF-Token"]
    resp = console.post("/test-shell/save", headers=HTML, follow_redirects=False)
    assert resp.status_code == 403
    assert "csrf_failed" in resp.text


# --- flash messages -----------------------------------------------------------------------------


def test_flash_survives_one_redirect_and_is_shown_once(app: FastAPI, console: TestClient) -> None:
    _app_with_test_pages(app)
    resp = console.post("/test-shell/save", headers=HTML, follow_redirects=False)
    assert resp.status_code == 303
    assert FLASH_COOKIE in resp.headers["set-cookie"]
    page = console.get("/test-shell/page", headers=HTML)
    assert re.search(r'<div class="flash flash-success" role="status">\s*<span>保存</span>', page.text)
    again = console.get("/test-shell/page", headers=HTML)
    assert "flash-success" not in again.text


def test_a_forged_flash_cookie_is_ignored(app: FastAPI, console: TestClient) -> None:
    _app_with_test_pages(app)
    console.cookies.set(FLASH_COOKIE, "eyJrZXkiOiJQaG9uZSB1cyJ9.forged.sig")
    page = console.get("/test-shell/page", headers=HTML)
    assert page.status_code == 200
    assert 'class="flash ' not in page.text


# --- the language switch ------------------------------------------------------------------------


def test_language_switch_sets_a_year_long_cookie_and_goes_back(console: TestClient) -> None:
    resp = console.get("/lang/en", params={"next": "/?days=7"}, follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/?days=7"
    cookie = resp.headers["set-cookie"]
    assert cookie.startswith(f"{LOCALE_COOKIE}=en;")
    assert "Max-Age=31536000" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    assert "Path=/" in cookie


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_language_switch_never_leaves_the_site(client: TestClient, target: str) -> None:
    resp = client.get("/lang/zh-CN", params={"next": target}, follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/"


def test_unknown_language_is_404(client: TestClient) -> None:
    resp = client.get("/lang/fr", follow_redirects=False)
    assert resp.status_code == 404
    assert LOCALE_COOKIE not in resp.headers.get("set-cookie", "")


def test_language_switch_is_case_insensitive(client: TestClient) -> None:
    resp = client.get("/lang/ZH-cn", follow_redirects=False)
    assert resp.headers["set-cookie"].startswith(f"{LOCALE_COOKIE}=zh-CN;")


def test_the_shell_speaks_chinese_then_english_after_the_switch(console: TestClient) -> None:
    zh = console.get("/", headers=HTML).text
    assert '<html lang="zh-CN">' in zh
    assert "<span>渠道网络</span>" in zh
    assert "<span>门店员工</span>" in zh
    assert "退出登录" in zh
    assert re.search(r'href="/lang/en\?next=/"', zh)
    console.get("/lang/en", params={"next": "/"})
    en = console.get("/", headers=HTML).text
    assert '<html lang="en">' in en
    for label in ("Overview", "Channel network", "Store staff", "Products", "Settings"):
        assert f"<span>{label}</span>" in en
    assert "渠道网络" not in en
    assert "Log out" in en
    console.get("/lang/zh-CN", params={"next": "/"})
    assert "<span>渠道网络</span>" in console.get("/", headers=HTML).text


def test_browser_language_is_used_until_the_switch_is_used(console: TestClient) -> None:
    en = console.get("/", headers={**HTML, "Accept-Language": "en-GB,en;q=0.9,zh-CN;q=0.5"}).text
    assert '<html lang="en">' in en
    console.get("/lang/zh-CN")
    zh = console.get("/", headers={**HTML, "Accept-Language": "en-GB,en;q=0.9"}).text
    assert '<html lang="zh-CN">' in zh


def test_anonymous_pages_have_the_plain_layout_with_the_language_switch(client: TestClient) -> None:
    page = client.get("/no-such-page", headers=HTML)
    assert 'class="plain"' in page.text
    assert 'id="lang-en"' in page.text
    assert 'id="nav-network"' not in page.text
    assert "/logout" not in page.text
