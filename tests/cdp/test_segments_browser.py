"""The segment editor in a real browser (Debian's Chromium through Playwright): typing a rule
updates the live count, a bad rule names its JSON path, an example fills the editor, saving shows
the members; the profile page shows traits, tags and consent. Chinese and English."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bcone.app import create_app
from bcone.cdp import service as cdp
from bcone.core.db import Database
from bcone.core.events import flush_outbox
from bcone.core.settings import Settings
from bcone.core.warehouse import open_warehouse
from bcone.iam import service as iam
from bcone.models import metadata
from tests.browser_support import RESULTS, chromium, live_server, require_chromium
from tests.cdp.helpers import SECRET

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PASSWORD = "browser test password"
require_chromium()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("cdp-browser")
    settings = Settings(
        environment="test",
        data_dir=data,
        database_url=f"sqlite:///{data}/bcone.db",
        warehouse_url=f"duckdb:///{data}/warehouse.duckdb",
        secret_key=SECRET,
    )
    db = Database(settings.effective_database_url)
    metadata.create_all(db.engine)
    with db.session() as s:
        tenant = iam.create_tenant(session=s, slug="acme", name="Acme Foods")
    with db.session(tenant_id=tenant.id) as s:
        iam.create_user(
            session=s, email="owner@acme.example", display_name="王芳", password=PASSWORD, role="owner"
        )
    now = datetime.now(UTC)
    events = [
        {
            "event_id": f"o{i}-{k}",
            "type": "order.paid",
            "ts": (now - timedelta(days=7 * k + i % 5)).isoformat(),
            "amount": 1990 + 100 * i,
            "region": ("330106", "310101", "110105")[i % 3],
            "identities": [{"namespace": "phone", "value": f"138{i:08d}"}],
            "properties": {"order_id": f"T{i}-{k}", "channel": ("tmall", "jd", "store")[i % 3]},
        }
        for i in range(60)
        for k in range(1 + i % 4)
    ]
    with db.session(tenant_id=tenant.id) as s:
        cdp.ingest_events(events, session=s, secret_key=SECRET)
    with open_warehouse(settings) as wh:
        wh.ensure_schema()
        flush_outbox(db, wh)
        with db.session(tenant_id=tenant.id) as s:
            cdp.refresh_traits(session=s, warehouse=wh)
    try:
        with live_server(create_app(settings, db=db), lifespan="on") as url:
            yield url
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as browser:
        yield browser


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_the_segment_editor_counts_while_typing(base_url: str, browser: object, locale: str) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale=locale)  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{base_url}/login?next=/cdp/segments")
        page.fill("input[name=email]", "owner@acme.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base_url}/cdp/segments")
        page.fill("#rule", '{"all": [{"event": "order.paid", "min_count": 3, "days": 90}, {"region": "33"}]}')
        page.wait_for_selector("#live-count-value strong")
        text = page.inner_text("#live-count")
        assert ("10" in text) if locale == "en" else ("10 人" in text), text
        page.fill("#rule", '{"any": [{"tag": "VIP"}, {"event": "order.paid", "days": 0}]}')
        page.wait_for_selector("#live-count-error")
        assert "rule.any[1].days" in page.inner_text("#live-count-error")
        page.locator("button.example").first.click()
        page.wait_for_selector("#live-count-value strong")
        RESULTS.mkdir(exist_ok=True)
        page.screenshot(path=str(RESULTS / f"cdp-segments-editor-{locale}.png"), full_page=True)
        page.fill("#name", f"复购 {locale}")
        page.click("#segment-form button[type=submit]")
        page.wait_for_url("**/cdp/segments/*")
        assert page.locator("#member-list li").count() > 0
        page.screenshot(path=str(RESULTS / f"cdp-segment-detail-{locale}.png"), full_page=True)
        page.locator("#member-list a").first.click()
        page.wait_for_url("**/cdp/profiles/*")
        assert page.locator("#trait-orders").is_visible()
        page.fill("#tag-name", "VIP")
        page.click("#tag-form button[type=submit]")
        page.wait_for_selector("#tag-list")
        page.screenshot(path=str(RESULTS / f"cdp-profile-traits-{locale}.png"), full_page=True)
    finally:
        context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"
