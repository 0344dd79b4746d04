"""The operating dashboard, a three-step funnel, weekly retention, RFM, NPS and partner attribution
on the scaled demo history (``bcone.demo._scale``: Spring Festival seasonality, BG/NBD-like repeat
buying, regions), on DuckDB and on chDB side by side, with the answers compared.

The history is generated with numpy and loaded as Arrow batches into a DuckDB file and a chDB
directory under ``--data`` (kept, so a second run with ``--reuse`` measures queries only). Every
report runs through ``bcone.analytics.service`` as the API runs it. The last line is one JSON object.

    .venv/bin/python bench/analytics_dashboard.py                        # 30,000 consumers (~230 k events)
    .venv/bin/python bench/analytics_dashboard.py --consumers 1280000    # ~10 M events
    .venv/bin/python bench/analytics_dashboard.py --consumers 1280000 --reuse
    .venv/bin/python bench/analytics_dashboard.py --consumers 1280000 --reuse --modes summary

Each engine answers first from the raw events (``raw``), then refreshes the summary tables
(timed on its own) and answers from them (``summary``); both answers are compared.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bcone.analytics import _summaries, service
from bcone.core.warehouse import Warehouse, warehouse_from_url
from bcone.demo import _scale

TENANT = "bench-brand"
END = date(2026, 6, 30)
DAYS = 730
REGIONS = ["440305", "310101", "110105", "510104", "330106", "320102", "420102", "210102", "610113", "450102"]


def plan(consumers: int, seed: int) -> _scale.HistoryPlan:
    stores = [_scale.Store(f"S{i:05d}", REGIONS[i % len(REGIONS)]) for i in range(2_000)]
    skus = [_scale.Sku(f"SKU{i:02d}", 3_600 + 300 * i) for i in range(24)]
    return _scale.HistoryPlan(TENANT, consumers, DAYS, END, stores, skus, seed=seed, survey_id="bench")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    answer = fn()
    return time.perf_counter() - started, answer


def reports(wh: Warehouse) -> dict[str, Callable[[], Any]]:
    last30 = END - timedelta(days=29)
    last90 = END - timedelta(days=89)
    year = END - timedelta(days=364)
    return {
        "dashboard_30d": lambda: service.dashboard(wh, TENANT, since=last30, until=END),
        "dashboard_365d_weekly": lambda: service.dashboard(wh, TENANT, since=year, until=END, grain="week"),
        "dashboard_province": lambda: service.dashboard(wh, TENANT, since=last30, until=END, province="44"),
        "funnel_3_steps": lambda: service.funnel(
            wh,
            TENANT,
            steps=["code.scanned", "order.paid", "order.paid"],
            window_seconds=30 * 86400,
            since=last30,
            until=END,
        ),
        "retention_weekly": lambda: service.retention(wh, TENANT, period="week", since=last90, until=END),
        "rfm_all": lambda: service.rfm(wh, TENANT, since=END - timedelta(days=DAYS - 1), until=END, limit=50),
        "nps_90d": lambda: service.nps(wh, TENANT, since=last90, until=END, breakdown="region"),
        "attribution_90d": lambda: service.attribution(wh, TENANT, since=last90, until=END),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--consumers", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, default=Path("/tmp/bcone-bench-analytics"))
    parser.add_argument("--reuse", action="store_true", help="query the warehouses a previous run loaded")
    parser.add_argument("--only", default="", help="comma-separated report names")
    parser.add_argument(
        "--modes",
        default="raw,summary",
        help="raw: reports from the raw events; summary: refresh the summary tables (timed), then the reports",
    )
    args = parser.parse_args()
    history = plan(args.consumers, args.seed)
    data = args.data / str(args.consumers)
    if not args.reuse and data.exists():
        shutil.rmtree(data)
    data.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"bench": "analytics_dashboard", "consumers": args.consumers, "days": DAYS}
    engines = (("duckdb", f"duckdb:///{data / 'w.duckdb'}"), ("chdb", f"chdb:///{data / 'chdb'}"))
    answers: dict[str, dict[str, Any]] = {}
    for engine, url in engines:
        wh = warehouse_from_url(url)
        try:
            if not args.reuse:
                wh.ensure_schema()

                def load(wh: Warehouse = wh) -> int:
                    with wh.hold():
                        return sum(wh.insert_events(t) for t in _scale.generate(history))

                load_s, events = timed(load)
                print(f"{engine}: generated and loaded {events:,} events in {load_s:.1f}s")
                result[f"{engine}_load_s"] = round(load_s, 1)
            events = wh.query("SELECT count(*) AS n FROM tenant_events", tenant_id=TENANT).rows[0][0]
            result["events"] = int(events)
            modes = args.modes.split(",")
            for mode in modes:
                key = engine if mode == "raw" else f"{engine}_summary"
                if mode == "raw":
                    _summaries.invalidate(wh, TENANT)  # a previous run's summaries must not answer
                else:
                    seconds, done = timed(lambda wh=wh: service.refresh_summaries(wh, TENANT, force=True))
                    result[f"{engine}_refresh_s"] = round(seconds, 1)
                    result[f"{engine}_summary_rows"] = done[0].rows
                    print(f"  {engine} refresh: {seconds:.1f}s {done[0].rows}")
                    assert service.summaries_fresh(wh, TENANT)
                answers[key] = {}
                for name, fn in reports(wh).items():
                    if args.only and name not in args.only.split(","):
                        continue
                    fn()  # warm: file cache and the engine's first-query costs
                    seconds, answers[key][name] = timed(fn)
                    result[f"{key}_{name}_s"] = round(seconds, 3)
                    print(f"  {key} {name}: {seconds:.2f}s", flush=True)
            if len(modes) == 2:
                same = answers[engine] == answers[f"{engine}_summary"]
                result[f"{engine}_summary_same_answers"] = same
        finally:
            wh.close()
    for suffix in ("", "_summary"):
        duck, ch = answers.get(f"duckdb{suffix}"), answers.get(f"chdb{suffix}")
        if duck is None or ch is None:
            continue
        result[f"same_answers{suffix}"] = duck == ch
        if duck != ch:
            result[f"differ{suffix}"] = [k for k in duck if duck[k] != ch.get(k)]
        if "rfm_all" in duck:
            result["rfm_customers"] = duck["rfm_all"].customers
    result["load_average"] = [round(v, 2) for v in os.getloadavg()]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
