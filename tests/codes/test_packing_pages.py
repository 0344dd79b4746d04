"""Console pages: packing/shipping and diversion, zh-CN and English."""

from __future__ import annotations

from fastapi.testclient import TestClient
from httpx import Response

from bcone.codes import service
from bcone.codes.schemas import Location
from bcone.core.db import Database
from bcone.iam.schemas import TenantOut
from tests.codes.conftest import GTIN14, TenantSession
from tests.codes.test_packing import Line
from tests.codes.test_packing import line as line
from tests.fixtures_iam import ConsoleLogin, MakeUser


def test_packing_and_diversion_pages(
    client: TestClient,
    make_user: MakeUser,
    console_login: ConsoleLogin,
    line: Line,
    tenant_session: TenantSession,
    secret: str,
    db: Database,
    tenant: TenantOut,
) -> None:
    user = make_user(role="owner")
    token = console_login(client, user.email)
    with tenant_session() as s:
        service.commission(line.units[:3] + line.cases[:1], session=s, secret_key=secret)
        service.aggregate(line.cases[0], line.units[:3], session=s, secret_key=secret)
    page = client.get("/codes/packing")
    assert page.status_code == 200
    assert "装箱" in page.text
    assert line.cases[0] in page.text
    bad = client.post(
        "/codes/packing/ship",
        data={"serials": line.units[0], "destination_org_id": line.distributor, "csrf_token": token},
    )
    assert bad.status_code == 409
    assert "serials[0]" in bad.text
    done = client.post(
        "/codes/packing/ship",
        data={"serials": line.cases[0], "destination_org_id": line.distributor, "csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    with db.session() as s:
        service.check_code(GTIN14, line.units[1], Location(region="310104"), session=s, secret_key=secret)
    page = client.get("/codes/diversion")
    assert page.status_code == 200
    assert line.units[1] in page.text
    assert "超出经销商销售区域" in page.text
    assert "diversion-data" in page.text
    filtered = client.get("/codes/diversion", params={"province": "110000"})
    assert line.units[1] not in filtered.text
    english = client.get("/codes/diversion", headers={"Accept-Language": "en"})
    assert "Outside the distributor" in english.text
    assert client.get("/codes/assets/diversion.js").status_code == 200


def test_packing_forms_commission_pack_unpack_and_receive(
    client: TestClient,
    make_user: MakeUser,
    console_login: ConsoleLogin,
    line: Line,
    tenant_session: TenantSession,
    secret: str,
) -> None:
    token = console_login(client, make_user(role="owner").email)
    page = client.get("/codes/packing")
    for form in ("commission-form", "aggregate-form", "disaggregate-form", "receive-form", "ship-form"):
        assert f'id="{form}"' in page.text

    def post(action: str, **data: str) -> Response:
        answer: Response = client.post(
            f"/codes/packing/op/{action}", data={"csrf_token": token, **data}, follow_redirects=False
        )
        return answer

    units = "\n".join(line.units[:2])
    done = post("commission", serials=f"{units}\n{line.cases[0]}")
    assert done.status_code == 303
    again = post("commission", serials=line.units[0])
    assert again.status_code == 409
    assert 'id="commission-error"' in again.text
    assert 'data-field="serials[0]"' in again.text
    bad = post("aggregate", parent=line.cases[0], serials=f"{line.units[0]},NOT-A-CODE")
    assert bad.status_code == 422
    assert 'id="aggregate-error"' in bad.text
    assert post("aggregate", parent=line.cases[0], serials=units).status_code == 303
    with tenant_session() as s:
        assert service.whereabouts(line.units[0], session=s, secret_key=secret).containers == [line.cases[0]]
    assert post("disaggregate", parent=line.cases[0]).status_code == 303
    with tenant_session() as s:
        assert service.whereabouts(line.units[0], session=s, secret_key=secret).containers == []
    client.post(
        "/codes/packing/ship",
        data={"serials": line.units[0], "destination_org_id": line.distributor, "csrf_token": token},
    )
    received = post("receive", serials=line.units[0], org_id=line.distributor)
    assert received.status_code == 303
    with tenant_session() as s:
        assert service.whereabouts(line.units[0], session=s, secret_key=secret).status == "received"
