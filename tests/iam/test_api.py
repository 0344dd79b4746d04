"""The iam HTTP API: tenants, /me, users, API keys, roles and tenant isolation."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from bcone.core.db import Database, utcnow
from bcone.iam import service
from bcone.iam.credentials import LAST_USED_RESOLUTION
from bcone.iam.models import ApiKey
from bcone.iam.schemas import TenantOut, UserUpdate
from tests.fixtures_iam import AuthHeaders, ConsoleLogin, MakeUser

NEW_USER = {
    "email": "li.na@acme.example",
    "display_name": "Li Na",
    "password": "0123456789ab",
    "role": "marketer",
}


def test_me_shows_the_caller(owner_client: TestClient, tenant: TenantOut) -> None:
    body = owner_client.get("/api/v1/me").json()
    assert body["via"] == "api_key"
    assert body["tenant_slug"] == "acme"
    assert body["tenant_id"] == tenant.id
    assert body["role"] == "owner"


def test_anonymous_and_bad_keys_get_401(client: TestClient, tenant: TenantOut) -> None:
    assert client.get("/api/v1/me").status_code == 401
    for header in ("Bearer bk_not-a-real-key", "Bearer something", "Basic dXNlcjpwYXNz"):
        resp = client.get("/api/v1/me", headers={"Authorization": header})
        assert resp.status_code == 401
        assert resp.headers["content-type"].startswith("application/problem+json")


def test_owner_creates_lists_and_updates_users(owner_client: TestClient) -> None:
    created = owner_client.post("/api/v1/users", json=NEW_USER)
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["email"] == NEW_USER["email"]
    assert "password" not in user
    assert "password_hash" not in user
    listed = owner_client.get("/api/v1/users", params={"q": "li na"}).json()
    assert listed["total"] == 1
    assert listed["items"][0]["id"] == user["id"]
    changed = owner_client.patch(
        f"/api/v1/users/{user['id']}", json={"role": "analyst", "display_name": "Li N."}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "analyst"
    assert changed.json()["display_name"] == "Li N."
    assert owner_client.post("/api/v1/users", json=NEW_USER).json()["code"] == "email_taken"


def test_validation_errors_name_the_field(owner_client: TestClient) -> None:
    cases = {
        "email": {**NEW_USER, "email": "not-an-email"},
        "password": {**NEW_USER, "password": "short"},
        "role": {**NEW_USER, "role": "emperor"},
    }
    for field, body in cases.items():
        resp = owner_client.post("/api/v1/users", json=body)
        assert resp.status_code == 422, resp.text
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert resp.json()["field"] == field
    partner = owner_client.post("/api/v1/users", json={**NEW_USER, "role": "partner"})
    assert partner.status_code == 422
    assert partner.json()["code"] == "partner_needs_org"
    assert partner.json()["field"] == "org_id"
    assert owner_client.get("/api/v1/users").json()["total"] == 0


def test_roles_are_enforced(client: TestClient, auth_headers: AuthHeaders, make_user: MakeUser) -> None:
    marketer = auth_headers("marketer")
    assert client.get("/api/v1/users", headers=marketer).status_code == 403
    assert client.post("/api/v1/users", json=NEW_USER, headers=marketer).json()["code"] == "forbidden"
    assert client.get("/api/v1/api-keys", headers=marketer).status_code == 403
    assert client.get("/api/v1/tenants", headers=auth_headers("owner")).status_code == 403
    admin = auth_headers("admin")
    owner_body = {**NEW_USER, "role": "owner"}
    denied = client.post("/api/v1/users", json=owner_body, headers=admin)
    assert denied.status_code == 403
    assert denied.json()["code"] == "owner_role_reserved"
    assert client.post("/api/v1/users", json=NEW_USER, headers=admin).status_code == 201
    owner = make_user("owner")
    changed_owner = client.patch(f"/api/v1/users/{owner.id}", json={"status": "disabled"}, headers=admin)
    assert changed_owner.status_code == 403
    assert (
        client.post(
            "/api/v1/users", json=owner_body | {"email": "o@acme.example"}, headers=auth_headers()
        ).status_code
        == 201
    )


def test_another_tenants_user_is_not_found(
    owner_client: TestClient, other_tenant: TenantOut, make_user: MakeUser, db: Database
) -> None:
    theirs = make_user("admin", tenant=other_tenant)
    assert owner_client.get(f"/api/v1/users/{theirs.id}").status_code == 404
    resp = owner_client.patch(f"/api/v1/users/{theirs.id}", json={"status": "disabled", "role": "analyst"})
    assert resp.status_code == 404
    assert resp.json()["code"] == "user_not_found"
    assert theirs.id not in {u["id"] for u in owner_client.get("/api/v1/users").json()["items"]}
    with db.session(tenant_id=other_tenant.id) as s:
        unchanged = service.get_user(theirs.id, session=s)
    assert unchanged.status == "active"
    assert unchanged.role is not None
    assert unchanged.role.value == "admin"


def test_another_tenants_api_key_cannot_be_revoked(
    owner_client: TestClient, other_tenant: TenantOut, db: Database, client: TestClient
) -> None:
    with db.session(tenant_id=other_tenant.id) as s:
        theirs = service.create_api_key(session=s, name="globex erp", role="analyst")
    assert owner_client.delete(f"/api/v1/api-keys/{theirs.id}").status_code == 404
    assert theirs.id not in {k["id"] for k in owner_client.get("/api/v1/api-keys").json()["items"]}
    still = client.get("/api/v1/me", headers={"Authorization": f"Bearer {theirs.secret}"})
    assert still.status_code == 200
    assert still.json()["tenant_id"] == other_tenant.id


def test_api_key_lifecycle(owner_client: TestClient, client: TestClient, db: Database) -> None:
    created = owner_client.post("/api/v1/api-keys", json={"name": "ERP sync", "role": "analyst"})
    assert created.status_code == 201, created.text
    key = created.json()
    secret = key["secret"]
    assert secret.startswith("bk_")
    assert key["prefix"] == secret[:11]
    listed = owner_client.get("/api/v1/api-keys").json()["items"]
    assert all("secret" not in k for k in listed)
    assert any(k["id"] == key["id"] for k in listed)
    headers = {"Authorization": f"Bearer {secret}"}
    me = client.get("/api/v1/me", headers=headers).json()
    assert me["role"] == "analyst"
    assert me["api_key_id"] == key["id"]
    assert owner_client.delete(f"/api/v1/api-keys/{key['id']}").status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_expired_key_and_suspended_tenant_are_refused(
    client: TestClient, db: Database, tenant: TenantOut, auth_headers: AuthHeaders
) -> None:
    with db.session(tenant_id=tenant.id) as s:
        soon = service.create_api_key(
            session=s, name="short", role="analyst", expires_at=utcnow() + timedelta(hours=1)
        )
    headers = {"Authorization": f"Bearer {soon.secret}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    with db.session(tenant_id=tenant.id) as s:
        s.execute(
            update(ApiKey).where(ApiKey.id == soon.id).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    owner = auth_headers("owner")
    assert client.get("/api/v1/me", headers=owner).status_code == 200
    with db.session() as s:
        service.set_tenant_status(tenant.id, "suspended", session=s)
    assert client.get("/api/v1/me", headers=owner).status_code == 401


def test_key_of_a_disabled_creator_stops_working(
    client: TestClient, db: Database, tenant: TenantOut, make_user: MakeUser
) -> None:
    make_user("owner")
    admin = make_user("admin")
    with db.session(tenant_id=tenant.id) as s:
        key = service.create_api_key(session=s, name="admin's", role="analyst", created_by=admin.id)
    headers = {"Authorization": f"Bearer {key.secret}"}
    assert client.get("/api/v1/me", headers=headers).json()["user_id"] == admin.id
    with db.session(tenant_id=tenant.id) as s:
        service.update_user(admin.id, UserUpdate(status="disabled"), session=s)
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_last_used_is_written_at_most_every_few_minutes(
    client: TestClient, db: Database, tenant: TenantOut
) -> None:
    with db.session(tenant_id=tenant.id) as s:
        key = service.create_api_key(session=s, name="busy", role="analyst")
    headers = {"Authorization": f"Bearer {key.secret}"}

    def last_used() -> object:
        with db.session(tenant_id=tenant.id) as s:
            return s.get_one(ApiKey, key.id).last_used_at

    client.get("/api/v1/me", headers=headers)
    first = last_used()
    assert first is not None
    client.get("/api/v1/me", headers=headers)
    assert last_used() == first  # within the resolution: no write
    stale = utcnow() - LAST_USED_RESOLUTION - timedelta(seconds=1)
    with db.session(tenant_id=tenant.id) as s:
        s.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=stale))
    client.get("/api/v1/me", headers=headers)
    assert last_used() != first


def test_operator_creates_and_lists_tenants(
    client: TestClient, make_user: MakeUser, console_login: ConsoleLogin
) -> None:
    operator = make_user("operator")
    csrf = console_login(client, operator.email)
    me = client.get("/api/v1/me").json()
    assert me["is_operator"] is True
    assert me["tenant_id"] is None
    resp = client.post(
        "/api/v1/tenants", json={"slug": "initech", "name": "Initech"}, headers={"X-CSRF-Token": csrf}
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["status"] == "active"
    dup = client.post(
        "/api/v1/tenants", json={"slug": "initech", "name": "Again"}, headers={"X-CSRF-Token": csrf}
    )
    assert dup.status_code == 409
    assert dup.json()["code"] == "tenant_slug_taken"
    bad = client.post(
        "/api/v1/tenants", json={"slug": "Bad Slug", "name": "x"}, headers={"X-CSRF-Token": csrf}
    )
    assert bad.status_code == 422
    assert bad.json()["field"] == "slug"
    assert [t["slug"] for t in client.get("/api/v1/tenants").json()["items"]] == ["initech"]
    # The operator belongs to no tenant: tenant endpoints refuse it.
    assert client.get("/api/v1/users").status_code == 403
