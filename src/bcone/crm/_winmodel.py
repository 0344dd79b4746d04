"""The win-rate model on plain arrays: features, training, calibration, evaluation, explanation,
and a generator of closed opportunities with a known signal.

The model is a logistic regression on standardised features (explainable: each feature's
contribution to the log-odds is ``coef * z``), calibrated on a separate split with isotonic
regression (Platt scaling when the calibration split is small) and evaluated on a held-out split
the model never saw. Its parameters are plain numbers, stored as JSON and applied with numpy, so
a stored model needs no pickle to load.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

FloatArray = NDArray[np.float64]

GRADES = ("strategic", "key", "normal")
# extra_stage_moves: moves beyond the stages reached (back and forth), the history feature; the
# plain count of moves would mostly repeat stage_reached.
BASE_FEATURES = ("stage_reached", "grade_strategic", "grade_key", "log_amount", "extra_stage_moves")
RELIABILITY_BINS = 10
ISOTONIC_MIN_ROWS = 2000  # below this many calibration rows, Platt scaling (2 parameters) is used


def feature_names(item_keys: list[str]) -> list[str]:
    """The model's features: one per scorecard item (score / scale), then the base features."""
    return [f"item:{k}" for k in item_keys] + list(BASE_FEATURES)


@dataclass(frozen=True)
class Row:
    """What the model knows of one opportunity."""

    scores: dict[str, float]  # item key -> score / scale max (0..1)
    stage_reached: float  # 0..1: highest open stage reached over the last open stage
    grade: str
    amount_fen: int
    extra_stage_moves: int  # stage moves beyond the open stages reached


def featurize(rows: list[Row], item_keys: list[str]) -> FloatArray:
    """The feature matrix of ``rows`` (columns as :func:`feature_names`)."""
    x = np.zeros((len(rows), len(item_keys) + len(BASE_FEATURES)), dtype=np.float64)
    n_items = len(item_keys)
    for i, r in enumerate(rows):
        for j, key in enumerate(item_keys):
            x[i, j] = r.scores.get(key, 0.0)
        x[i, n_items] = r.stage_reached
        x[i, n_items + 1] = 1.0 if r.grade == "strategic" else 0.0
        x[i, n_items + 2] = 1.0 if r.grade == "key" else 0.0
        x[i, n_items + 3] = math.log10(max(r.amount_fen, 0) / 100 + 1.0)
        x[i, n_items + 4] = float(r.extra_stage_moves)
    return x


# --- metrics -------------------------------------------------------------------------------------


def expected_calibration_error(y: FloatArray, p: FloatArray, bins: int = RELIABILITY_BINS) -> float:
    """ECE: the gap between predicted and observed win rate, averaged over equal-width bins."""
    if len(y) == 0:
        return 0.0
    idx = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = idx == b
        if mask.any():
            total += mask.sum() * abs(float(p[mask].mean()) - float(y[mask].mean()))
    return total / len(y)


