"""Customer lifetime value: BG/NBD, Pareto/NBD and Gamma-Gamma, fitted by maximum likelihood.

Each model takes the per-customer summary of a purchase history in the usual notation:

- ``frequency`` (x): repeat purchases, i.e. purchase periods after the first one;
- ``recency`` (t_x): time from the first purchase to the last one (0 when x = 0);
- ``T``: time from the first purchase to the end of the observation;
- ``monetary`` (m_x): average value of the repeat purchases (Gamma-Gamma, customers with x > 0).

The log-likelihoods are vectorised over customers with ``scipy.special`` (``gammaln``,
``betaln``, ``hyp2f1``) and maximised with ``scipy.optimize.minimize`` on the logarithms of the
parameters, so every parameter stays positive without bounds. Identical summaries are collapsed
into one row with a weight first: real histories repeat a lot (every one-off buyer observed
for the same time has the same summary), which makes each likelihood evaluation cheaper.

References: Fader, Hardie and Lee, "Counting Your Customers the Easy Way: An Alternative to the
Pareto/NBD Model" (Marketing Science, 2005); Fader and Hardie, "A Note on Deriving the
Pareto/NBD Model and Related Expressions" (2005); Fader, Hardie and Lee, "RFM and CLV: Using
Iso-Value Curves for Customer Base Analysis" (JMR, 2005), and "The Gamma-Gamma Model of
Monetary Value" (Fader and Hardie, 2013).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1, logsumexp

Array = NDArray[np.float64]

# What the objective returns where the likelihood cannot be evaluated (the mean per customer is
# of order 1 to 10 at sensible parameters).
_PENALTY = 1e6


class FitFailed(ValueError):
    """The optimiser did not converge or the data cannot identify the model."""


@dataclass(frozen=True)
class FitResult:
    """Parameters by name, the maximised log-likelihood and the number of customers."""

    params: dict[str, float]
    log_likelihood: float
    customers: int
    iterations: int


def _as_arrays(*values: ArrayLike) -> list[Array]:
    arrays = [np.asarray(v, dtype=np.float64) for v in values]
    shape = arrays[0].shape
    if any(a.shape != shape for a in arrays) or arrays[0].ndim != 1:
        raise ValueError("the summary columns must be one-dimensional and of the same length")
    return arrays


def check_summary(frequency: Array, recency: Array, T: Array) -> None:
    """Refuse summaries that no purchase history can produce."""
    if frequency.size == 0:
        raise ValueError("no customers to fit")
    if np.any(frequency < 0) or np.any(frequency != np.floor(frequency)):
        raise ValueError("frequency must be a whole number >= 0")
    if np.any(recency < 0) or np.any(recency > T):
        raise ValueError("recency must lie between 0 and T")
    if np.any(T <= 0):
        raise ValueError("T must be > 0")
    if np.any((frequency == 0) & (recency != 0)):
        raise ValueError("recency must be 0 for customers without repeat purchases")


def _collapse(*columns: Array) -> tuple[list[Array], Array]:
    """Distinct rows of ``columns`` and how often each occurs."""
    stacked = np.column_stack(columns)
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return [unique[:, i] for i in range(unique.shape[1])], counts.astype(np.float64)


def _maximise(
    neg_ll: Callable[[Array], float],
    names: tuple[str, ...],
    customers: int,
    gradient: Callable[[Array], Array] | None = None,
) -> FitResult:
    """Minimise ``neg_ll`` (mean negative log-likelihood per customer) over log-parameters.

    With an analytic ``gradient`` (of ``neg_ll`` with respect to the natural parameters) BFGS
    runs alone; otherwise Nelder-Mead finds the basin (the likelihoods have flat ridges) and BFGS
    with numerical gradients polishes it. The better of the runs wins.
    """
    x0 = np.zeros(len(names))  # every parameter starts at 1

    def objective(log_params: Array) -> float:
        with np.errstate(all="ignore"):
            value = neg_ll(np.exp(log_params))
        return value if np.isfinite(value) else _PENALTY

    def jacobian(log_params: Array) -> Array:
        assert gradient is not None
        params = np.exp(log_params)
        with np.errstate(all="ignore"):
            grad = gradient(params) * params  # chain rule: d/d(log p) = p d/dp
        return np.where(np.isfinite(grad), grad, 0.0)

    runs = []
    with warnings.catch_warnings():
        # Probing steps may leave the region where the likelihood is finite; the penalty sends
        # them back, and numpy's overflow notices about those probes are noise.
        warnings.simplefilter("ignore", RuntimeWarning)
        if gradient is not None:
            runs.append(minimize(objective, x0, jac=jacobian, method="BFGS", options={"gtol": 1e-9}))
        if gradient is None or not runs[0].success:
            rough = minimize(
                objective, x0, method="Nelder-Mead", options={"maxiter": 4000, "xatol": 1e-6, "fatol": 1e-10}
            )
            runs.append(rough)
            runs.append(
                minimize(
                    objective,
                    rough.x,
                    jac=jacobian if gradient else None,
                    method="BFGS",
                    options={"gtol": 1e-8},
                )
            )
    finite = [run for run in runs if np.isfinite(run.fun)]
    best = min(finite, key=lambda run: run.fun) if finite else runs[0]
    if not np.isfinite(best.fun) or best.fun >= _PENALTY:
        raise FitFailed("the likelihood could not be evaluated for these data")
    params = np.exp(best.x)
    return FitResult(
        params={name: float(v) for name, v in zip(names, params, strict=True)},
        log_likelihood=float(-best.fun * customers),
        customers=customers,
        iterations=int(sum(run.nit for run in runs)),
    )


# --- BG/NBD -------------------------------------------------------------------------------------


def bgnbd_log_likelihood(params: Array, x: Array, t_x: Array, T: Array) -> Array:
    """Per-customer log-likelihood of the BG/NBD model (Fader, Hardie and Lee 2005, eq. 6)."""
    r, alpha, a, b = params
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    a4 = np.full_like(x, -np.inf)
    xr = x[repeat]
    a4[repeat] = np.log(a) - np.log(b + xr - 1) - (r + xr) * np.log(alpha + t_x[repeat])
    return np.asarray(a1 + a2 + np.logaddexp(a3, a4), dtype=np.float64)


def bgnbd_gradient(params: Array, x: Array, t_x: Array, T: Array, weights: Array) -> Array:
    """Gradient of the weighted sum of :func:`bgnbd_log_likelihood` with respect to (r, alpha, a, b).

    With L = A1 + A2 + log(e^A3 + e^A4), the last term's derivative is w3 A3' + w4 A4' where
    w3, w4 are the shares e^A3 / (e^A3 + e^A4) and e^A4 / (e^A3 + e^A4) (w4 = 0 when x = 0).
    """
    r, alpha, a, b = params
    repeat = x > 0
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.full_like(x, -np.inf)
    xr = x[repeat]
    a4[repeat] = np.log(a) - np.log(b + xr - 1) - (r + xr) * np.log(alpha + t_x[repeat])
    total = np.logaddexp(a3, a4)
    w3 = np.exp(a3 - total)
    w4 = np.exp(a4 - total)
    log_t = np.log(alpha + T)
    log_tx = np.log(alpha + t_x)
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - w3 * log_t - w4 * log_tx
    d_alpha = r / alpha - w3 * (r + x) / (alpha + T) - w4 * (r + x) / (alpha + t_x)
    d_a = digamma(a + b) - digamma(a + b + x) + w4 / a
    d_b = digamma(b + x) - digamma(a + b + x) - digamma(b) + digamma(a + b)
    d_b = d_b - np.where(repeat, w4 / np.where(repeat, b + x - 1, 1.0), 0.0)
    return np.array([(weights * d).sum() for d in (d_r, d_alpha, d_a, d_b)])


@dataclass(frozen=True)
class BetaGeo:
    """A fitted BG/NBD model: ``r``, ``alpha`` (purchase rate), ``a``, ``b`` (dropout)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = float("nan")

    @property
    def params(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}

    @classmethod
    def fit(cls, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> BetaGeo:
        x, t_x, big_t = _as_arrays(frequency, recency, T)
        check_summary(x, t_x, big_t)
        (ux, ut, uT), weights = _collapse(x, t_x, big_t)
        total = float(weights.sum())

        def neg_ll(p: Array) -> float:
            return float(-(weights * bgnbd_log_likelihood(p, ux, ut, uT)).sum() / total)

        def gradient(p: Array) -> Array:
            return -bgnbd_gradient(p, ux, ut, uT, weights) / total

        result = _maximise(neg_ll, ("r", "alpha", "a", "b"), x.size, gradient)
        return cls(**result.params, log_likelihood=result.log_likelihood)

    def _alive_odds(self, x: Array, t_x: Array, T: Array) -> Array:
        """a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x) for x > 0, else 0."""
        odds = np.zeros_like(x)
        repeat = x > 0
        xr = x[repeat]
        log_odds = (
            np.log(self.a)
            - np.log(self.b + xr - 1)
            + (self.r + xr) * (np.log(self.alpha + T[repeat]) - np.log(self.alpha + t_x[repeat]))
        )
        odds[repeat] = np.exp(log_odds)
        return odds

    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Array:
        """P(the customer is still active at T | x, t_x, T)."""
        x, t_x, big_t = _as_arrays(frequency, recency, T)
        return np.asarray(1.0 / (1.0 + self._alive_odds(x, t_x, big_t)), dtype=np.float64)

    def expected_purchases(self, t: float | Array) -> Array:
        """E[X(t)]: purchases a new customer makes in a period of length ``t``."""
        t_arr = np.asarray(t, dtype=np.float64)
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = t_arr / (alpha + t_arr)
        value = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t_arr)) ** r * hyp2f1(r, b, a + b - 1, z))
        return np.asarray(value, dtype=np.float64)

    def conditional_expected_purchases(
        self, t: float, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> Array:
        """E[Y(t) | x, t_x, T]: purchases in the next ``t`` periods (eq. 10 of the paper)."""
        x, t_x, big_t = _as_arrays(frequency, recency, T)
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = t / (alpha + big_t + t)
        head = (a + b + x - 1) / (a - 1)
        tail = 1 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
        return np.asarray(head * tail / (1.0 + self._alive_odds(x, t_x, big_t)), dtype=np.float64)


# --- Pareto/NBD ---------------------------------------------------------------------------------


def _pareto_log_a0(params: Array, x: Array, t_x: Array, T: Array) -> Array:
    """log A0 of Fader and Hardie's note (eq. 22-23), the difference of two 2F1 terms taken in
    log space with ``logsumexp`` and signed weights so that it neither overflows nor cancels."""
    r, alpha, s, beta = params
    if alpha >= beta:
        low, high, second = beta, alpha, s + 1.0
    else:
        low, high, second = alpha, beta, r + x
    rsx = r + s + x
    gap = high - low
    q1 = high + t_x
    q2 = high + T
    p1 = hyp2f1(rsx, second, rsx + 1.0, gap / q1)
    p2 = hyp2f1(rsx, second, rsx + 1.0, gap / q2)
    terms = np.stack([np.log(p1) + rsx * np.log(q2), np.log(p2) + rsx * np.log(q1)])
    signs = np.stack([np.ones_like(x), -np.ones_like(x)])
    return np.asarray(logsumexp(terms, axis=0, b=signs) - rsx * np.log(q1 * q2), dtype=np.float64)


def pareto_log_likelihood(params: Array, x: Array, t_x: Array, T: Array) -> Array:
    """Per-customer log-likelihood of the Pareto/NBD model (Fader and Hardie's note, eq. 21)."""
    r, alpha, s, beta = params
    rsx = r + s + x
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    first = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    second = np.log(s) - np.log(rsx) + _pareto_log_a0(params, x, t_x, T)
    return np.asarray(a1 + np.logaddexp(first, second), dtype=np.float64)


@dataclass(frozen=True)
class ParetoNBD:
    """A fitted Pareto/NBD model: ``r``, ``alpha`` (purchase rate), ``s``, ``beta`` (dropout)."""

    r: float
    alpha: float
    s: float
    beta: float
    log_likelihood: float = float("nan")

    @property
    def params(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "s": self.s, "beta": self.beta}

    @classmethod
    def fit(cls, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> ParetoNBD:
        x, t_x, big_t = _as_arrays(frequency, recency, T)
        check_summary(x, t_x, big_t)
        (ux, ut, uT), weights = _collapse(x, t_x, big_t)
        total = float(weights.sum())

        def neg_ll(p: Array) -> float:
            with np.errstate(all="ignore"):
                return float(-(weights * pareto_log_likelihood(p, ux, ut, uT)).sum() / total)

        result = _maximise(neg_ll, ("r", "alpha", "s", "beta"), x.size)
        return cls(**result.params, log_likelihood=result.log_likelihood)

    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Array:
        """P(alive at T | x, t_x, T) = 1 / (1 + s/(r+s+x) (alpha+T)^(r+x) (beta+T)^s A0)."""
        x, t_x, big_t = _as_arrays(frequency, recency, T)
        p = np.array([self.r, self.alpha, self.s, self.beta])
        log_ratio = (
            np.log(self.s)
            - np.log(self.r + self.s + x)
            + (self.r + x) * np.log(self.alpha + big_t)
            + self.s * np.log(self.beta + big_t)
            + _pareto_log_a0(p, x, t_x, big_t)
        )
        return np.asarray(1.0 / (1.0 + np.exp(log_ratio)), dtype=np.float64)

    def conditional_expected_purchases(
        self, t: float, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> Array:
        """E[Y(t) | x, t_x, T] (Fader and Hardie's note, eq. 27); needs s != 1."""
        x, t_x, big_t = _as_arrays(frequency, recency, T)
        r, alpha, s, beta = self.r, self.alpha, self.s, self.beta
        alive = self.probability_alive(x, t_x, big_t)
        rate = (r + x) * (beta + big_t) / ((alpha + big_t) * (s - 1))
        return np.asarray(
            rate * (1 - ((beta + big_t) / (beta + big_t + t)) ** (s - 1)) * alive, dtype=np.float64
        )


# --- Gamma-Gamma --------------------------------------------------------------------------------


def gamma_gamma_log_likelihood(params: Array, x: Array, m: Array) -> Array:
    """Per-customer log-likelihood of the average value ``m`` of ``x`` transactions."""
    p, q, v = params
    px = p * x
    return np.asarray(
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(x * m + v),
        dtype=np.float64,
    )


@dataclass(frozen=True)
class GammaGamma:
    """A fitted Gamma-Gamma spend model: ``p``, ``q``, ``v``. Fitted on repeat customers only."""

    p: float
    q: float
    v: float
    log_likelihood: float = float("nan")

    @property
    def params(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "v": self.v}

    @classmethod
    def fit(cls, frequency: ArrayLike, monetary: ArrayLike) -> GammaGamma:
        x, m = _as_arrays(frequency, monetary)
        keep = x > 0
        x, m = x[keep], m[keep]
        if x.size == 0:
            raise ValueError("no repeat customers to fit the spend model on")
        if np.any(m <= 0):
            raise ValueError("monetary values of repeat customers must be > 0")
        (ux, um), weights = _collapse(x, m)
        total = float(weights.sum())

        def neg_ll(params: Array) -> float:
            return float(-(weights * gamma_gamma_log_likelihood(params, ux, um)).sum() / total)

        result = _maximise(neg_ll, ("p", "q", "v"), x.size)
        if result.params["q"] <= 1:
            raise FitFailed("q <= 1: the expected average value is undefined for these data")
        return cls(**result.params, log_likelihood=result.log_likelihood)

    def expected_average_value(self, frequency: ArrayLike, monetary: ArrayLike) -> Array:
        """E[M | x, m_x]: a weighted mean of the population mean and the customer's own average
        (the population mean ``p v / (q - 1)`` for customers without repeat purchases)."""
        x, m = _as_arrays(frequency, monetary)
        m = np.where(x > 0, m, 0.0)
        return np.asarray(self.p * (self.v + x * m) / (self.p * x + self.q - 1), dtype=np.float64)


# --- Lifetime value -----------------------------------------------------------------------------


def customer_lifetime_value(
    transactions: BetaGeo | ParetoNBD,
    spend: GammaGamma,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary: ArrayLike,
    *,
    horizon: int,
    discount_rate: float = 0.0,
) -> Array:
    """Discounted value of the next ``horizon`` periods: the sum over periods i = 1..horizon of
    (E[Y(i)] - E[Y(i-1)]) x E[M] / (1 + discount_rate)^i, with the time unit of the summary."""
    if horizon < 1:
        raise ValueError("horizon must be >= 1")
    if discount_rate < 0:
        raise ValueError("discount_rate must be >= 0")
    x, t_x, big_t, m = _as_arrays(frequency, recency, T, monetary)
    value = spend.expected_average_value(x, m)
    total = np.zeros_like(x)
    previous = np.zeros_like(x)
    for i in range(1, horizon + 1):
        current = transactions.conditional_expected_purchases(float(i), x, t_x, big_t)
        total += (current - previous) / (1.0 + discount_rate) ** i
        previous = current
    return np.asarray(total * value, dtype=np.float64)


def simulate_bgnbd(
    customers: int,
    *,
    r: float,
    alpha: float,
    a: float,
    b: float,
    T: float,
    seed: int = 0,
) -> tuple[Array, Array, Array]:
    """Summaries (x, t_x, T) of ``customers`` drawn from the BG/NBD process, each observed for ``T``.

    Each customer gets a purchase rate lambda ~ Gamma(r, 1/alpha) and a dropout probability
    p ~ Beta(a, b); purchases follow a Poisson process and after each purchase the customer
    drops out with probability p. Vectorised over customers, one round per purchase.
    """
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, customers)
    p = rng.beta(a, b, customers)
    x = np.zeros(customers)
    t_x = np.zeros(customers)
    now = np.zeros(customers)
    active = np.ones(customers, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        now[idx] += rng.exponential(1.0 / lam[idx])
        bought = now[idx] < T
        buyers = idx[bought]
        x[buyers] += 1
        t_x[buyers] = now[buyers]
        active[idx[~bought]] = False
        # A buyer drops out right after this purchase with probability p.
        dropped = rng.random(buyers.size) < p[buyers]
        active[buyers[dropped]] = False
    return x, t_x, np.full(customers, float(T))
