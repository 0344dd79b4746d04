"""``bcone promotions`` against the real database of the test (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from bcone.core.db import Database
from bcone.core.settings import get_settings
from bcone.iam.schemas import TenantOut
from bcone.promotions.cli import app
from tests.promotions.conftest import MakeCampaign


@pytest.fixture
def cli_db(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("BCONE_DATABASE_URL", db.url)
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


def test_list_status_and_figures(cli_db: Database, tenant: TenantOut, make_campaign: MakeCampaign) -> None:
    campaign = make_campaign(activate=False, budget_fen=1234)
    runner = CliRunner()
    listed = runner.invoke(app, ["list", "--tenant", "acme"])
    assert listed.exit_code == 0, listed.output
    assert "Summer" in listed.output
    activated = runner.invoke(app, ["status", campaign.id, "activate", "--tenant", "acme"])
    assert activated.output.strip() == "Summer: active"
    shown = runner.invoke(app, ["figures", campaign.id, "--tenant", "acme"])
    assert json.loads(shown.output)["budget_left_fen"] == 1234
    missing = runner.invoke(app, ["figures", "nope", "--tenant", "acme"])
    assert missing.exit_code == 2
    assert "campaign_not_found" in missing.output
    assert runner.invoke(app, ["list", "--tenant", "nobody"]).exit_code == 2