def reliability_curve(y: FloatArray, p: FloatArray, bins: int = RELIABILITY_BINS) -> list[dict[str, Any]]:
    """Per bin of predicted probability: its range, mean prediction, observed rate, count."""
    idx = np.minimum((p * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        mask = idx == b
        n = int(mask.sum())
        out.append(
            {
                "lower": b / bins,
                "upper": (b + 1) / bins,
                "count": n,
                "mean_predicted": round(float(p[mask].mean()), 4) if n else None,
                "observed": round(float(y[mask].mean()), 4) if n else None,
            }
        )
    return out


def _auc(y: FloatArray, p: FloatArray) -> float | None:
    if len(np.unique(y)) < 2:
        return None
    return round(float(roc_auc_score(y, p)), 4)


def score_set(y: FloatArray, p: FloatArray) -> dict[str, Any]:
    """AUC, Brier score, ECE and the reliability curve of predictions ``p`` for outcomes ``y``."""
    return {
        "n": len(y),
        "auc": _auc(y, p),
        "brier": round(float(brier_score_loss(y, p)), 4) if len(y) else None,
        "ece": round(float(expected_calibration_error(y, p)), 4),
        "reliability": reliability_curve(y, p),
    }


def _group_metrics(y: FloatArray, p: FloatArray, own: FloatArray, groups: list[str]) -> list[dict[str, Any]]:
    """Per group: outcomes, the model's calibrated predictions and the own estimates (where given)."""
    out = []
    labels = np.array(groups, dtype=object)
    for g in sorted(set(groups)):
        mask = labels == g
        yy, pp, oo = y[mask], p[mask], own[mask]
        has_own = ~np.isnan(oo)
        out.append(
            {
                "group": g,
                "n": int(mask.sum()),
                "win_rate": round(float(yy.mean()), 4),
                "mean_probability": round(float(pp.mean()), 4),
                "auc": _auc(yy, pp),
                "brier": round(float(brier_score_loss(yy, pp)), 4),
                "mean_own_estimate": round(float(oo[has_own].mean()), 4) if has_own.any() else None,
                "own_brier": round(float(brier_score_loss(yy[has_own], oo[has_own])), 4)
                if has_own.any()
                else None,
            }
        )
    return out


# --- the model -----------------------------------------------------------------------------------


@dataclass
class FittedModel:
    """A model's parameters, as stored."""

    features: list[str]
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    calibration: dict[str, Any]

    def to_params(self) -> dict[str, Any]:
        return {
            "features": self.features,
            "mean": self.mean,
            "scale": self.scale,
            "coef": self.coef,
            "intercept": self.intercept,
            "calibration": self.calibration,
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> FittedModel:
        return cls(
            features=list(params["features"]),
            mean=[float(v) for v in params["mean"]],
            scale=[float(v) for v in params["scale"]],
            coef=[float(v) for v in params["coef"]],
            intercept=float(params["intercept"]),
            calibration=dict(params["calibration"]),
        )

    def _z(self, x: FloatArray) -> FloatArray:
        return np.asarray((x - np.asarray(self.mean)) / np.asarray(self.scale), dtype=np.float64)

    def raw_probability(self, x: FloatArray) -> FloatArray:
        logit = self._z(x) @ np.asarray(self.coef) + self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-logit)), dtype=np.float64)

    def probability(self, x: FloatArray) -> FloatArray:
        """Calibrated win probabilities of the rows of ``x``."""
        return calibrate(self.calibration, self.raw_probability(x))

    def contributions(self, x: FloatArray) -> FloatArray:
        """Each feature's contribution to each row's log-odds (against the average opportunity)."""
        return np.asarray(self._z(x) * np.asarray(self.coef), dtype=np.float64)


def calibrate(calibration: dict[str, Any], p: FloatArray) -> FloatArray:
    """Apply a stored calibration map to raw probabilities."""
    method = calibration.get("method")
    if method == "isotonic":
        out = np.interp(p, np.asarray(calibration["x"]), np.asarray(calibration["y"]))
    elif method == "platt":
        logit = np.log(np.clip(p, 1e-9, 1 - 1e-9) / np.clip(1 - p, 1e-9, 1.0))
        out = 1.0 / (1.0 + np.exp(-(calibration["a"] * logit + calibration["b"])))
    else:
        out = p
    return np.asarray(np.clip(out, 0.0, 1.0), dtype=np.float64)


def _fit_calibration(y: FloatArray, p: FloatArray) -> dict[str, Any]:
    if len(np.unique(y)) < 2:
        return {"method": "none"}
    if len(y) >= ISOTONIC_MIN_ROWS:
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(p, y)
        return {
            "method": "isotonic",
            "x": [round(float(v), 6) for v in iso.X_thresholds_],
            "y": [round(float(v), 6) for v in iso.y_thresholds_],
        }
    logit = np.log(np.clip(p, 1e-9, 1 - 1e-9) / np.clip(1 - p, 1e-9, 1.0)).reshape(-1, 1)
    platt = LogisticRegression(C=1e6).fit(logit, y)
    return {"method": "platt", "a": float(platt.coef_[0][0]), "b": float(platt.intercept_[0])}


