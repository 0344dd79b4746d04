"""The shared macros and the layout, rendered outside any domain."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from starlette.requests import Request

from bcone.core.auth import Principal, Role
from bcone.core.pagination import Page
from bcone.core.settings import Settings
from bcone.web import templating
from bcone.web.templating import env, render, url_with


def _request(path: str = "/network", query: str = "", cookies: str = "") -> Request:
    app = SimpleNamespace(state=SimpleNamespace(settings=Settings(environment="test")))
    headers = [(b"cookie", cookies.encode())] if cookies else []
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": path,
            "query_string": query.encode(),
            "headers": headers,
            "app": app,
        }
    )


@pytest.fixture(params=["zh-CN", "en"])
def locale(request: pytest.FixtureRequest) -> Iterator[str]:
    token = templating._locale.set(request.param)
    yield request.param
    templating._locale.reset(token)


def _macro(call: str, **ctx: object) -> str:
    return env.from_string('{% import "macros.html" as ui %}' + call).render(**ctx)


def test_url_with_keeps_other_parameters_and_replaces_the_page() -> None:
    req = _request(query="q=%E4%B8%8A%E6%B5%B7&page=3&kind=store")
    assert url_with(req, page=4) == "/network?q=%E4%B8%8A%E6%B5%B7&kind=store&page=4"
    assert url_with(req, page=None, q=None) == "/network?kind=store"


def test_pagination_links_a_window_around_the_current_page(locale: str) -> None:
    page = Page[int](items=[], total=1234, page=6, page_size=50)  # 25 pages
    html = _macro("{{ ui.pagination(page, request) }}", page=page, request=_request(query="q=tea&page=6"))
    numbers = re.findall(r'<a href="/network\?q=tea&amp;page=(\d+)"[^>]*>([^<]+)</a>', html)
    assert [n for n, _label in numbers] == ["5", "1", "4", "5", "6", "7", "8", "25", "7"]
    assert 'aria-current="page" class="current">6</a>' in html
    assert 'rel="prev"' in html
    assert 'rel="next"' in html
    if locale == "zh-CN":
        assert "共 1,234 条 · 第 6 / 25 页" in html
        assert "上一页" in html
    else:
        assert "1,234 in total · Page 6 of 25" in html
        assert "Previous" in html


def test_pagination_of_one_page_shows_only_the_summary(locale: str) -> None:
    html = _macro(
        "{{ ui.pagination(page, request) }}",
        page=Page[int](items=[1], total=1, page=1, page_size=50),
        request=_request(),
    )
    assert "<ul>" not in html
    assert "1" in html


def test_pagination_can_swap_a_fragment_with_htmx(locale: str) -> None:
    page = Page[int](items=[], total=120, page=1, page_size=50)
    html = _macro("{{ ui.pagination(page, request, hx_target='#rows') }}", page=page, request=_request())
    assert 'hx-get="/network?page=2" hx-target="#rows" hx-push-url="true"' in html
    assert 'aria-disabled="true"' in html  # no previous page


def test_field_shows_its_error_inline_and_links_it_for_screen_readers(locale: str) -> None:
    html = _macro(
        '{{ ui.field("code", "编码", value="D-<1>", errors={"code": "编码已存在"}, required=True, '
        'hint="唯一") }}'
    )
    assert '<label for="f-code">编码' in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="f-code-hint f-code-error"' in html
    assert '<p class="field-error" id="f-code-error">' in html
    assert "编码已存在" in html
    assert 'value="D-&lt;1&gt;"' in html  # escaped
    assert " required" in html


def test_field_without_error_is_plain_and_select_marks_the_chosen_option(locale: str) -> None:
    html = _macro('{{ ui.field("name", "Name") }}')
    assert "aria-invalid" not in html
    assert "field-error" not in html
    select = _macro(
        '{{ ui.field("kind", "Kind", type="select", value="store", '
        'options=[("distributor", "D"), ("store", "S")]) }}'
    )
    assert '<option value="store" selected>S</option>' in select
    assert '<option value="distributor">D</option>' in select


def test_empty_state_and_badge(locale: str) -> None:
    html = _macro(
        '{{ ui.empty_state("No stores", "Add one", "/network/new", "New store") }}'
        '{{ ui.badge("OK", "success") }}'
    )
    assert '<p class="empty-title">No stores</p>' in html
    assert '<a class="button" href="/network/new">New store</a>' in html
    assert '<span class="badge badge-success">OK</span>' in html


@dataclass(frozen=True)
class _PrincipalWithTenant(Principal):
    tenant_name: str = ""


def test_layout_shows_tenant_name_user_role_and_english_navigation() -> None:
    req = _request(path="/network/staff", cookies="bcone_locale=en")
    req.state.principal = _PrincipalWithTenant(
        via="session",
        tenant_id="t1",
        user_id="u1",
        role=Role.sales_manager,
        csrf_token="tok-123",
        display_name="Li Lei",
        tenant_name="Acme Foods",
    )
    html = render(req, "error.html", {"status": 404, "code": "not_found", "detail": ""}).body.decode()
    assert '<html lang="en">' in html
    assert '<span class="tenant-name" title="Acme Foods">Acme Foods</span>' in html
    assert "Li Lei" in html
    assert "Sales manager" in html
    assert re.search(r'<a href="/network/staff" id="nav-staff" aria-current="page"', html)
    assert 'href="/settings/users"' not in html  # a sales manager is not an administrator
    assert '<input type="hidden" name="csrf_token" value="tok-123">' in html
    assert """hx-headers='{"X-CSRF-Token": "tok-123"}'""" in html
    assert "Page not found" in html
