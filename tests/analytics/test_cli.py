"""``bcone analytics ...`` on a DuckDB warehouse holding the synthetic events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bcone.analytics.cli import app
from bcone.core.settings import get_settings
from bcone.core.warehouse import open_warehouse_url
from tests.analytics.conftest import EVENTS, FIRST_DAY, LAST_DAY, TENANT


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    with open_warehouse_url(url) as wh:
        wh.ensure_schema()
        wh.insert_events(EVENTS)
    monkeypatch.setenv("BCONE_WAREHOUSE_URL", url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_reports_print_json(runner: CliRunner) -> None:
    span = ["--since", FIRST_DAY.isoformat(), "--until", LAST_DAY.isoformat()]
    rfm = runner.invoke(app, ["rfm", "--tenant", TENANT, *span, "--limit", "3"])
    assert rfm.exit_code == 0, rfm.output
    assert len(json.loads(rfm.stdout)["top"]) == 3
    funnel = runner.invoke(
        app,
        ["funnel", "--tenant", TENANT, "--steps", "code.scanned,order.paid", "--breakdown", "region", *span],
    )
    assert funnel.exit_code == 0, funnel.output
    assert json.loads(funnel.stdout)["total"]["steps"][1]["users"] > 0
    retention = runner.invoke(app, ["retention", "--tenant", TENANT, "--period", "month", *span])
    assert json.loads(retention.stdout)["cohorts"]
    clv = runner.invoke(app, ["clv", "--tenant", TENANT, "--until", LAST_DAY.isoformat(), "--limit", "2"])
    assert clv.exit_code == 0, clv.output
    assert json.loads(clv.stdout)["params"]["r"] > 0


def test_bad_input_names_the_field_and_fails(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["funnel", "--tenant", TENANT, "--steps", "code.scanned,order.paid", "--window-seconds", "0"]
    )
    assert result.exit_code == 1
    assert "analytics_invalid_window (window_seconds)" in result.stderr
    bad_day = runner.invoke(app, ["rfm", "--tenant", TENANT, "--since", "June"])
    assert bad_day.exit_code == 2
    assert "--since" in bad_day.stderr