@dataclass
class TrainingSet:
    """Closed opportunities as arrays, with what the evaluation groups them by."""

    x: FloatArray
    y: FloatArray
    features: list[str]
    own_estimate: FloatArray  # the salesperson's own estimate (0..1), NaN when none was given
    teams: list[str]
    stages: list[str]
    extra: dict[str, Any] = field(default_factory=dict)


def train(data: TrainingSet, *, seed: int = 0, c: float = 1.0) -> tuple[FittedModel, dict[str, Any]]:
    """Fit, calibrate and evaluate; returns the model and its held-out metrics.

    Splits the rows 60/20/20 (stratified by outcome) into fitting, calibration and held-out
    test sets. Metrics are computed on the test set only.
    """
    n = len(data.y)
    idx = np.arange(n)
    fit_idx, rest = train_test_split(idx, test_size=0.4, random_state=seed, stratify=data.y)
    cal_idx, test_idx = train_test_split(rest, test_size=0.5, random_state=seed, stratify=data.y[rest])

    scaler = StandardScaler().fit(data.x[fit_idx])
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    lr = LogisticRegression(C=c, max_iter=2000)
    lr.fit((data.x[fit_idx] - scaler.mean_) / scale, data.y[fit_idx])
    model = FittedModel(
        features=list(data.features),
        mean=[float(v) for v in scaler.mean_],
        scale=[float(v) for v in scale],
        coef=[float(v) for v in lr.coef_[0]],
        intercept=float(lr.intercept_[0]),
        calibration={"method": "none"},
    )
    model.calibration = _fit_calibration(data.y[cal_idx], model.raw_probability(data.x[cal_idx]))

    x_test, y_test = data.x[test_idx], data.y[test_idx]
    raw = model.raw_probability(x_test)
    cal = model.probability(x_test)
    own = data.own_estimate[test_idx]
    has_own = ~np.isnan(own)
    teams = [data.teams[i] for i in test_idx]
    stages = [data.stages[i] for i in test_idx]
    metrics: dict[str, Any] = {
        "n_closed": n,
        "n_fit": len(fit_idx),
        "n_calibration": len(cal_idx),
        "n_test": len(test_idx),
        "win_rate": round(float(data.y.mean()), 4),
        "calibration_method": model.calibration["method"],
        "raw": score_set(y_test, raw),
        "calibrated": score_set(y_test, cal),
        "own_estimate": score_set(y_test[has_own], own[has_own]) if has_own.any() else None,
        "by_team": _group_metrics(y_test, cal, own, teams),
        "by_stage": _group_metrics(y_test, cal, own, stages),
        "coefficients": dict(zip(model.features, [round(v, 4) for v in model.coef], strict=True)),
    }
    return model, metrics


def top_reasons(model: FittedModel, x_row: FloatArray, limit: int = 3) -> list[tuple[str, float]]:
    """The features that move one opportunity's log-odds most, with their contributions."""
    contrib = model.contributions(x_row.reshape(1, -1))[0]
    order = np.argsort(-np.abs(contrib))[:limit]
    return [(model.features[i], round(float(contrib[i]), 3)) for i in order if abs(contrib[i]) >= 0.01]


# --- generator -----------------------------------------------------------------------------------

# The true effect of each scorecard item (on its 0..1 score) on the log-odds of winning.
TRUE_ITEM_WEIGHTS: dict[str, float] = {
    "champion": 2.0,
    "economic_buyer": 1.6,
    "identify_pain": 1.2,
    "rel_decision_maker": 0.9,
    "decision_criteria": 0.8,
    "metrics": 0.6,
    "decision_process": 0.5,
    "competition": 0.4,
    "rel_influencer": 0.4,
    "paper_process": 0.3,
    "rel_user": 0.2,
    "rel_gatekeeper": 0.1,
}
TRUE_STAGE_WEIGHT = 1.0  # per unit of stage_reached (0..1)
TRUE_LOG_AMOUNT_WEIGHT = -0.5  # bigger deals are harder to win
TRUE_STRATEGIC_WEIGHT = -0.3
TRUE_INTERCEPT = -5.3
TEAMS = ("华东一组", "华东二组", "华南组", "华北组")


