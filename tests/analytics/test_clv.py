"""The lifetime-value models against the published CDNOW estimates, against ``lifetimes``, and
against data simulated from the models with known parameters."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from bcone.analytics._clv import (
    BetaGeo,
    FitFailed,
    GammaGamma,
    ParetoNBD,
    customer_lifetime_value,
    simulate_bgnbd,
)

DATA = Path(__file__).parent / "data" / "cdnow_summary.csv"


@pytest.fixture(scope="module")
def cdnow() -> dict[str, np.ndarray]:
    with DATA.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2357
    return {
        name: np.array([float(r[column]) for r in rows])
        for name, column in (("x", "x"), ("t_x", "t_x"), ("T", "T"), ("m", "zbar"))
    }


def close(params: dict[str, float], published: dict[str, float], tolerance: float = 0.01) -> None:
    for name, value in published.items():
        assert params[name] == pytest.approx(value, rel=tolerance), name


def test_bgnbd_reproduces_the_published_cdnow_estimates(cdnow: dict[str, np.ndarray]) -> None:
    model = BetaGeo.fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    close(model.params, {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    assert model.log_likelihood == pytest.approx(-9582.4, abs=0.1)


def test_pareto_nbd_reproduces_the_published_cdnow_estimates(cdnow: dict[str, np.ndarray]) -> None:
    model = ParetoNBD.fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    close(model.params, {"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67})
    assert model.log_likelihood == pytest.approx(-9595.0, abs=0.1)


def test_gamma_gamma_reproduces_the_published_cdnow_estimates(cdnow: dict[str, np.ndarray]) -> None:
    model = GammaGamma.fit(cdnow["x"], cdnow["m"])
    close(model.params, {"p": 6.25, "q": 3.74, "v": 15.44})
    # The spend model's population mean is p v / (q - 1) for a customer without repeat purchases.
    assert model.expected_average_value([0], [0])[0] == pytest.approx(model.p * model.v / (model.q - 1))


def test_predictions_follow_the_papers_examples(cdnow: dict[str, np.ndarray]) -> None:
    model = BetaGeo.fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    # Fader, Hardie and Lee (2005), section 5: a customer with x=2, t_x=30.43, T=38.86 is
    # expected to make 1.226 purchases in the next 39 weeks.
    assert model.conditional_expected_purchases(39, [2], [30.43], [38.86])[0] == pytest.approx(
        1.226, abs=0.002
    )
    # Somebody who never came back is alive for sure under BG/NBD (dropout follows a purchase).
    assert model.probability_alive([0], [0], [38.86])[0] == 1.0
    # A frequent buyer long silent is probably gone; one who just bought is probably not.
    gone, active = model.probability_alive([10, 10], [5.0, 38.0], [38.86, 38.86])
    assert gone < 0.1 < 0.9 < active
    assert float(model.expected_purchases(39)) == pytest.approx(1.195, abs=0.002)


def test_lifetime_value_is_discounted_expected_purchases_times_value(cdnow: dict[str, np.ndarray]) -> None:
    model = BetaGeo.fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    spend = GammaGamma.fit(cdnow["x"], cdnow["m"])
    x, t_x, T, m = (cdnow[k][:50] for k in ("x", "t_x", "T", "m"))
    undiscounted = customer_lifetime_value(model, spend, x, t_x, T, m, horizon=20)
    expected = model.conditional_expected_purchases(20.0, x, t_x, T) * spend.expected_average_value(x, m)
    np.testing.assert_allclose(undiscounted, expected, rtol=1e-10)
    discounted = customer_lifetime_value(model, spend, x, t_x, T, m, horizon=20, discount_rate=0.01)
    assert np.all(discounted < undiscounted)


def test_bgnbd_recovers_the_parameters_of_simulated_customers() -> None:
    truth = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
    x, t_x, T = simulate_bgnbd(20_000, T=52.0, seed=3, **truth)
    model = BetaGeo.fit(x, t_x, T)
    close(model.params, truth, tolerance=0.12)


@pytest.mark.parametrize(
    ("x", "t_x", "T"),
    [([], [], []), ([-1], [0], [5]), ([1.5], [1], [5]), ([2], [6], [5]), ([0], [1], [5]), ([1], [1], [0])],
)
def test_impossible_summaries_are_refused(x: list[float], t_x: list[float], T: list[float]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies with the fault
        BetaGeo.fit(x, t_x, T)


def test_spend_model_needs_repeat_buyers_with_positive_values() -> None:
    with pytest.raises(ValueError, match="no repeat customers"):
        GammaGamma.fit([0, 0], [0, 0])
    with pytest.raises(ValueError, match="must be > 0"):
        GammaGamma.fit([1, 2], [10.0, 0.0])
    assert issubclass(FitFailed, ValueError)


def test_same_fit_as_lifetimes(cdnow: dict[str, np.ndarray]) -> None:
    lifetimes = pytest.importorskip("lifetimes")
    x, t_x, T, m = cdnow["x"], cdnow["t_x"], cdnow["T"], cdnow["m"]
    ours = BetaGeo.fit(x, t_x, T)
    theirs = lifetimes.BetaGeoFitter().fit(x, t_x, T)
    close(ours.params, dict(theirs.params_), tolerance=1e-3)
    np.testing.assert_allclose(
        ours.conditional_expected_purchases(10.0, x, t_x, T),
        theirs.conditional_expected_number_of_purchases_up_to_time(10, x, t_x, T),
        rtol=1e-3,
    )
    np.testing.assert_allclose(
        ours.probability_alive(x, t_x, T), theirs.conditional_probability_alive(x, t_x, T), rtol=1e-3
    )
    pareto = ParetoNBD.fit(x, t_x, T)
    their_pareto = lifetimes.ParetoNBDFitter().fit(x, t_x, T)
    close(pareto.params, dict(their_pareto.params_), tolerance=1e-3)
    np.testing.assert_allclose(
        pareto.probability_alive(x, t_x, T), their_pareto.conditional_probability_alive(x, t_x, T), rtol=1e-3
    )
    spend = GammaGamma.fit(x, m)
    their_spend = lifetimes.GammaGammaFitter().fit(x[x > 0], m[x > 0])
    close(spend.params, dict(their_spend.params_), tolerance=1e-3)


def test_bgnbd_gradient_is_the_derivative_of_the_likelihood() -> None:
    from bcone.analytics._clv import bgnbd_gradient, bgnbd_log_likelihood

    x, t_x, T = simulate_bgnbd(2_000, r=0.3, alpha=4.0, a=0.8, b=2.5, T=40.0, seed=2)
    params = np.array([0.3, 4.2, 0.7, 2.2])
    analytic = bgnbd_gradient(params, x, t_x, T, np.ones_like(x))
    numeric = []
    for i in range(4):
        step = np.zeros(4)
        step[i] = 1e-6 * params[i]
        up = bgnbd_log_likelihood(params + step, x, t_x, T).sum()
        down = bgnbd_log_likelihood(params - step, x, t_x, T).sum()
        numeric.append((up - down) / (2 * step[i]))
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5)
