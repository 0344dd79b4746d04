"""Training the win-rate model on generated closed opportunities.

Generates ``--closed`` closed opportunities with the seeded generator (known signal), trains the
calibrated logistic regression and evaluates it on the held-out 20%: AUC, Brier score and
expected calibration error before and after calibration, and the same for the salespeople's own
estimates. Times the fit on arrays and, with ``--via-database``, the whole path of the training
job (read closed opportunities and assessments from a fresh SQLite database, fit, store).
Prints the figures, then one JSON object on the last line. Target: training < 30 s at 50,000.

    python bench/crm_model.py [--closed 50000] [--seed 0] [--via-database]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from bcone.core.db import Database
from bcone.crm import _winmodel as wm
from bcone.crm import service
from bcone.iam import service as iam
from bcone.migrate import upgrade_to_head

STAGES = ["qualify", "needs", "solution", "negotiation"]


def _summary(m: dict[str, object]) -> dict[str, object]:
    return {k: m[k] for k in ("auc", "brier", "ece")}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--closed", type=int, default=10_000, help="closed opportunities (default 10,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--via-database", action="store_true", help="also time the job's path through SQLite")
    args = parser.parse_args()

    t0 = time.perf_counter()
    data = wm.deals_training_set(wm.generate_deals(args.closed, seed=args.seed), STAGES)
    generate_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    _, metrics = wm.train(data, seed=args.seed)
    fit_seconds = time.perf_counter() - t0
    idx = list(range(len(data.y)))
    _, rest = train_test_split(idx, test_size=0.4, random_state=args.seed, stratify=data.y)
    _, test = train_test_split(rest, test_size=0.5, random_state=args.seed, stratify=data.y[rest])
    oracle_auc = float(roc_auc_score(data.y[test], data.extra["true_probability"][test]))
    out: dict[str, object] = {
        "bench": "crm_model",
        "closed": args.closed,
        "win_rate": metrics["win_rate"],
        "n_test": metrics["n_test"],
        "calibration_method": metrics["calibration_method"],
        "generate_seconds": round(generate_seconds, 2),
        "fit_seconds": round(fit_seconds, 2),
        "oracle_auc": round(oracle_auc, 4),
        "raw": _summary(metrics["raw"]),
        "calibrated": _summary(metrics["calibrated"]),
        "own_estimate": _summary(metrics["own_estimate"]),
        "target_seconds": 30,
    }
    if args.via_database:
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
            upgrade_to_head(db.engine)
            with db.session() as s:
                tenant = iam.create_tenant(session=s, slug="bench", name="Bench")
            t0 = time.perf_counter()
            with db.session(tenant_id=tenant.id) as s:
                service.generate_pipeline(session=s, closed=args.closed, seed=args.seed)
            out["db_load_seconds"] = round(time.perf_counter() - t0, 2)
            t0 = time.perf_counter()
            with db.session(tenant_id=tenant.id) as s:
                stored = service.train_win_model(session=s)
            out["job_seconds"] = round(time.perf_counter() - t0, 2)
            assert stored is not None
            out["job_calibrated"] = _summary(stored.metrics["calibrated"])
            db.dispose()
    print(f"fit {out['fit_seconds']} s on {args.closed} closed opportunities")
    for key in ("raw", "calibrated", "own_estimate"):
        print(f"{key:>13}: {out[key]}")
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