@dataclass
class GeneratedDeal:
    scores: dict[str, int]  # 0..3
    stage_reached: int  # 0..open_stages-1
    grade: str
    amount_fen: int
    stage_moves: int
    own_estimate: int  # percent
    team: str
    owner_index: int
    true_probability: float
    won: bool


def generate_deals(n: int, *, seed: int, open_stages: int = 4, owners: int = 20) -> list[GeneratedDeal]:
    """``n`` closed deals whose outcome follows the TRUE_* weights (seeded, reproducible).

    Items are correlated through a latent deal quality, as in real pipelines; the salespeople's
    own estimates are optimistic and noisy, so the model should beat them on calibration.
    """
    rng = np.random.default_rng(seed)
    keys = list(TRUE_ITEM_WEIGHTS)
    weights = np.array([TRUE_ITEM_WEIGHTS[k] for k in keys])
    quality = rng.normal(size=n)
    scores = np.clip(np.rint(1.5 + 0.7 * quality[:, None] + rng.normal(scale=0.9, size=(n, len(keys)))), 0, 3)
    stage = np.clip(np.rint(1.5 + 0.6 * quality + rng.normal(scale=0.9, size=n)), 0, open_stages - 1)
    grade_draw = rng.random(n)
    grade = np.where(grade_draw < 0.15, "strategic", np.where(grade_draw < 0.45, "key", "normal"))
    mu = np.where(grade == "strategic", 14.0, np.where(grade == "key", 13.0, 12.0))  # ln(yuan)
    amount_yuan = np.rint(np.clip(rng.lognormal(mean=mu, sigma=0.8), 1_000, 50_000_000))
    logit = (
        TRUE_INTERCEPT
        + scores @ weights / 3
        + TRUE_STAGE_WEIGHT * stage / max(open_stages - 1, 1)
        + TRUE_LOG_AMOUNT_WEIGHT * (np.log10(amount_yuan + 1) - 5)
        + np.where(grade == "strategic", TRUE_STRATEGIC_WEIGHT, 0.0)
    )
    p = 1.0 / (1.0 + np.exp(-logit))
    own = np.rint(10 / (1 + np.exp(-(0.6 * logit + 1.0 + rng.normal(scale=0.8, size=n))))) * 10
    moves = stage + rng.poisson(0.5, size=n)
    team = rng.integers(len(TEAMS), size=n)
    owner = rng.integers(owners, size=n)
    won = rng.random(n) < p
    deals = [
        GeneratedDeal(
            scores={k: int(scores[i, j]) for j, k in enumerate(keys)},
            stage_reached=int(stage[i]),
            grade=str(grade[i]),
            amount_fen=int(amount_yuan[i]) * 100,
            stage_moves=int(moves[i]),
            own_estimate=int(own[i]),
            team=TEAMS[int(team[i])],
            owner_index=int(owner[i]),
            true_probability=float(p[i]),
            won=bool(won[i]),
        )
        for i in range(n)
    ]
    return deals


def deals_training_set(
    deals: list[GeneratedDeal], stage_keys: list[str], open_stages: int = 4
) -> TrainingSet:
    """Generated deals as a :class:`TrainingSet` (item scale 0..3), as the database path builds it."""
    keys = list(TRUE_ITEM_WEIGHTS)
    rows = [
        Row(
            scores={k: v / 3 for k, v in d.scores.items()},
            stage_reached=d.stage_reached / max(open_stages - 1, 1),
            grade=d.grade,
            amount_fen=d.amount_fen,
            extra_stage_moves=max(0, d.stage_moves - d.stage_reached),
        )
        for d in deals
    ]
    return TrainingSet(
        x=featurize(rows, keys),
        y=np.array([1.0 if d.won else 0.0 for d in deals]),
        features=feature_names(keys),
        own_estimate=np.array([d.own_estimate / 100 for d in deals]),
        teams=[d.team for d in deals],
        stages=[stage_keys[d.stage_reached] for d in deals],
        extra={"true_probability": np.array([d.true_probability for d in deals])},
    )
