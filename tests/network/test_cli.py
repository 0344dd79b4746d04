"""``bcone network import``: the report on stdout, exit codes, and what was written.

The sub-command app is invoked directly (``bcone.cli`` mounts it as ``bcone network``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bcone.core.db import Database
from bcone.core.pagination import PageParams
from bcone.core.settings import get_settings
from bcone.iam.schemas import TenantOut
from bcone.network import service
from bcone.network.cli import app
from bcone.network.schemas import OrganizationOut
from tests.network.conftest import TenantSession
from tests.network.test_imports import ORG_CSV, STAFF_CSV, org_xlsx

runner = CliRunner()


@pytest.fixture
def cli_db(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """Point the commands at the test database."""
    monkeypatch.setenv("BCONE_DATABASE_URL", db.url)
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


def _count(tenant_session: TenantSession) -> int:
    with tenant_session() as s:
        return service.list_organizations(PageParams(), session=s).total


def test_all_or_nothing_prints_every_bad_row_and_exits_1(
    cli_db: Database, tenant: TenantOut, tenant_session: TenantSession, tmp_path: Path
) -> None:
    path = tmp_path / "网点.csv"
    path.write_bytes(ORG_CSV.encode("gbk"))
    result = runner.invoke(app, ["import", str(path), "--tenant", "acme"])
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "mode: all_or_nothing  rows: 6  created: 0  updated: 0  unchanged: 0  failed: 3"
    assert lines[1] == "nothing was written: 3 of 6 rows are invalid"
    assert lines[2] == "row 5, column 行政区划代码 (value '999999'): '999999' is not a known division code"
    assert lines[3].startswith("row 6, column 联系电话 (value '12345'): ")
    assert (
        lines[4] == "row 7, column 上级编码 (value 'S-001'): "
        "a store's parent must be a distributor or a wholesaler, not a store"
    )
    assert _count(tenant_session) == 0


def test_valid_rows_from_xlsx_writes_the_good_rows(
    cli_db: Database, tenant: TenantOut, tenant_session: TenantSession, tmp_path: Path
) -> None:
    path = tmp_path / "network.xlsx"
    path.write_bytes(org_xlsx())
    result = runner.invoke(app, ["import", str(path), "--tenant", "acme", "--mode", "valid_rows"])
    assert result.exit_code == 1  # rows failed, even though the good ones were kept
    assert "created: 3" in result.stdout
    assert _count(tenant_session) == 3
    good = tmp_path / "good.csv"
    good.write_text("\n".join(ORG_CSV.splitlines()[:4]) + "\n", encoding="utf-8")
    again = runner.invoke(app, ["import", str(good), "--tenant", "acme"])
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines() == [
        "mode: all_or_nothing  rows: 3  created: 0  updated: 0  unchanged: 3  failed: 0"
    ]


def test_staff_kind_and_refusals(
    cli_db: Database, tenant: TenantOut, network: dict[str, OrganizationOut], tmp_path: Path
) -> None:
    path = tmp_path / "staff.csv"
    path.write_text(STAFF_CSV, encoding="utf-8-sig")
    result = runner.invoke(
        app, ["import", str(path), "--tenant", "acme", "--kind", "staff", "--mode", "valid_rows"]
    )
    assert result.exit_code == 1
    assert "created: 3" in result.stdout
    assert "row 4, column 所属组织编码" in result.stdout
    unknown = runner.invoke(app, ["import", str(path), "--tenant", "nope"])
    assert unknown.exit_code == 2
    assert "no tenant 'nope'" in unknown.stderr
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF")
    refused = runner.invoke(app, ["import", str(bad), "--tenant", "acme"])
    assert refused.exit_code == 2
    assert "import_file_invalid: bad.pdf: not a CSV or XLSX file" in refused.stderr
    missing = runner.invoke(app, ["import", str(tmp_path / "none.csv"), "--tenant", "acme"])
    assert missing.exit_code == 2
