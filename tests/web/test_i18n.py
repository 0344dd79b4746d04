"""Interface language: registration, look-up with fallback, the browser's preference."""

from __future__ import annotations

import pytest
from starlette.requests import Request

import bcone.app  # noqa: F401  (imports every domain, so every message is registered)
from bcone.web import i18n
from bcone.web.i18n import (
    LOCALES,
    locale_from_accept_language,
    normalise_locale,
    register_messages,
    registered_keys,
    request_locale,
    translate,
)


def test_every_key_has_text_in_both_languages() -> None:
    zh = registered_keys("zh-CN")
    en = registered_keys("en")
    assert zh, "no messages registered"
    assert sorted(zh - en) == [], "registered in Chinese only"
    assert sorted(en - zh) == [], "registered in English only"
    for key in zh:
        assert translate(key, "zh-CN").strip(), key
        assert translate(key, "en").strip(), key


def test_shell_navigation_is_registered() -> None:
    assert translate("nav.network", "zh-CN") == "渠道网络"
    assert translate("nav.network", "en") == "Channel network"
    assert translate("nav.staff", "zh-CN") == "门店员工"


def test_registering_the_same_key_with_other_text_fails() -> None:
    register_messages({"test.i18n.same": ("同样", "Same")})
    register_messages({"test.i18n.same": ("同样", "Same")})  # identical: fine
    with pytest.raises(ValueError, match="different en text"):
        register_messages({"test.i18n.same": ("同样", "Other")})
    with pytest.raises(ValueError, match="different zh-CN text"):
        register_messages({"test.i18n.same": ("别的", "Same")})
    assert translate("test.i18n.same", "en") == "Same"  # the failed calls changed nothing


def test_empty_text_is_refused() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        register_messages({"test.i18n.empty": ("", "Empty")})
    assert not i18n.has_message("test.i18n.empty")


def test_unknown_key_falls_back_to_the_key_and_unknown_locale_to_chinese_default() -> None:
    assert translate("test.i18n.never-registered", "zh-CN") == "test.i18n.never-registered"
    assert translate("nav.catalog", "fr") == "商品"
    assert translate("nav.catalog", "en-US") == "Products"


def test_missing_placeholder_leaves_the_text_readable() -> None:
    assert translate("shell.page_of", "en", page=2, pages=5) == "Page 2 of 5"
    assert translate("shell.page_of", "en", page=2) == "Page {page} of {pages}"


@pytest.mark.parametrize(
    ("tag", "locale"),
    [
        ("zh-CN", "zh-CN"),
        ("zh", "zh-CN"),
        ("zh-Hans-CN", "zh-CN"),
        ("zh_cn", "zh-CN"),
        ("en", "en"),
        ("EN-gb", "en"),
        ("fr", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_locale(tag: str | None, locale: str | None) -> None:
    assert normalise_locale(tag) == locale


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("fr-FR,fr;q=0.9,en;q=0.8,zh;q=0.7", "en"),
        ("zh;q=0.5,en;q=0.9", "en"),  # quality, not position, decides
        ("en;q=0,zh", "zh-CN"),  # q=0 means "not this one"
        ("de,fr", None),
        ("", None),
        ("en;q=abc", None),
    ],
)
def test_accept_language_is_read_by_quality(header: str, locale: str | None) -> None:
    assert locale_from_accept_language(header) == locale


def _request(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw, "query_string": b""})


def test_request_locale_prefers_the_cookie_then_the_browser_then_the_default() -> None:
    assert request_locale(_request({"Cookie": "bcone_locale=en", "Accept-Language": "zh-CN"})) == "en"
    assert request_locale(_request({"Cookie": "bcone_locale=xx", "Accept-Language": "en"})) == "en"
    assert request_locale(_request({"Accept-Language": "de"})) == "zh-CN"
    assert request_locale(_request({}), default="en") == "en"
    assert set(LOCALES) == {"zh-CN", "en"}
