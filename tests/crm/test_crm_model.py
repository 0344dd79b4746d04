"""The win-rate model: it recovers the generator's known signal, is calibrated, beats the
salespeople's own estimates on calibration, falls back to stage priors with little data, trains as
a job, is stored per tenant and version, and explains each open opportunity's probability."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from bcone.core.db import Database
from bcone.core.jobs import get_job, run_pending
from bcone.core.pagination import PageParams
from bcone.crm import _winmodel as wm
from bcone.crm import service
from bcone.crm.errors import ModelNotFound
from bcone.crm.schemas import AssessmentIn
from bcone.iam.schemas import TenantOut
from tests.crm.conftest import Sales, new_opportunity, viewer

STAGES = ["qualify", "needs", "solution", "negotiation"]
SEED = 11


@pytest.fixture(scope="module")
def trained() -> tuple[wm.TrainingSet, wm.FittedModel, dict[str, object]]:
    data = wm.deals_training_set(wm.generate_deals(8000, seed=SEED), STAGES)
    model, metrics = wm.train(data, seed=SEED)
    return data, model, metrics


def _raw_coef(model: wm.FittedModel) -> dict[str, float]:
    # Back to the features' own units: comparable with the generator's weights.
    return {f: c / s for f, c, s in zip(model.features, model.coef, model.scale, strict=True)}


def test_model_recovers_the_signs_and_order_of_the_true_weights(trained: tuple) -> None:  # type: ignore[type-arg]
    _, model, _ = trained
    coef = _raw_coef(model)
    strong = [k for k, w in wm.TRUE_ITEM_WEIGHTS.items() if w >= 0.8]
    for key in strong:
        assert coef[f"item:{key}"] > 0, key
    assert coef["item:champion"] > coef["item:economic_buyer"] > coef["item:paper_process"]
    assert coef["item:champion"] > coef["item:rel_gatekeeper"]
    assert coef["log_amount"] < 0
    assert coef["stage_reached"] > 0
    assert abs(coef["extra_stage_moves"]) < 0.3  # no effect in the generator
    # The strongest true weight is recovered within 30%.
    assert coef["item:champion"] == pytest.approx(wm.TRUE_ITEM_WEIGHTS["champion"], rel=0.3)


def test_model_is_near_the_oracle_and_calibrated(trained: tuple) -> None:  # type: ignore[type-arg]
    data, _, metrics = trained
    idx = np.arange(len(data.y))
    _, rest = train_test_split(idx, test_size=0.4, random_state=SEED, stratify=data.y)
    _, test = train_test_split(rest, test_size=0.5, random_state=SEED, stratify=data.y[rest])
    # The best any model can do on this test set: the generator's own probabilities.
    oracle = roc_auc_score(data.y[test], data.extra["true_probability"][test])
    assert metrics["n_test"] == len(test)
    calibrated = metrics["calibrated"]
    assert calibrated["auc"] >= oracle - 0.02
    assert calibrated["ece"] < 0.06
    assert metrics["raw"]["ece"] < 0.06
    # The salespeople's optimistic estimates are much worse calibrated than the model.
    own = metrics["own_estimate"]
    assert own["ece"] > 2 * calibrated["ece"]
    assert own["brier"] > calibrated["brier"]
    curve = calibrated["reliability"]
    assert len(curve) == wm.RELIABILITY_BINS
    assert sum(b["count"] for b in curve) == len(test)
    assert {g["group"] for g in metrics["by_team"]} == set(wm.TEAMS)
    assert {g["group"] for g in metrics["by_stage"]} <= set(STAGES)
    # By team too, the optimistic own estimates score a worse Brier than the model.
    for g in metrics["by_team"]:
        assert g["mean_own_estimate"] > g["win_rate"]
        assert g["own_brier"] > g["brier"]


def test_stored_params_give_the_same_probabilities(trained: tuple) -> None:  # type: ignore[type-arg]
    data, model, _ = trained
    again = wm.FittedModel.from_params(model.to_params())
    np.testing.assert_allclose(again.probability(data.x[:50]), model.probability(data.x[:50]))
    p = model.probability(data.x)
    assert p.min() >= 0
    assert p.max() <= 1


def test_ece_of_a_perfect_and_a_bad_forecaster() -> None:
    rng = np.random.default_rng(0)
    p = rng.random(20000)
    y = (rng.random(20000) < p).astype(float)
    assert wm.expected_calibration_error(y, p) < 0.02
    assert wm.expected_calibration_error(y, np.clip(p + 0.3, 0, 1)) > 0.2


def test_little_data_falls_back_to_stage_priors(db: Database, tenant: TenantOut, sales: Sales) -> None:
    with db.session(tenant_id=tenant.id) as s:
        service.generate_pipeline(session=s, closed=50, open_count=5, seed=3)
        opp = new_opportunity(s, sales.rep)
    with db.session(tenant_id=tenant.id) as s:
        assert service.train_win_model(session=s) is None
        status = service.model_status(session=s)
        assert (status.source, status.n_closed, status.model) == ("stage_prior", 50, None)
        assert "50" in status.note
        got = service.get_opportunity(opp.id, session=s, viewer=viewer(sales.rep))
        assert got.probability is not None
        assert (got.probability.source, got.probability.value) == ("stage_prior", 0.10)
        assert got.probability.note
        with pytest.raises(ModelNotFound):
            service.model_metrics(session=s)


def test_training_job_stores_a_versioned_tenant_model(
    db: Database, tenant: TenantOut, other_tenant: TenantOut, sales: Sales
) -> None:
    with db.session(tenant_id=tenant.id) as s:
        service.generate_pipeline(session=s, closed=1500, open_count=40, seed=5)
        opp = new_opportunity(s, sales.rep)
        job_id = service.enqueue_training(session=s).job_id
        assert service.enqueue_training(session=s).job_id == job_id  # one at a time
    assert run_pending(db, worker_id="test") == 1
    with db.session() as s:
        job = get_job(s, job_id)
    assert job is not None
    assert job.status == "succeeded", job
    with db.session(tenant_id=tenant.id) as s:
        status = service.model_status(session=s)
        assert status.source == "model"
        assert status.model is not None
        assert status.model.version == 1
        metrics = status.model.metrics
        assert metrics["n_closed"] == 1500
        assert metrics["calibrated"]["auc"] > 0.8
        got = service.get_opportunity(opp.id, session=s, viewer=viewer(sales.rep))
        assert got.probability is not None
        assert got.probability.source == "model"
        assert 0 < got.probability.value < 1
        assert got.probability.model_version == 1
        reasons = got.probability.reasons
        assert 1 <= len(reasons) <= 3
        assert all(r.text_zh and r.text_en for r in reasons)
        assert abs(reasons[0].contribution) >= abs(reasons[-1].contribution)
        second = service.train_win_model(session=s)
        assert second is not None
        assert second.version == 2
        page = service.list_opportunities(
            PageParams(), session=s, viewer=service.Viewer.system(), status="open"
        )
        assert page.items
        assert all(o.probability and o.probability.source == "model" for o in page.items)
    with db.session(tenant_id=other_tenant.id) as s:
        assert service.model_status(session=s).source == "stage_prior"


def test_forecast_weights_the_pipeline(db: Database, tenant: TenantOut, sales: Sales) -> None:
    with db.session(tenant_id=tenant.id) as s:
        a = new_opportunity(s, sales.rep, name="A", amount_fen=10_000_00, forecast_category="commit")
        new_opportunity(s, sales.rep2, name="B", amount_fen=30_000_00, forecast_category="best_case")
        new_opportunity(s, sales.other_team_rep, name="C", amount_fen=50_000_00)
        service.record_assessment(
            a.id,
            AssessmentIn(scores={"identify_pain": 1, "metrics": 1}),
            session=s,
            viewer=viewer(sales.rep),
        )
        service.move_stage(a.id, "needs", session=s, viewer=viewer(sales.rep))
    with db.session(tenant_id=tenant.id) as s:
        total = service.forecast(session=s, viewer=service.Viewer.system(), by="quarter").total
        assert total.open_count == 3
        assert total.pipeline_fen == 90_000_00
        # Stage priors: A is at "needs" (0.25), B and C at "qualify" (0.10).
        assert total.weighted_fen == round(10_000_00 * 0.25 + 30_000_00 * 0.1 + 50_000_00 * 0.1)
        assert (total.commit_fen, total.best_case_fen) == (10_000_00, 40_000_00)
        by_team = service.forecast(session=s, viewer=viewer(sales.manager), by="team")
        assert [r.label for r in by_team.rows] == ["华东一组"]
        assert by_team.total.pipeline_fen == 40_000_00
        by_owner = service.forecast(session=s, viewer=service.Viewer.system(), by="owner")
        assert {r.label for r in by_owner.rows} == {
            sales.rep.display_name,
            sales.rep2.display_name,
            sales.other_team_rep.display_name,
        }
