"""``bcone tenant ...`` and ``bcone user ...``: set up brands and their first users from a shell."""

from __future__ import annotations

from typing import Annotated

import typer

from bcone.core.auth import Role
from bcone.core.errors import BconeError
from bcone.core.pagination import MAX_PAGE_SIZE, PageParams
from bcone.core.runtime import open_database
from bcone.iam import service

tenant_app = typer.Typer(no_args_is_help=True, help="Create and list tenants (brands).")
user_app = typer.Typer(no_args_is_help=True, help="Create users of a tenant, or the platform operator.")


def _fail(error: BconeError) -> typer.Exit:
    field = f" [{error.field}]" if error.field else ""
    typer.secho(f"error: {error.code}{field}: {error.detail}", err=True, fg=typer.colors.RED)
    return typer.Exit(1)


@tenant_app.command("create")
def tenant_create(
    slug: Annotated[
        str, typer.Argument(help="URL-safe identifier: a-z, 0-9 and inner hyphens, e.g. acme-foods.")
    ],
    name: Annotated[str, typer.Option("--name", help="The brand's display name, e.g. 'Acme Foods'.")],
) -> None:
    """Create a tenant (a brand running bcone). Then add its first owner with `bcone user create`."""
    db = open_database()
    try:
        with db.session() as session:
            tenant = service.create_tenant(session=session, slug=slug, name=name)
    except BconeError as exc:
        raise _fail(exc) from exc
    finally:
        db.dispose()
    typer.echo(f"tenant created: {tenant.slug} ({tenant.name}) id={tenant.id}")


@tenant_app.command("list")
def tenant_list() -> None:
    """List every tenant: slug, status, name and id."""
    db = open_database()
    try:
        with db.session() as session:
            page_no = 1
            while True:
                page = service.list_tenants(
                    session=session, params=PageParams(page=page_no, page_size=MAX_PAGE_SIZE)
                )
                for t in page.items:
                    typer.echo(f"{t.slug}\t{t.status}\t{t.name}\t{t.id}")
                if page_no >= page.pages:
                    break
                page_no += 1
    finally:
        db.dispose()


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option("--email", help="Login email, unique across the platform.")],
    tenant: Annotated[
        str | None,
        typer.Option("--tenant", help="Slug of the tenant the user belongs to (not with --operator)."),
    ] = None,
    role: Annotated[
        Role | None,
        typer.Option(
            "--role", help="The user's role in the tenant (not with --operator).", case_sensitive=False
        ),
    ] = None,
    org_id: Annotated[
        str | None,
        typer.Option("--org-id", help="Required for role partner: the organisation the partner belongs to."),
    ] = None,
    operator: Annotated[
        bool,
        typer.Option(
            "--operator", help="Create the platform operator (belongs to no tenant, creates tenants)."
        ),
    ] = False,
    name: Annotated[
        str | None, typer.Option("--name", help="Display name (default: the part of the email before @).")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            help="At least 10 characters. Omit it to be prompted with hidden input "
            "(keeps it out of the shell history).",
        ),
    ] = None,
) -> None:
    """Create a user of a tenant (--tenant SLUG --role ROLE), or the platform operator (--operator).

    Examples: `bcone user create --tenant acme --email boss@acme.example --role owner`;
    `bcone user create --operator --email ops@example.com`.
    """
    if operator and (tenant or role or org_id):
        raise typer.BadParameter("--operator takes no --tenant, --role or --org-id", param_hint="--operator")
    if not operator and (not tenant or role is None):
        raise typer.BadParameter("give --tenant and --role, or --operator", param_hint="--tenant")
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    display_name = name or email.split("@", 1)[0]
    db = open_database()
    try:
        if tenant and role is not None:
            with db.session() as session:
                tenant_id = service.get_tenant_by_slug(tenant, session=session).id
            with db.session(tenant_id=tenant_id) as session:
                user = service.create_user(
                    session=session,
                    email=email,
                    display_name=display_name,
                    password=password,
                    role=role,
                    org_id=org_id,
                )
        else:
            with db.session() as session:
                user = service.create_operator(
                    session=session, email=email, display_name=display_name, password=password
                )
    except BconeError as exc:
        raise _fail(exc) from exc
    finally:
        db.dispose()
    what = "platform operator" if user.is_operator else f"{user.role} of {tenant}"
    typer.echo(f"user created: {user.email} ({what}) id={user.id}")
