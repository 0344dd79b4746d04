"""``Warehouse.erase_profiles`` on DuckDB and on ClickHouse (chDB): the erased profiles' events
leave every query, anonymous copies keep the totals, other profiles and tenants are untouched,
and erasing again finds nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bcone.core.events import Event, Identity
from bcone.core.warehouse import warehouse_from_url

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _events() -> list[Event]:
    out = []
    for i in range(30):
        out.append(
            Event(
                event_id=f"e{i:03d}",
                tenant_id="t1" if i < 25 else "t2",
                ts=T0 + timedelta(hours=i),
                type="order.paid",
                profile_id=f"p{i % 3}",
                identities=[Identity(namespace="phone", value=f"hash-of-p{i % 3}")],
                org_id="store-1",
                sku="SKU-1",
                region="330106",
                amount=100 * (i + 1),
                properties={"order_id": f"T{i}"},
            )
        )
    return out


@pytest.mark.parametrize("engine", ["duckdb", "chdb"])
def test_erasing_profiles_keeps_anonymous_totals(engine: str, tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'w.duckdb'}" if engine == "duckdb" else f"chdb:///{tmp_path / 'ch'}"
    wh = warehouse_from_url(url)
    try:
        wh.ensure_schema()
        wh.insert_events(_events())
        total = "SELECT count(*) AS n, sum(amount) AS a FROM tenant_events"
        before = {t: wh.query(total, tenant_id=t).rows[0] for t in ("t1", "t2")}
        p1_t2 = wh.query(
            "SELECT count(*) AS n FROM tenant_events WHERE profile_id = 'p1'", tenant_id="t2"
        ).rows
        assert wh.erase_profiles("t1", ["p0", "p1"]) == 17
        assert {t: wh.query(total, tenant_id=t).rows[0] for t in ("t1", "t2")} == before
        left = wh.query(
            "SELECT profile_id, count(*) AS n FROM tenant_events GROUP BY profile_id ORDER BY profile_id",
            tenant_id="t1",
        ).rows
        assert left == [("p2", 8), (None, 17)]
        copies = wh.query(
            "SELECT identities, properties, event_id FROM tenant_events WHERE profile_id IS NULL",
            tenant_id="t1",
        ).rows
        assert {(i, p) for i, p, _ in copies} == {("[]", "{}")}
        assert all(e.startswith("erased:") for _, _, e in copies)
        found = wh.query(
            "SELECT count(*) AS n FROM tenant_events WHERE identities LIKE '%hash-of-p0%' OR identities LIKE '%hash-of-p1%'",
            tenant_id="t1",
        ).rows[0][0]
        assert found == 0
        # The other tenant's p1 is another person: untouched.
        assert (
            wh.query("SELECT count(*) AS n FROM tenant_events WHERE profile_id = 'p1'", tenant_id="t2").rows
            == p1_t2
        )
        assert wh.erase_profiles("t1", ["p0", "p1"]) == 0
        assert wh.erase_profiles("t1", []) == 0
        assert wh.query(total, tenant_id="t1").rows[0] == before["t1"]
    finally:
        wh.close()
