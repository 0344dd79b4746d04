"""The warehouse port: one suite, run on DuckDB and on ClickHouse (embedded through chDB).

ClickHouse runs twice: through the chDB transport and through the clickhouse-connect transport
(clickhouse-connect's embedded chDB interface), so the adapter used for real servers is exercised
too. Both ClickHouse runs execute the same SQL, the one a server would get.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from bcone.core.cli import events_app, warehouse_app
from bcone.core.events import Event, Identity
from bcone.core.settings import get_settings
from bcone.core.warehouse import (
    QueryResult,
    ReadOnlyQueryRequired,
    UnsupportedWarehouseUrl,
    Warehouse,
    WarehouseBusy,
    WarehouseQueryFailed,
    clickhouse_client_options,
    events_to_arrow,
    open_warehouse_url,
    warehouse_from_url,
)
from bcone.core.warehouse.clickhouse_engine import ClickHouseConnectTransport, ClickHouseWarehouse
from bcone.core.warehouse.duckdb_engine import DuckDBWarehouse

ENGINES = ["duckdb", "chdb", "clickhouse-connect"]
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def make_warehouse(engine: str, tmp_path: Path) -> Warehouse:
    if engine == "duckdb":
        return warehouse_from_url(f"duckdb:///{tmp_path / 'warehouse.duckdb'}")
    if engine == "chdb":
        return warehouse_from_url(f"chdb:///{tmp_path / 'chdb'}")
    import clickhouse_connect

    client = clickhouse_connect.get_client(dsn=f"chdb://{tmp_path / 'chdb-http'}")
    return ClickHouseWarehouse(ClickHouseConnectTransport(client))


@pytest.fixture(params=ENGINES)
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    wh = make_warehouse(request.param, tmp_path)
    try:
        wh.ensure_schema()
        yield wh
    finally:
        wh.close()


def event(i: int, *, tenant: str = "brand-a", **overrides: Any) -> Event:
    fields: dict[str, Any] = {
        "event_id": f"ev-{i:05d}",
        "tenant_id": tenant,
        "ts": T0 + timedelta(minutes=7 * i, microseconds=i),
        "type": ("code.scanned", "order.paid", "page.viewed")[i % 3],
        "profile_id": f"p{i % 4}",
        "identities": [Identity(namespace="wechat_openid:wx01", value=f"o{i % 4}")],
        "org_id": f"store-{i % 5}",
        "sku": f"sku-{i % 2}",
        "region": ("310101", "440305")[i % 2],
        "amount": 1000 + i if i % 3 == 1 else None,
        "properties": {"n": i, "名称": "扫码"},
    }
    fields.update(overrides)
    return Event(**fields)


def count(wh: Warehouse, tenant: str | None = None) -> int:
    if tenant is None:
        return int(wh.query("SELECT count(*) AS n FROM events").rows[0][0])
    return int(wh.query("SELECT count(*) AS n FROM tenant_events", tenant_id=tenant).rows[0][0])


def test_schema_is_idempotent_and_has_the_event_columns(warehouse: Warehouse) -> None:
    warehouse.ensure_schema()
    described = warehouse.query("DESCRIBE events")
    names = [row[0] for row in described.rows]
    assert names == [
        "event_id",
        "tenant_id",
        "ts",
        "type",
        "profile_id",
        "identities",
        "org_id",
        "sku",
        "region",
        "amount",
        "properties",
    ]
    assert count(warehouse) == 0


def test_insert_round_trips_every_column(warehouse: Warehouse) -> None:
    e = event(1)
    assert warehouse.insert_events([e]) == 1
    row = warehouse.query("SELECT * FROM events").as_dicts()[0]
    assert row["event_id"] == "ev-00001"
    assert row["ts"] == e.ts
    assert row["ts"].utcoffset() == timedelta(0)
    assert row["amount"] == 1001
    assert isinstance(row["amount"], int)
    assert row["identities"] == '[{"namespace":"wechat_openid:wx01","value":"o1"}]'
    assert row["properties"] == '{"n":1,"名称":"扫码"}'
    assert (row["region"], row["sku"], row["org_id"], row["profile_id"]) == (
        "440305",
        "sku-1",
        "store-1",
        "p1",
    )


def test_insert_accepts_an_arrow_batch_and_optional_columns_may_be_null(warehouse: Warehouse) -> None:
    bare = Event(event_id="bare", tenant_id="brand-a", ts=T0, type="page.viewed")
    assert warehouse.insert_events(events_to_arrow([bare])) == 1
    assert warehouse.query("SELECT profile_id, amount, region, identities, properties FROM events").rows == [
        (None, None, None, "[]", "{}")
    ]


def test_reinserting_a_batch_adds_nothing(warehouse: Warehouse) -> None:
    batch = [event(i) for i in range(30)]
    assert warehouse.insert_events(batch) == 30
    assert warehouse.insert_events(batch) == 0
    assert count(warehouse) == 30


def test_partly_stored_batch_adds_only_the_new_events(warehouse: Warehouse) -> None:
    warehouse.insert_events([event(i) for i in range(10)])
    assert warehouse.insert_events([event(i) for i in range(5, 20)]) == 10
    ids = [r[0] for r in warehouse.query("SELECT event_id FROM events ORDER BY event_id").rows]
    assert ids == [f"ev-{i:05d}" for i in range(20)]


def test_a_retry_with_a_later_time_is_still_the_same_event(warehouse: Warehouse) -> None:
    warehouse.insert_events([event(1)])
    retried = event(1, ts=T0 + timedelta(days=40), amount=5)
    assert warehouse.insert_events([retried, event(2)]) == 1
    rows = warehouse.query("SELECT event_id, amount FROM events ORDER BY event_id").rows
    assert rows == [("ev-00001", 1001), ("ev-00002", None)]


def test_duplicates_inside_one_batch_are_stored_once(warehouse: Warehouse) -> None:
    assert warehouse.insert_events([event(1), event(2), event(1, amount=7)]) == 2
    assert warehouse.query("SELECT amount FROM events WHERE event_id = $id", {"id": "ev-00001"}).rows == [
        (1001,)
    ]


def test_event_ids_are_unique_per_tenant_not_across_tenants(warehouse: Warehouse) -> None:
    assert warehouse.insert_events([event(1, tenant="brand-a"), event(1, tenant="brand-b")]) == 2
    assert warehouse.insert_events([event(1, tenant="brand-b"), event(1, tenant="brand-c")]) == 1
    assert (count(warehouse, "brand-a"), count(warehouse, "brand-b"), count(warehouse, "brand-c")) == (
        1,
        1,
        1,
    )


def test_queries_take_typed_parameters(warehouse: Warehouse) -> None:
    warehouse.insert_events([event(i) for i in range(12)])
    result = warehouse.query(
        "SELECT event_id FROM events WHERE type = $type AND ts >= $since AND amount > $min "
        "AND properties <> '$not_a_param' ORDER BY event_id",
        {"type": "order.paid", "since": T0 + timedelta(minutes=20), "min": 1004, "unused": 1},
    )
    assert result == QueryResult(columns=["event_id"], rows=[("ev-00007",), ("ev-00010",)])
    listed = warehouse.query(
        "SELECT count(*) AS n FROM events WHERE event_id IN $ids", {"ids": ["ev-00001", "ev-00002", "nope"]}
    )
    assert listed.rows == [(2,)]


def test_a_missing_parameter_or_bad_sql_is_a_client_error(warehouse: Warehouse) -> None:
    with pytest.raises(WarehouseQueryFailed):
        warehouse.query("SELECT count(*) AS n FROM events WHERE type = $type")
    with pytest.raises(WarehouseQueryFailed):
        warehouse.query("SELECT no_such_column FROM events")


def test_tenant_events_holds_only_the_given_tenant(warehouse: Warehouse) -> None:
    warehouse.insert_events([event(i, tenant="brand-a") for i in range(6)])
    warehouse.insert_events([event(i, tenant="brand-b") for i in range(4)])
    sql = "SELECT tenant_id, count(*) AS n FROM tenant_events GROUP BY tenant_id"
    assert warehouse.query(sql, tenant_id="brand-a").rows == [("brand-a", 6)]
    assert warehouse.query(sql, tenant_id="brand-b").rows == [("brand-b", 4)]
    assert warehouse.query(sql, tenant_id="brand-z").rows == []
    with_cte = (
        "WITH paid AS (SELECT * FROM tenant_events WHERE type = $type) "
        "SELECT count(*) AS n, max(tenant_id) AS t FROM paid"
    )
    assert warehouse.query(with_cte, {"type": "order.paid"}, tenant_id="brand-b").rows == [(1, "brand-b")]
    with pytest.raises(WarehouseQueryFailed):
        warehouse.query(sql, {"tenant_id": "brand-b"}, tenant_id="brand-a")
    with pytest.raises(WarehouseQueryFailed):
        warehouse.query(sql)  # tenant_events exists only for a tenant


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO events SELECT * FROM events",
        "DROP TABLE events",
        "SELECT 1 AS one; DROP TABLE events",
        "WITH x AS (SELECT 1 AS one) DELETE FROM events",
        "  -- looks harmless\n  ALTER TABLE events ADD COLUMN x INT",
        "SELECT * FROM events INTO OUTFILE 'x.csv'",
        "",
    ],
)
def test_only_read_statements_are_run(warehouse: Warehouse, sql: str) -> None:
    warehouse.insert_events([event(1)])
    with pytest.raises(ReadOnlyQueryRequired):
        warehouse.query(sql)
    assert count(warehouse) == 1


def test_read_statements_in_every_allowed_form(warehouse: Warehouse) -> None:
    assert warehouse.query("-- a comment first\nSELECT 1 AS one;").rows == [(1,)]
    assert warehouse.query("SELECT 'delete; drop' AS s").rows == [("delete; drop",)]
    assert ("events",) in warehouse.query("SHOW TABLES").rows


# --- the same analytics on both engines ------------------------------------------------------

ANALYTICS = [
    # events and revenue per type
    "SELECT type, count(*) AS events, sum(amount) AS revenue_fen, count(DISTINCT profile_id) AS profiles "
    "FROM tenant_events GROUP BY type ORDER BY type",
    # a daily series (UTC days)
    "SELECT date_trunc('day', ts) AS day, count(*) AS events FROM tenant_events "
    "WHERE ts >= $since GROUP BY day ORDER BY day",
    # top regions by paid orders
    "SELECT region, count(*) AS orders, avg(amount) AS avg_fen FROM tenant_events "
    "WHERE type = 'order.paid' GROUP BY region ORDER BY orders DESC, region LIMIT 5",
    # a funnel step: profiles who scanned and then paid
    "WITH scans AS (SELECT profile_id, min(ts) AS first_scan FROM tenant_events "
    "WHERE type = 'code.scanned' GROUP BY profile_id) "
    "SELECT count(DISTINCT e.profile_id) AS converted FROM tenant_events AS e "
    "JOIN scans AS s ON s.profile_id = e.profile_id WHERE e.type = 'order.paid' AND e.ts > s.first_scan",
]


def test_the_same_analytics_sql_gives_the_same_answer_on_both_engines(tmp_path: Path) -> None:
    batch = [event(i) for i in range(400)] + [event(i, tenant="brand-b") for i in range(50)]
    answers: dict[str, list[QueryResult]] = {}
    for engine in ("duckdb", "chdb"):
        with open_warehouse_url(
            f"duckdb:///{tmp_path / 'a.duckdb'}" if engine == "duckdb" else f"chdb:///{tmp_path / 'ch'}"
        ) as wh:
            wh.ensure_schema()
            wh.insert_events(batch)
            answers[engine] = [
                wh.query(sql, {"since": T0 + timedelta(days=1)}, tenant_id="brand-a") for sql in ANALYTICS
            ]
    assert answers["duckdb"] == answers["chdb"]
    by_type = answers["duckdb"][0]
    assert by_type.columns == ["type", "events", "revenue_fen", "profiles"]
    assert by_type.rows[1] == ("order.paid", 133, sum(1000 + i for i in range(400) if i % 3 == 1), 4)
    assert all(result.rows for result in answers["duckdb"])


# --- DuckDB's file lock ----------------------------------------------------------------------

HOLD_LOCK = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    con.close()
    """
)


