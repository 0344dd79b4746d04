"""BG/NBD fit on synthetic customers drawn from the BG/NBD process with known parameters.

Times bcone's fit (``bcone.analytics._clv.BetaGeo``) and, in the same run on the same data, the
fit of the ``lifetimes`` package when it is importable; reports both sets of parameters next to
the true ones. Simulation is not timed. The last line is one JSON object.

    .venv/bin/python bench/analytics_clv.py [--customers 100000] [--weeks 52] [--seed 1] [--no-lifetimes]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np

from bcone.analytics._clv import BetaGeo, simulate_bgnbd

TRUTH = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # the CDNOW estimates


def _errors(params: dict[str, float]) -> dict[str, float]:
    return {k: round(abs(params[k] - v) / v, 4) for k, v in TRUTH.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--weeks", type=float, default=52.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-lifetimes", action="store_true", help="skip the lifetimes comparison")
    args = parser.parse_args()

    started = time.perf_counter()
    x, t_x, T = simulate_bgnbd(args.customers, T=args.weeks, seed=args.seed, **TRUTH)
    simulate_s = time.perf_counter() - started
    print(f"simulated {args.customers} customers in {simulate_s:.2f}s; repeat buyers {int((x > 0).sum())}")

    started = time.perf_counter()
    ours = BetaGeo.fit(x, t_x, T)
    ours_s = time.perf_counter() - started
    print(f"bcone BG/NBD fit: {ours_s:.2f}s {ours.params}")
    result: dict[str, Any] = {
        "bench": "analytics_clv",
        "customers": args.customers,
        "weeks": args.weeks,
        "true_params": TRUTH,
        "bcone_fit_s": round(ours_s, 3),
        "bcone_params": {k: round(v, 4) for k, v in ours.params.items()},
        "bcone_relative_error": _errors(ours.params),
        "lifetimes_fit_s": None,
    }
    if not args.no_lifetimes:
        try:
            import lifetimes
        except ImportError:
            print("lifetimes is not importable: no comparison")
        else:
            started = time.perf_counter()
            theirs = lifetimes.BetaGeoFitter().fit(x, t_x, T)
            theirs_s = time.perf_counter() - started
            params = {k: float(v) for k, v in theirs.params_.items()}
            print(f"lifetimes BetaGeoFitter fit: {theirs_s:.2f}s {params}")
            diff = max(abs(params[k] - ours.params[k]) / params[k] for k in TRUTH)
            result.update(
                lifetimes_version=lifetimes.__version__,
                lifetimes_fit_s=round(theirs_s, 3),
                lifetimes_params={k: round(v, 4) for k, v in params.items()},
                max_relative_difference=float(np.round(diff, 6)),
            )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
