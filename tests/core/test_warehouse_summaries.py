"""Summary tables through the warehouse port: ``refresh_summary`` builds one tenant's rows of
``summary_<name>`` from a read statement, and reads name them ``tenant_summary_<name>``. Every
test runs on DuckDB and on ClickHouse (chDB)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bcone.core.events import Event
from bcone.core.warehouse import ReadOnlyQueryRequired, Warehouse, WarehouseQueryFailed, warehouse_from_url
from bcone.core.warehouse.sql import referenced_summaries, scope_to_tenant

T0 = datetime(2026, 3, 1, 2, tzinfo=UTC)
# The warehouses below are module-scoped (one chDB session per engine, not one per test); every
# test states the events it relies on, so the order the tests run in does not matter.
pytestmark = pytest.mark.xdist_group("warehouse_summaries")

PER_PROFILE = """
SELECT profile_id, count(*) AS orders, coalesce(sum(amount), 0) AS spent, max(ts) AS last_at
FROM tenant_events WHERE type = $kind AND profile_id IS NOT NULL GROUP BY profile_id
"""


def event(n: int, tenant: str, profile: str, amount: int, kind: str = "order.paid") -> Event:
    return Event(
        event_id=f"{tenant}-{n:04d}",
        tenant_id=tenant,
        ts=T0 + timedelta(hours=n),
        type=kind,
        profile_id=profile,
        amount=amount,
    )  # type: ignore[call-arg]


@pytest.fixture(scope="module", params=["duckdb", "chdb"])
def wh(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    path = tmp_path_factory.mktemp(f"wh-summaries-{request.param}")
    url = f"duckdb:///{path / 'w.duckdb'}" if request.param == "duckdb" else f"chdb:///{path / 'ch'}"
    warehouse = warehouse_from_url(url)
    warehouse.ensure_schema()
    warehouse.insert_events(
        [
            event(1, "ta", "p1", 100),
            event(2, "ta", "p1", 250),
            event(3, "ta", "p2", 40),
            event(4, "ta", "p2", 0, kind="code.scanned"),
            event(5, "tb", "p1", 999),
        ]
    )
    yield warehouse
    warehouse.close()


def rows(wh: Warehouse, name: str, tenant: str) -> list[tuple[object, ...]]:
    return wh.query(
        f"SELECT profile_id, orders, spent FROM tenant_summary_{name} ORDER BY profile_id", tenant_id=tenant
    ).rows


def test_refresh_builds_replaces_and_keeps_tenants_apart(wh: Warehouse) -> None:
    params = {"kind": "order.paid"}
    assert (
        wh.refresh_summary("per_profile", PER_PROFILE, params, tenant_id="ta", order_by=["profile_id"]) == 2
    )
    assert (
        wh.refresh_summary("per_profile", PER_PROFILE, params, tenant_id="tb", order_by=["profile_id"]) == 1
    )
    assert rows(wh, "per_profile", "ta") == [("p1", 2, 350), ("p2", 1, 40)]
    assert rows(wh, "per_profile", "tb") == [("p1", 1, 999)]
    # The table adds tenant_id first; every tenant's rows live in it.
    everything = wh.query(
        "SELECT tenant_id, profile_id FROM summary_per_profile ORDER BY tenant_id, profile_id"
    )
    assert everything.columns == ["tenant_id", "profile_id"]
    assert everything.rows == [("ta", "p1"), ("ta", "p2"), ("tb", "p1")]

    # A new event, and a refresh: the tenant's rows are replaced, not added to; tb is untouched.
    assert wh.insert_events([event(6, "ta", "p3", 7)]) == 1
    assert (
        wh.refresh_summary("per_profile", PER_PROFILE, params, tenant_id="ta", order_by=["profile_id"]) == 3
    )
    assert rows(wh, "per_profile", "ta") == [("p1", 2, 350), ("p2", 1, 40), ("p3", 1, 7)]
    assert rows(wh, "per_profile", "tb") == [("p1", 1, 999)]

    # Other parameters, other rows; a statement with no rows empties the tenant's part.
    assert wh.refresh_summary("per_profile", PER_PROFILE, {"kind": "code.scanned"}, tenant_id="ta") == 1
    assert rows(wh, "per_profile", "ta") == [("p2", 1, 0)]
    assert wh.refresh_summary("per_profile", PER_PROFILE, {"kind": "nothing.here"}, tenant_id="ta") == 0
    assert rows(wh, "per_profile", "ta") == []
    assert rows(wh, "per_profile", "tb") == [("p1", 1, 999)]


def test_a_summary_can_read_another_summary(wh: Warehouse) -> None:
    # The same events whichever test ran first: p3's order (event 6) is stored once either way.
    wh.insert_events([event(6, "ta", "p3", 7)])
    wh.refresh_summary("per_profile", PER_PROFILE, {"kind": "order.paid"}, tenant_id="ta")
    total = "SELECT count(*) AS buyers, sum(spent) AS revenue FROM tenant_summary_per_profile"
    assert wh.refresh_summary("totals", total, tenant_id="ta") == 1
    assert wh.query("SELECT buyers, revenue FROM tenant_summary_totals", tenant_id="ta").rows == [(3, 397)]
    assert wh.query("SELECT count(*) AS n FROM tenant_summary_totals", tenant_id="tb").rows == [(0,)]


@pytest.mark.parametrize("name", ["", "Daily", "1daily", "daily-v1", "daily;drop", "x" * 49, "summary name"])
def test_bad_summary_names_are_refused(wh: Warehouse, name: str) -> None:
    with pytest.raises(WarehouseQueryFailed) as caught:
        wh.refresh_summary(name, PER_PROFILE, {"kind": "order.paid"}, tenant_id="ta")
    assert caught.value.field == "name"


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM events",
        "INSERT INTO events SELECT * FROM events",
        "WITH x AS (SELECT 1 AS a) INSERT INTO events SELECT * FROM x",
        "DROP TABLE events",
        "SELECT 1 AS a; DROP TABLE events",
    ],
)
def test_write_statements_are_refused(wh: Warehouse, sql: str) -> None:
    with pytest.raises(ReadOnlyQueryRequired):
        wh.refresh_summary("bad", sql, tenant_id="ta")
    assert wh.query("SELECT count(*) AS n FROM events").rows[0][0] >= 5


def test_bad_columns_and_sort_keys_are_refused(wh: Warehouse) -> None:
    with pytest.raises(WarehouseQueryFailed) as caught:
        wh.refresh_summary(
            "own_tenant",
            "SELECT tenant_id, count(*) AS n FROM tenant_events GROUP BY tenant_id",
            tenant_id="ta",
        )
    assert caught.value.field == "select_sql"
    with pytest.raises(WarehouseQueryFailed) as caught:
        wh.refresh_summary("sorted", PER_PROFILE, {"kind": "order.paid"}, tenant_id="ta", order_by=["nope"])
    assert caught.value.field == "order_by"
    with pytest.raises(WarehouseQueryFailed) as caught:
        wh.refresh_summary(
            "sorted", PER_PROFILE, {"kind": "order.paid"}, tenant_id="ta", order_by=["a; DROP"]
        )
    assert caught.value.field == "order_by"
    with pytest.raises(WarehouseQueryFailed) as caught:
        wh.refresh_summary("broken", "SELECT no_such_column FROM tenant_events", tenant_id="ta")
    assert caught.value.field == "select_sql"
    with pytest.raises(WarehouseQueryFailed) as caught:
        wh.refresh_summary("params", PER_PROFILE, tenant_id="ta")  # $kind missing
    assert caught.value.field == "params"


def test_scope_binds_only_the_summaries_a_statement_names() -> None:
    sql = "SELECT * FROM tenant_summary_daily_v1 JOIN tenant_summary_firsts USING (profile_id) -- tenant_summary_x"
    assert referenced_summaries(sql) == ["daily_v1", "firsts"]
    assert referenced_summaries("SELECT 'tenant_summary_quoted' AS a FROM tenant_events") == []
    scoped, params = scope_to_tenant(sql, None, "ta")
    assert "summary_daily_v1 WHERE tenant_id = $tenant_id" in scoped
    assert "summary_firsts WHERE tenant_id = $tenant_id" in scoped
    assert "summary_x " not in scoped
    assert params == {"tenant_id": "ta"}
