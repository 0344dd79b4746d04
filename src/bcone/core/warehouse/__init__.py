"""The analytics warehouse: one port (:class:`Warehouse`), two engines (DuckDB, ClickHouse).

``open_warehouse(settings)`` picks the engine from ``settings.effective_warehouse_url``:

- ``duckdb:///path/to/file.duckdb`` (the default, in the data directory) or ``duckdb:///:memory:``
- ``clickhouse://user:password@host:8123/database`` (``clickhouses://`` for HTTPS), a server
- ``chdb:///path/to/dir`` or ``chdb://`` (in memory): ClickHouse embedded in the process
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from bcone.core.settings import Settings
from bcone.core.warehouse.port import (
    EVENT_ARROW_SCHEMA,
    EVENT_COLUMNS,
    EVENTS_TABLE,
    EventBatch,
    QueryResult,
    ReadOnlyQueryRequired,
    UnsupportedWarehouseUrl,
    Warehouse,
    WarehouseBusy,
    WarehouseError,
    WarehouseQueryFailed,
    events_to_arrow,
    to_json_text,
)
from bcone.core.warehouse.sql import TENANT_VIEW, ensure_read_only

__all__ = [
    "EVENTS_TABLE",
    "EVENT_ARROW_SCHEMA",
    "EVENT_COLUMNS",
    "TENANT_VIEW",
    "EventBatch",
    "QueryResult",
    "ReadOnlyQueryRequired",
    "UnsupportedWarehouseUrl",
    "Warehouse",
    "WarehouseBusy",
    "WarehouseError",
    "WarehouseQueryFailed",
    "clickhouse_client_options",
    "ensure_read_only",
    "events_to_arrow",
    "open_warehouse",
    "open_warehouse_url",
    "to_json_text",
    "warehouse_from_url",
]

CLICKHOUSE_HTTP_PORT = 8123
CLICKHOUSE_HTTPS_PORT = 8443


def warehouse_from_url(url: str) -> Warehouse:
    """A warehouse for ``url`` (see the module docstring for the forms); the caller closes it."""
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme == "duckdb":
        from bcone.core.warehouse.duckdb_engine import DuckDBWarehouse

        path = rest[1:] if rest.startswith("/") else rest
        if not path:
            raise UnsupportedWarehouseUrl(
                "duckdb URLs need a file: duckdb:///path/to/file.duckdb", field="url"
            )
        return DuckDBWarehouse(path)
    if scheme == "chdb":
        from bcone.core.warehouse.clickhouse_engine import ChdbTransport, ClickHouseWarehouse

        path = rest[1:] if rest.startswith("/") else rest
        return ClickHouseWarehouse(ChdbTransport(path or None))
    if scheme in ("clickhouse", "clickhouses"):
        return _clickhouse_server(url)
    raise UnsupportedWarehouseUrl(
        f"unknown warehouse URL scheme {scheme!r}: use duckdb://, clickhouse:// or chdb://", field="url"
    )


def clickhouse_client_options(url: str) -> dict[str, Any]:
    """clickhouse-connect ``get_client`` arguments for a ``clickhouse://`` or ``clickhouses://`` URL."""
    parts = urlsplit(url)
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    secure = parts.scheme.lower() == "clickhouses" or options.get("secure", "").lower() in (
        "1",
        "true",
        "yes",
    )
    return {
        "host": parts.hostname or "localhost",
        "port": parts.port or (CLICKHOUSE_HTTPS_PORT if secure else CLICKHOUSE_HTTP_PORT),
        "username": unquote(parts.username or "default"),
        "password": unquote(parts.password or ""),
        "database": parts.path.lstrip("/") or "default",
        "secure": secure,
    }


def _clickhouse_server(url: str) -> Warehouse:
    import clickhouse_connect

    from bcone.core.warehouse.clickhouse_engine import ClickHouseConnectTransport, ClickHouseWarehouse

    client = clickhouse_connect.get_client(**clickhouse_client_options(url))
    return ClickHouseWarehouse(ClickHouseConnectTransport(client))


@contextmanager
def open_warehouse_url(url: str) -> Iterator[Warehouse]:
    """The warehouse at ``url`` for the length of a ``with`` block."""
    warehouse = warehouse_from_url(url)
    try:
        yield warehouse
    finally:
        warehouse.close()


@contextmanager
def open_warehouse(settings: Settings) -> Iterator[Warehouse]:
    """The configured warehouse (``BCONE_WAREHOUSE_URL``, else DuckDB in the data directory)."""
    with open_warehouse_url(settings.effective_warehouse_url) as warehouse:
        yield warehouse
