"""``bcone codes ...``: generate, export, list, void, rotate-key against the test database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bcone.catalog.schemas import SkuOut
from bcone.codes import service
from bcone.codes.cli import app
from bcone.core.db import Database
from bcone.core.settings import get_settings
from bcone.iam.schemas import TenantOut
from tests.codes.conftest import GTIN14

runner = CliRunner()


@pytest.fixture
def cli_db(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """Point the commands at the test database."""
    monkeypatch.setenv("BCONE_DATABASE_URL", db.url)
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


def test_generate_export_list_void(
    cli_db: Database, tenant: TenantOut, skus: list[SkuOut], tmp_path: Path
) -> None:
    made = runner.invoke(
        app,
        [
            "generate", "--tenant", "acme", "--sku", "ICT-500", "--count", "250000", "--lot", "L7",
            "--production-date", "2026-06-01", "--expiry", "2027-06-01", "--level", "unit",
            "--region", "310000", "--region", "320100",
        ],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    batch_id = made.stdout.strip()
    with cli_db.session(tenant_id=tenant.id) as s:
        batch = service.get_batch(batch_id, session=s)
    assert (batch.count, batch.regions, batch.lot) == (250_000, ["310000", "320100"], "L7")
    out = tmp_path / "codes.csv"
    exported = runner.invoke(
        app, ["export", batch_id, "--tenant", "acme", "--format", "csv", "--out", str(out)]
    )
    assert exported.exit_code == 0, exported.output
    lines = out.read_bytes().splitlines()
    assert len(lines) == 250_001
    assert lines[0] == b"serial,url"
    assert lines[1].split(b",")[1].startswith(f"https://id.bcone.dev/01/{GTIN14}/21/".encode())
    assert lines[-1].endswith(b"?10=L7&17=270601")
    assert len({line.split(b",")[0] for line in lines[1:]}) == 250_000
    txt = tmp_path / "codes.txt"
    assert (
        runner.invoke(
            app, ["export", batch_id, "--tenant", "acme", "--format", "txt", "--out", str(txt)]
        ).exit_code
        == 0
    )
    assert txt.read_bytes().count(b"\n") == 250_000
    listed = runner.invoke(app, ["list", "--tenant", "acme"])
    assert listed.exit_code == 0
    assert "ICT-500" in listed.stdout
    voided = runner.invoke(app, ["void", batch_id, "--tenant", "acme", "--reason", "leaked"])
    assert voided.exit_code == 0
    assert "voided" in voided.stdout
    rotated = runner.invoke(app, ["rotate-key", "--tenant", "acme"])
    assert rotated.exit_code == 0
    assert "key version 1" in rotated.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["generate", "--tenant", "nobody", "--sku", "ICT-500", "--count", "1"], "no tenant"),
        (["generate", "--tenant", "acme", "--sku", "NO-GTIN", "--count", "1"], "sku_without_gtin"),
        (["generate", "--tenant", "acme", "--sku", "ICT-500", "--count", "0"], "count"),
        (
            ["generate", "--tenant", "acme", "--sku", "ICT-500", "--count", "1", "--expiry", "31/12/2027"],
            "YYYY-MM-DD",
        ),
        (
            ["generate", "--tenant", "acme", "--sku", "ICT-500", "--count", "1", "--region", "999999"],
            "unknown_division",
        ),
        (["export", "nope", "--tenant", "acme", "--out", "x.csv"], "code_batch_not_found"),
        (["export", "nope", "--tenant", "acme", "--out", "x.csv", "--format", "pdf"], "csv or txt"),
    ],
)
def test_refusals_exit_2_with_a_message(
    cli_db: Database, tenant: TenantOut, skus: list[SkuOut], args: list[str], message: str
) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
