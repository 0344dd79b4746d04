"""NPS: surveys, the public answer page and API, the ``nps.responded`` events, and the report on
DuckDB and chDB compared with plain Python."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bcone.analytics import service
from bcone.analytics.errors import InvalidParameter, InvalidScore, SurveyClosed
from bcone.analytics.schemas import ResponseIn, SurveyIn
from bcone.core.db import Database
from bcone.core.events import Event, flush_outbox
from bcone.core.settings import Settings
from bcone.core.warehouse import Warehouse, open_warehouse, warehouse_from_url
from bcone.iam.schemas import TenantOut
from tests.fixtures_iam import AuthHeaders, ConsoleLogin, MakeUser

TENANT = "brand-n"
DAY = date(2025, 7, 10)
STORES = ("S1", "S2", "S3")
SKUS = ("SKU-A", "SKU-B")
REGIONS = ("310101", "440305")


def nps_events(n: int = 300, seed: int = 3) -> list[Event]:
    rng = random.Random(seed)
    start = datetime(2025, 5, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        store = rng.choice(STORES)
        # Each store has its own mood, so the groups differ.
        score = min(10, max(0, round(rng.gauss({"S1": 9, "S2": 7, "S3": 5}[store], 2))))
        out.append(
            Event(
                event_id=f"nps-{i}",
                tenant_id=TENANT,
                ts=start + timedelta(hours=5 * i),
                type="nps.responded",
                org_id=store,
                sku=rng.choice(SKUS),
                region=rng.choice(REGIONS),
                properties={"score": score, "survey_id": "sv1" if i % 4 else "sv2"},
            )
        )
    # an answer without a score and another tenant's never count
    out.append(Event(event_id="bad", tenant_id=TENANT, ts=start, type="nps.responded", properties={}))
    out.append(Event(event_id="o", tenant_id="x", ts=start, type="nps.responded", properties={"score": 0}))
    return out


EVENTS = nps_events()


def expected(key: str, survey: str | None = None) -> dict[str, tuple[int, int, int, int]]:
    acc: dict[str, list[int]] = {}
    for e in EVENTS:
        if e.tenant_id != TENANT or "score" not in e.properties:
            continue
        if survey and e.properties["survey_id"] != survey:
            continue
        k = getattr(e, key) or ""
        a = acc.setdefault(k, [0, 0, 0, 0])
        s = e.properties["score"]
        a[0] += 1
        a[1] += s >= 9
        a[2] += 7 <= s <= 8
        a[3] += s <= 6
    return {k: tuple(v) for k, v in acc.items()}  # type: ignore[misc]


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Warehouse, Warehouse]]:
    duck = warehouse_from_url(f"duckdb:///{tmp_path_factory.mktemp('nps') / 'w.duckdb'}")
    ch = warehouse_from_url("chdb://")
    for wh in (duck, ch):
        wh.ensure_schema()
        wh.insert_events(EVENTS)
    yield duck, ch
    duck.close()
    ch.close()


@pytest.mark.parametrize(("breakdown", "attr"), [("store", "org_id"), ("region", "region"), ("sku", "sku")])
@pytest.mark.parametrize("survey", [None, "sv2"])
def test_nps_report_is_the_same_on_both_engines_and_right(
    engines: tuple[Warehouse, Warehouse], breakdown: str, attr: str, survey: str | None
) -> None:
    duck, ch = engines
    since, until = date(2025, 5, 1), DAY
    a = service.nps(duck, TENANT, since=since, until=until, breakdown=breakdown, survey_id=survey)
    b = service.nps(ch, TENANT, since=since, until=until, breakdown=breakdown, survey_id=survey)
    assert a == b
    want = expected(attr, survey)
    assert {g.key: (g.responses, g.promoters, g.passives, g.detractors) for g in a.groups} == want
    for g in a.groups:
        assert g.nps == round(100 * (g.promoters - g.detractors) / g.responses, 2)
    assert a.total.responses == sum(v[0] for v in want.values())
    assert sum(p.responses for p in a.series) == a.total.responses
    if breakdown == "store":
        by = {g.key: g.nps for g in a.groups}
        assert by["S1"] > by["S2"] > by["S3"]
    if breakdown == "region":
        assert {g.key: g.label for g in a.groups}["310101"] == "黄浦区"


def test_nps_bad_input(engines: tuple[Warehouse, Warehouse]) -> None:
    with pytest.raises(InvalidParameter) as caught:
        service.nps(engines[0], TENANT, breakdown="city")
    assert caught.value.field == "breakdown"
    for bad in (11, -1, "9.5", "ten", None, True, ""):
        with pytest.raises(InvalidScore) as score:
            service.check_score(bad)
        assert score.value.field == "score"
    assert service.check_score("10") == 10
    assert service.check_score(0) == 0


def test_answers_are_stored_and_become_events(db: Database, tenant: TenantOut, settings: Settings) -> None:
    with db.session(tenant_id=tenant.id) as s:
        survey = service.create_survey(SurveyIn(name="扫码后调查"), session=s)
    assert survey.url == f"/nps/{survey.id}"
    with db.session() as s:
        answer = service.submit_response(
            survey.id,
            ResponseIn(score="9", comment="很好喝", org_id="S1", sku="SKU-A", region="310101", serial="X1"),
            session=s,
        )
    assert answer.score == 9
    for bad, field in (({"score": 12}, "score"), ({"score": 5, "region": "999999"}, "region")):
        with (
            pytest.raises(InvalidParameter if field == "region" else InvalidScore) as caught,
            db.session() as s,
        ):
            service.submit_response(survey.id, ResponseIn(**bad), session=s)  # type: ignore[arg-type]
        assert caught.value.field == field
    with db.session(tenant_id=tenant.id) as s:
        listed = service.list_surveys(session=s)
        assert [(x.id, x.responses) for x in listed] == [(survey.id, 1)]  # nothing half-written
        service.set_survey_status(survey.id, "closed", session=s)
    with pytest.raises(SurveyClosed) as closed, db.session() as s:
        service.submit_response(survey.id, ResponseIn(score=3), session=s)
    assert getattr(closed.value, "status", None) == 409
    with open_warehouse(settings) as wh:
        wh.ensure_schema()
        flush_outbox(db, wh)
        report = service.nps(wh, tenant.id, breakdown="sku")
    assert [(g.key, g.responses, g.promoters) for g in report.groups] == [("SKU-A", 1, 1)]
    assert report.total.nps == 100.0


@pytest.fixture
def console(app: FastAPI, make_user: MakeUser, console_login: ConsoleLogin) -> Iterator[TestClient]:
    user = make_user(role="owner")
    with TestClient(app) as c:
        c.headers["X-CSRF-Token"] = console_login(c, user.email)
        yield c


def test_surveys_are_created_from_the_console(console: TestClient) -> None:
    made = console.post("/analytics/nps/surveys", data={"name": "门店满意度"}, follow_redirects=False)
    assert made.status_code == 303, made.text
    page = console.get(made.headers["location"])
    assert "门店满意度" in page.text
    assert 'id="nps-surveys"' in page.text
    nameless = console.post("/analytics/nps/surveys", data={"name": " "})
    assert nameless.status_code == 422
    assert nameless.json()["field"] == "name"


def test_public_page_api_and_console(
    app: FastAPI, console: TestClient, auth_headers: AuthHeaders, tenant: TenantOut, db: Database
) -> None:
    with TestClient(app, headers=auth_headers("owner", tenant)) as api:
        created = api.post("/api/v1/analytics/nps/surveys", json={"name": "门店口碑"})
        assert created.status_code == 201, created.text
        survey = created.json()
    public = TestClient(app)
    page = public.get(
        survey["url"], params={"org_id": "S9", "sku": "SKU-B", "region": "440305", "serial": "Z9"}
    )
    assert page.status_code == 200
    assert 'name="score"' in page.text
    assert 'value="SKU-B"' in page.text
    bad = public.post(survey["url"], data={"score": "", "sku": "SKU-B"})
    assert bad.status_code == 422
    assert 'data-field="score"' in bad.text
    ok = public.post(
        survey["url"], data={"score": "3", "comment": "太甜了", "org_id": "S9", "region": "440305"}
    )
    assert ok.status_code == 200
    assert 'id="nps-thanks"' in ok.text
    via_api = public.post(f"/api/v1/analytics/nps/surveys/{survey['id']}/responses", json={"score": 42})
    assert via_api.status_code == 422
    assert via_api.json()["field"] == "score"
    via_api = public.post(f"/api/v1/analytics/nps/surveys/{survey['id']}/responses", json={"score": 10})
    assert via_api.status_code == 201
    assert public.get("/nps/nope").status_code == 404
    with open_warehouse(app.state.settings) as wh:
        wh.ensure_schema()
        flush_outbox(db, wh)
    page = console.get("/analytics/nps", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200, page.text
    assert 'id="nps-chart"' in page.text
    assert "太甜了" in page.text
    assert survey["url"] in page.text
    region = console.get("/analytics/nps", params={"breakdown": "region"})
    assert "南山区" in region.text
    wrong = console.get("/analytics/nps", params={"breakdown": "city"})
    assert wrong.status_code == 422
    assert 'data-field="breakdown"' in wrong.text