def _hold_duckdb_lock(path: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_duckdb_waits_for_another_process_lock_then_writes(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    wh = DuckDBWarehouse(path, lock_wait_seconds=20)
    wh.ensure_schema()
    holder = _hold_duckdb_lock(path, 1.0)
    started = time.monotonic()
    assert wh.insert_events([event(1)]) == 1
    assert time.monotonic() - started >= 0.5
    holder.wait(timeout=10)
    assert count(wh) == 1


def test_duckdb_gives_up_after_the_bounded_wait(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    wh = DuckDBWarehouse(path, lock_wait_seconds=0.3)
    wh.ensure_schema()
    holder = _hold_duckdb_lock(path, 5.0)
    try:
        with pytest.raises(WarehouseBusy):
            wh.insert_events([event(1)])
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_duckdb_hold_keeps_one_connection_then_lets_go(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    wh = DuckDBWarehouse(path, lock_wait_seconds=0.2)
    wh.ensure_schema()
    opened = wh.connections_opened
    probe = [sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1]).close()", str(path)]
    with wh.hold():
        assert wh.insert_events([event(1)]) == 1
        assert wh.insert_events([event(2)]) == 1
        assert count(wh) == 2
        assert wh.connections_opened == opened + 1
        held = subprocess.run(probe, capture_output=True, text=True, timeout=60)
        assert held.returncode != 0
        assert "lock" in held.stderr  # another process cannot have the file meanwhile...
    assert subprocess.run(probe, timeout=60).returncode == 0  # ...and gets it as soon as the block ends
    wh.insert_events([event(3)])
    wh.insert_events([event(4)])
    assert wh.connections_opened == opened + 3
    assert count(wh) == 4


# --- URLs and the command line ---------------------------------------------------------------


def test_urls_choose_the_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    memory = warehouse_from_url("duckdb:///:memory:")
    assert isinstance(memory, DuckDBWarehouse)
    assert memory.path == ":memory:"
    memory.close()
    absolute = warehouse_from_url(f"duckdb:///{tmp_path / 'x.duckdb'}")
    assert isinstance(absolute, DuckDBWarehouse)
    assert absolute.path == str(tmp_path / "x.duckdb")
    relative = warehouse_from_url("duckdb:///data/w.duckdb")  # relative to the working directory
    assert isinstance(relative, DuckDBWarehouse)
    assert relative.path == "data/w.duckdb"
    assert not (tmp_path / "data").exists()  # nothing is created before it is used
    for url in ("mysql://localhost/x", "duckdb://"):
        with pytest.raises(UnsupportedWarehouseUrl):
            warehouse_from_url(url)


def test_clickhouse_urls_become_client_options() -> None:
    assert clickhouse_client_options("clickhouse://bcone:p%40ss@ch.internal:9000/analytics") == {
        "host": "ch.internal",
        "port": 9000,
        "username": "bcone",
        "password": "p@ss",
        "database": "analytics",
        "secure": False,
    }
    secure = clickhouse_client_options("clickhouses://ch.example.com")
    assert (secure["port"], secure["secure"], secure["database"], secure["username"]) == (
        8443,
        True,
        "default",
        "default",
    )
    assert clickhouse_client_options("clickhouse://h/db?secure=true")["secure"] is True


def test_chdb_urls_open_embedded_clickhouse(tmp_path: Path) -> None:
    with open_warehouse_url(f"chdb:///{tmp_path / 'ch'}") as wh:
        assert wh.dialect == "clickhouse"
        wh.ensure_schema()
    assert (tmp_path / "ch").is_dir()
    with open_warehouse_url("chdb://") as memory:
        memory.ensure_schema()
        memory.insert_events([event(1)])
        assert count(memory) == 1


def test_memory_duckdb_keeps_its_data_for_its_lifetime() -> None:
    with open_warehouse_url("duckdb:///:memory:") as wh:
        wh.ensure_schema()
        wh.insert_events([event(1), event(2)])
        assert count(wh) == 2


def test_cli_query_prints_table_csv_and_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_runner: CliRunner
) -> None:
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    with open_warehouse_url(url) as wh:
        wh.ensure_schema()
        wh.insert_events([event(i) for i in range(6)] + [event(1, tenant="brand-b")])
    monkeypatch.setenv("BCONE_WAREHOUSE_URL", url)
    get_settings.cache_clear()
    sql = "SELECT type, count(*) AS n FROM tenant_events GROUP BY type ORDER BY type"
    csv_out = cli_runner.invoke(app, ["warehouse", "query", sql, "--tenant", "brand-a", "--format", "csv"])
    assert csv_out.exit_code == 0, csv_out.output
    assert csv_out.stdout == "type,n\ncode.scanned,2\norder.paid,2\npage.viewed,2\n"
    json_out = cli_runner.invoke(
        app,
        [
            "warehouse",
            "query",
            "SELECT event_id FROM events WHERE tenant_id = $t",
            "-p",
            "t=brand-b",
            "-f",
            "json",
        ],
    )
    assert json_out.exit_code == 0, json_out.output
    assert '"event_id": "ev-00001"' in json_out.stdout
    table_out = cli_runner.invoke(app, ["warehouse", "query", "SELECT 'ok' AS status"])
    assert table_out.exit_code == 0
    assert "status" in table_out.stdout
    assert "1 row(s)" in table_out.stdout


def test_cli_query_refuses_writes_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_runner: CliRunner
) -> None:
    monkeypatch.setenv("BCONE_WAREHOUSE_URL", f"duckdb:///{tmp_path / 'w.duckdb'}")
    get_settings.cache_clear()
    result = cli_runner.invoke(app, ["warehouse", "query", "DELETE FROM events"])
    assert result.exit_code == 1
    assert "warehouse_read_only" in result.stderr
    assert "not DELETE" in result.stderr
    assert not (tmp_path / "w.duckdb").exists()  # refused before the warehouse was opened
    bad_format = cli_runner.invoke(app, ["warehouse", "query", "SELECT 1 AS one", "--format", "xml"])
    assert bad_format.exit_code == 1
    assert "--format" in bad_format.stderr


@pytest.fixture
def cli_runner() -> Iterator[CliRunner]:
    yield CliRunner()
    get_settings.cache_clear()


def _bcone() -> typer.Typer:
    """The ``bcone`` command's ``events`` and ``warehouse`` groups, as the root command mounts them."""
    root = typer.Typer()
    root.add_typer(events_app, name="events")
    root.add_typer(warehouse_app, name="warehouse")
    return root


app = _bcone()
