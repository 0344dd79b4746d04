"""``bcone crm generate | train | model`` against the test database."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from bcone.core.db import Database
from bcone.core.settings import get_settings
from bcone.crm import service
from bcone.crm.cli import app
from bcone.iam.schemas import TenantOut

runner = CliRunner()


@pytest.fixture
def cli_db(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("BCONE_DATABASE_URL", db.url)
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


def test_generate_train_and_show_the_model(cli_db: Database, tenant: TenantOut) -> None:
    result = runner.invoke(app, ["train", "--tenant", "acme"])
    assert result.exit_code == 1, result.output
    assert "stage priors" in result.output
    result = runner.invoke(
        app, ["generate", "--tenant", "acme", "--closed", "400", "--open", "20", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["closed"] == 400
    result = runner.invoke(app, ["train", "--tenant", "acme"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("model v1: 400 closed")
    shown = json.loads(runner.invoke(app, ["model", "--tenant", "acme"]).stdout)
    assert (shown["source"], shown["model"]["version"]) == ("model", 1)
    with cli_db.session(tenant_id=tenant.id) as s:
        assert service.closed_count(s) == 400
    result = runner.invoke(app, ["model", "--tenant", "nobody"])
    assert result.exit_code == 2


def test_tier_command_assigns_tiers_and_growth_tasks(cli_db: Database, tenant: TenantOut) -> None:
    from bcone.crm.schemas import AccountIn

    with cli_db.session(tenant_id=tenant.id) as s:
        service.create_account(AccountIn(name="战略大客户", potential=100, strategic_fit=100), session=s)
        service.create_account(AccountIn(name="普通客户", potential=10, strategic_fit=10), session=s)
    result = runner.invoke(app, ["tier", "--tenant", "acme"])
    assert result.exit_code == 0, result.output
    assert "2 accounts, 2 changed" in result.output
    # the default model: value 0 x .5 + 100 x .3 + 100 x .2 = 0.5 -> B (its task: the annual plan)
    assert "(A 0, B 1, C 1); 1 growth tasks created" in result.output
    again = runner.invoke(app, ["tier", "--tenant", "acme"])
    assert "0 changed" in again.output
    assert "0 growth tasks created" in again.output
