"""Fixtures for tenants, users, API keys and authenticated clients, shared by every domain's tests.

- ``tenant`` / ``other_tenant``: fresh tenants "acme" and "globex" (``TenantOut``).
- ``make_user(role="owner", tenant=None, org_id=None, email=None, password=...)``: a user
  (``UserOut``) of ``tenant`` by default; ``role="operator"`` makes the platform operator.
- ``auth_headers(role="owner", tenant=None, org_id=None)``: ``{"Authorization": "Bearer bk_..."}``.
- ``owner_client``: a TestClient on the app that sends an owner API key of ``tenant``.
- ``console_login(client, email, password=...)``: logs ``client`` in through ``POST /login`` and
  returns the session's CSRF token (send it as ``X-CSRF-Token`` or the ``csrf_token`` form field).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bcone.core.db import Database
from bcone.iam import service as iam
from bcone.iam.schemas import TenantOut, UserOut

DEFAULT_PASSWORD = "correct horse battery"
LOGIN_CSRF_COOKIE = "bcone_login_csrf"

MakeUser = Callable[..., UserOut]
AuthHeaders = Callable[..., dict[str, str]]
ConsoleLogin = Callable[..., str]

_serial = itertools.count(1)


def _new_tenant(db: Database, slug: str, name: str) -> TenantOut:
    with db.session() as s:
        return iam.create_tenant(session=s, slug=slug, name=name)


@pytest.fixture
def tenant(db: Database) -> TenantOut:
    """A fresh tenant "acme"."""
    return _new_tenant(db, "acme", "Acme Foods")


@pytest.fixture
def other_tenant(db: Database) -> TenantOut:
    """A second tenant "globex", to prove isolation."""
    return _new_tenant(db, "globex", "Globex Beverages")


@pytest.fixture
def make_user(db: Database, request: pytest.FixtureRequest) -> MakeUser:
    """Factory: ``make_user(role="owner", tenant=None, org_id=None, email=None, password=...)``."""

    def _make(
        role: str = "owner",
        tenant: TenantOut | None = None,
        org_id: str | None = None,
        email: str | None = None,
        password: str = DEFAULT_PASSWORD,
        display_name: str | None = None,
    ) -> UserOut:
        n = next(_serial)
        if role == "operator":
            with db.session() as s:
                return iam.create_operator(
                    session=s,
                    email=email or f"operator-{n}@bcone.example",
                    display_name=display_name or f"Operator {n}",
                    password=password,
                )
        tenant = tenant or request.getfixturevalue("tenant")
        with db.session(tenant_id=tenant.id) as s:
            return iam.create_user(
                session=s,
                email=email or f"{role}-{n}@{tenant.slug}.example",
                display_name=display_name or f"{role.replace('_', ' ').title()} {n}",
                password=password,
                role=role,
                org_id=org_id,
            )

    return _make


@pytest.fixture
def auth_headers(db: Database, request: pytest.FixtureRequest) -> AuthHeaders:
    """Factory: ``auth_headers(role="owner", tenant=None, org_id=None)`` -> a Bearer API key header."""

    def _headers(
        role: str = "owner", tenant: TenantOut | None = None, org_id: str | None = None
    ) -> dict[str, str]:
        tenant = tenant or request.getfixturevalue("tenant")
        with db.session(tenant_id=tenant.id) as s:
            key = iam.create_api_key(session=s, name=f"test {role}", role=role, org_id=org_id)
        return {"Authorization": f"Bearer {key.secret}"}

    return _headers


@pytest.fixture
def owner_client(app: FastAPI, auth_headers: AuthHeaders, tenant: TenantOut) -> Iterator[TestClient]:
    """A client of the app that sends an owner API key of ``tenant`` (``client`` stays anonymous)."""
    with TestClient(app, headers=auth_headers("owner", tenant)) as c:
        yield c


@pytest.fixture
def console_login() -> ConsoleLogin:
    """Factory: ``console_login(client, email, password=...)`` -> the session's CSRF token."""

    def _login(client: TestClient, email: str, password: str = DEFAULT_PASSWORD, **_: Any) -> str:
        page = client.get("/login")
        assert page.status_code == 200, page.text
        form_token = client.cookies.get(LOGIN_CSRF_COOKIE)
        assert form_token, "GET /login did not set the login CSRF cookie"
        resp = client.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": form_token},
            follow_redirects=False,
        )
        assert resp.status_code == 303, resp.text
        me = client.get("/api/v1/me")
        assert me.status_code == 200, me.text
        token: str = me.json()["csrf_token"]
        return token

    return _login
