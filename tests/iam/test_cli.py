"""``bcone tenant`` and ``bcone user`` against a temporary SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from bcone.core.db import Database
from bcone.core.settings import get_settings
from bcone.iam import service
from bcone.iam.cli import tenant_app, user_app
from bcone.iam.models import User
from bcone.models import metadata

runner = CliRunner()
# Mounted as `bcone` mounts them, without importing every other domain's commands.
app = typer.Typer()
app.add_typer(tenant_app, name="tenant")
app.add_typer(user_app, name="user")


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """BCONE_DATABASE_URL pointing at a fresh SQLite file with the schema."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("BCONE_DATABASE_URL", url)
    get_settings.cache_clear()  # the settings are read once per process
    db = Database(url)
    metadata.create_all(db.engine)
    yield db
    db.dispose()
    get_settings.cache_clear()


def test_tenant_create_and_list(cli_db: Database) -> None:
    created = runner.invoke(app, ["tenant", "create", "acme", "--name", "Acme Foods"])
    assert created.exit_code == 0, created.output
    assert "tenant created: acme" in created.output
    runner.invoke(app, ["tenant", "create", "globex", "--name", "Globex"])
    listed = runner.invoke(app, ["tenant", "list"])
    assert listed.exit_code == 0
    assert [line.split("\t")[0] for line in listed.output.splitlines()] == ["acme", "globex"]
    dup = runner.invoke(app, ["tenant", "create", "acme", "--name", "Again"])
    assert dup.exit_code == 1
    assert "tenant_slug_taken" in dup.output
    bad = runner.invoke(app, ["tenant", "create", "Not_A_Slug", "--name", "x"])
    assert bad.exit_code == 1
    assert "[slug]" in bad.output


def test_user_create_with_password_option(cli_db: Database) -> None:
    runner.invoke(app, ["tenant", "create", "acme", "--name", "Acme Foods"])
    args = ["user", "create", "--tenant", "acme", "--email", "Boss@Acme.example", "--role", "owner"]
    resp = runner.invoke(app, [*args, "--password", "a long password"])
    assert resp.exit_code == 0, resp.output
    assert "boss@acme.example (owner of acme)" in resp.output
    with cli_db.session() as s:
        user = service.authenticate_password(session=s, email="boss@acme.example", password="a long password")
    assert user.role is not None
    assert user.role.value == "owner"
    short = runner.invoke(
        app, [*args[:-4], "--email", "x@acme.example", "--role", "owner", "--password", "short"]
    )
    assert short.exit_code == 1
    assert "[password]" in short.output


def test_user_create_prompts_for_a_hidden_password(cli_db: Database) -> None:
    runner.invoke(app, ["tenant", "create", "acme", "--name", "Acme Foods"])
    resp = runner.invoke(
        app,
        ["user", "create", "--tenant", "acme", "--email", "rep@acme.example", "--role", "sales_rep"],
        input="typed secretly\ntyped secretly\n",
    )
    assert resp.exit_code == 0, resp.output
    assert "typed secretly" not in resp.output
    with cli_db.session() as s:
        stored = s.scalar(select(User.password_hash).where(User.email == "rep@acme.example"))
    assert stored is not None
    assert stored.startswith("$argon2id$")


def test_operator_and_wrong_combinations(cli_db: Database) -> None:
    resp = runner.invoke(
        app, ["user", "create", "--operator", "--email", "ops@bcone.example", "--password", "operator pw 1"]
    )
    assert resp.exit_code == 0, resp.output
    assert "platform operator" in resp.output
    with cli_db.session() as s:
        row = s.scalar(select(User).where(User.email == "ops@bcone.example"))
        assert row is not None
        assert row.is_operator
        assert row.tenant_id is None
    mixed = runner.invoke(app, ["user", "create", "--operator", "--tenant", "acme", "--email", "x@y.example"])
    assert mixed.exit_code == 2
    missing = runner.invoke(app, ["user", "create", "--email", "x@y.example", "--password", "long enough 1"])
    assert missing.exit_code == 2
    unknown = runner.invoke(
        app,
        [
            "user",
            "create",
            "--tenant",
            "nope",
            "--email",
            "x@y.example",
            "--role",
            "owner",
            "--password",
            "long enough 1",
        ],
    )
    assert unknown.exit_code == 1
    assert "tenant_not_found" in unknown.output
    bad_role = runner.invoke(
        app,
        [
            "user",
            "create",
            "--tenant",
            "nope",
            "--email",
            "p@y.example",
            "--role",
            "emperor",
            "--password",
            "x" * 12,
        ],
    )
    assert bad_role.exit_code == 2


def test_help_explains_each_command() -> None:
    for args in (["tenant", "create"], ["tenant", "list"], ["user", "create"]):
        resp = runner.invoke(app, [*args, "--help"])
        assert resp.exit_code == 0
        assert "Usage" in resp.output
    assert "--operator" in runner.invoke(app, ["user", "create", "--help"]).output
