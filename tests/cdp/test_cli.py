"""``bcone cdp import`` (JSON lines and CSV, bad lines by number) and ``bcone cdp rebuild``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from bcone.cli import app
from bcone.core.db import Database
from bcone.core.settings import get_settings
from bcone.iam.schemas import TenantOut
from tests.cdp.helpers import SECRET, groups

runner = CliRunner()


@pytest.fixture
def cli_env(db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Database]:
    """Point the commands at the test database."""
    monkeypatch.setenv("BCONE_DATABASE_URL", db.url)
    monkeypatch.setenv("BCONE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BCONE_SECRET_KEY", SECRET)
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


def _outbox_ids(db: Database) -> list[str]:
    with db.engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT event_id FROM outbox ORDER BY seq"))]


def test_import_json_lines_reports_bad_lines_by_number(
    cli_env: Database, tenant: TenantOut, tmp_path: Path
) -> None:
    lines = [
        {
            "event_id": "a1",
            "type": "page.viewed",
            "ts": "2026-11-20T10:00:00+08:00",
            "properties": {"url": "/"},
            "identities": [
                {"namespace": "phone", "value": "13800138000"},
                {"namespace": "device", "value": "d1"},
            ],
        },
        {
            "event_id": "a2",
            "type": "order.paid",
            "ts": "2026-11-20T11:00:00+08:00",
            "amount": "12.5",
            "properties": {"order_id": "o1"},
        },
        "not json",
        {
            "event_id": "a3",
            "type": "code.scanned",
            "ts": "2026-11-20T12:00:00Z",
            "identities": [
                {"namespace": "phone", "value": "138 0013 8000"},
                {"namespace": "jd_pin", "value": "p1"},
            ],
        },
        {
            "event_id": "a4",
            "type": "page.viewed",
            "ts": "2026-11-20T12:00:00Z",
            "properties": {"url": "/"},
            "identities": [{"namespace": "qq", "value": "1"}],
        },
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n")
    result = runner.invoke(app, ["cdp", "import", str(path), "--tenant", "acme", "--quiet"])
    assert result.exit_code == 1, result.output
    assert "lines: 5  accepted: 2  rejected: 3" in result.output
    assert "line 2, amount:" in result.output
    assert "line 3:" in result.output
    assert "invalid_json" in result.output
    assert "line 5, identities[0].namespace: unknown identifier namespace 'qq'" in result.output
    assert _outbox_ids(cli_env) == ["a1", "a3"]
    assert groups(cli_env, tenant.id) == {
        frozenset({("phone", "138****8000"), ("device", "d1"), ("jd_pin", "p1")})
    }
    again = runner.invoke(app, ["cdp", "import", str(path), "--tenant", "acme", "--quiet"])
    assert again.exit_code == 1
    assert _outbox_ids(cli_env) == ["a1", "a3"]


def test_import_csv_with_identity_columns_and_rebuild(
    cli_env: Database, tenant: TenantOut, tmp_path: Path
) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "event_id,type,ts,amount,org_id,properties,id:wechat_openid:wxapp1,id:phone\n"
        'c1,order.paid,2026-11-20T10:00:00+08:00,1999,,"{""order_id"": ""A1""}",o-1,13800138000\n'
        "c2,store.visited,2026-11-20T10:00:00+08:00,,,,o-2,\n"
        "c3,store.visited,2026-11-20T10:00:00+08:00,,S-1,,o-2|o-3,\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["cdp", "import", str(path), "--tenant", "acme", "--quiet"])
    assert result.exit_code == 1
    assert "line 3, org_id:" in result.output
    assert "accepted: 2" in result.output
    assert len(groups(cli_env, tenant.id)) == 2
    rebuilt = runner.invoke(app, ["cdp", "rebuild", "--tenant", "acme"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert json.loads(rebuilt.output.strip().splitlines()[-1])["moved_identifiers"] == 0
    assert runner.invoke(app, ["cdp", "import", str(path), "--tenant", "nobody"]).exit_code == 2
    bad_header = tmp_path / "bad.csv"
    bad_header.write_text("event_id,kind\nx,y\n")
    out = runner.invoke(app, ["cdp", "import", str(bad_header), "--tenant", "acme", "--quiet"])
    assert out.exit_code == 1
    assert "unknown column 'kind'" in out.output
