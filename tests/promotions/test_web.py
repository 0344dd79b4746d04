"""The promotions console: list, editor (create, edit, errors), actions and live figures."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from bcone.iam.schemas import TenantOut
from tests.fixtures_iam import ConsoleLogin, MakeUser


def test_console_create_edit_activate_and_figures(
    client: TestClient, tenant: TenantOut, make_user: MakeUser, console_login: ConsoleLogin
) -> None:
    csrf = console_login(client, make_user("owner").email)
    empty = client.get("/promotions")
    assert empty.status_code == 200
    assert 'id="campaigns-empty"' in empty.text
    assert 'href="/promotions"' in empty.text  # the nav entry
    bad = client.post(
        "/promotions",
        data={"csrf_token": csrf, "name": "夏季", "prizes": "red_packet,0.8,100\npoints,0.5,10"},
    )
    assert bad.status_code == 422
    assert 'data-field="prizes"' in bad.text
    created = client.post(
        "/promotions",
        data={
            "csrf_token": csrf,
            "name": "夏季扫码",
            "budget_fen": "5000",
            "gtins": "06901234567892",
            "prizes": "red_packet,0.1,188\nrandom_red_packet,0.2,50-500\ncoupon,0.05,SAVE5",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    url = created.headers["location"]
    page = client.get(url)
    assert page.status_code == 200
    assert "random_red_packet,0.2,50-500" in page.text
    assert 'data-status="draft"' in page.text
    edited = client.post(
        url, data={"csrf_token": csrf, "name": "夏季扫码", "budget_fen": "8000", "prizes": "points,0.5,10"}
    )
    assert edited.status_code == 200
    assert "points,0.5,10" in edited.text
    activated = client.post(f"{url}/activate", data={"csrf_token": csrf})
    assert 'data-status="active"' in activated.text
    assert re.search(r'id="fig-left">\s*¥80\.00', activated.text)
    assert "echarts.min.js" in activated.text
    english = client.get(f"/lang/en?next={url}")
    assert "Live figures" in english.text
    assert "Scan rewards" in english.text
