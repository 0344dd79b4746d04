"""``bcone codes commission|pack|ship`` from CSV files, against the test database."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bcone.codes import service
from bcone.codes.cli import app
from bcone.core.db import Database
from bcone.iam.schemas import TenantOut
from tests.codes.test_cli import cli_db as cli_db
from tests.codes.test_packing import Line
from tests.codes.test_packing import line as line

runner = CliRunner()


def test_commission_pack_ship_from_csv(
    cli_db: Database, tenant: TenantOut, line: Line, tmp_path: Path
) -> None:
    codes = tmp_path / "codes.csv"
    codes.write_text("serial\n" + "\n".join(line.units[:6] + line.cases[:2]) + "\n")
    done = runner.invoke(app, ["commission", str(codes), "--tenant", "acme"])
    assert done.exit_code == 0, done.output
    assert "commissioned 8 codes" in done.stdout
    packs = tmp_path / "packs.csv"
    rows = [f"{line.cases[k // 3]},{u.lower()}" for k, u in enumerate(line.units[:6])]
    packs.write_text("parent,child\n" + "\n".join(rows) + "\n")
    done = runner.invoke(app, ["pack", str(packs), "--tenant", "acme"])
    assert done.exit_code == 0, done.output
    assert "packed 6 codes into 2 containers" in done.stdout
    again = runner.invoke(app, ["pack", str(packs), "--tenant", "acme"])
    assert again.exit_code == 2
    assert "code_state_conflict (packs[0].children[0])" in again.output.replace("\n", "")
    ship = tmp_path / "ship.csv"
    ship.write_text("\n".join(line.cases[:2]) + "\n")
    done = runner.invoke(app, ["ship", str(ship), "--tenant", "acme", "--to", "D-GD"])
    assert done.exit_code == 0, done.output
    with cli_db.session(tenant_id=tenant.id) as s:
        where = service.whereabouts(line.units[4], session=s, secret_key="bcone-development-secret-change-me")
    assert (where.holder_org_id, where.status) == (line.distributor, "in_transit")
