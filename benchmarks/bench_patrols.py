"""Patrol dosage + plan speed: on the built-in sample (2,934 patrols) and on the same store topped up
to 100,000 patrols with synthetic ones (logs and GPS visits, two thirds near the planted hotspots).
Prints seconds (median of --repeat runs) for each stage and the machine.

    python benchmarks/bench_patrols.py [--patrols 100000] [--repeat 3] [--briefing]

Works on temporary copies: writes the sample into a temp folder and ingests it (about 15 s).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hotspot_engine import service  # noqa: E402
from hotspot_engine.analyse import patrols as P  # noqa: E402
from hotspot_engine.store import query  # noqa: E402
from hotspot_engine.filters import Filters  # noqa: E402

FILTERS = Filters(date_from="2023-04", date_to="2024-03", sv_only=True)


def _timed(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def synthetic_patrols(n: int, hotspots: list[dict], seed: int = 5) -> pd.DataFrame:
    """Up to ``n`` patrol rows in 2023-24 (those falling outside every district are dropped): two thirds within ~150 m of a planted hotspot, the rest spread
    around them up to ~5 km; half logs, half GPS visits; 5-60 minutes."""
    from hotspot_engine.reference.geography import assign_districts

    rng = np.random.default_rng(seed)
    centres = np.array([(h["lat"], h["lon"]) for h in hotspots])
    which = rng.integers(0, len(centres), n)
    near = rng.random(n) < 2 / 3
    spread = np.where(near, 0.0015, 0.04)
    lat = centres[which, 0] + rng.normal(0, 1, n) * spread
    lon = centres[which, 1] + rng.normal(0, 1, n) * spread * 1.6
    start = pd.Timestamp("2023-04-01") + pd.to_timedelta(rng.integers(0, 366 * 24 * 60, n), unit="min")
    minutes = np.clip(np.round(rng.lognormal(np.log(15), 0.5, n)), 5, 60).astype(float)
    district = assign_districts(lat, lon)
    keep = pd.notna(district)
    source = np.where(rng.random(n) < 0.5, "log", "gps")
    frame = pd.DataFrame({
        "patrol_id": [f"BENCH-{i:07d}" for i in range(n)], "source": source, "start": start,
        "end": start + pd.to_timedelta(minutes, unit="m"), "minutes": minutes, "hotspot_ref": None,
        "lat": lat, "lon": lon, "district": district, "unit": [f"U{u}" for u in rng.integers(1, 40, n)],
    })
    return frame[keep].reset_index(drop=True)


def run(label: str, db: Path, repeat: int, briefing: bool) -> None:
    from hotspot_engine.store.database import connect

    con = connect(db, read_only=True)
    try:
        report_s, report = _timed(lambda: service.patrol_report(con, FILTERS), repeat)
        # The dosage alone, on frames already fetched (what a page rerun with new target costs).
        from hotspot_engine.store import query

        rows = query.patrol_rows(con, FILTERS)
        areas = report.dosage[["hotspot_rank", "hotspot_id", "hotspot_name", "district", "n_cells"]]
        incidents = query.incidents_by_hotspot_hour(con, FILTERS, report.hotspot_cells)
    finally:
        con.close()
    pure_s, _ = _timed(lambda: P.patrol_report(rows, areas, report.hotspot_cells, incidents, report.period), repeat)
    plan_s, plan = _timed(lambda: P.suggest_plan(report, seed=1), repeat)
    print(f"{label}: {report.summary['patrols']:,} patrols ({report.summary['patrols_in_hotspots']:,} in "
          f"{report.summary['hotspots']} hotspots)")
    print(f"  dosage from the store (incl. Gi* hotspots of the year before): {report_s:.2f} s")
    print(f"  dosage from fetched frames (patrol_report):                    {pure_s:.2f} s")
    print(f"  plan ({len(plan.visits)} visits):                                         {plan_s:.3f} s")
    print(f"  dosage + plan:                                                 {report_s + plan_s:.2f} s")
    if briefing:
        one_s, _ = _timed(lambda: P.briefing_pdf(report, plan, report.dosage["hotspot_id"][:1]), 1)
        all_s, pdf = _timed(lambda: P.briefing_pdf(report, plan), 1)
        print(f"  briefing PDF: 1 page {one_s:.2f} s, {len(report.dosage)} pages {all_s:.2f} s ({len(pdf) / 1e6:.1f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patrols", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--briefing", action="store_true", help="also time the PDF briefing")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"pandas {pd.__version__}")

    from hotspot_engine.read.loading import ingest_paths
    from hotspot_engine.sample import write_sample
    from hotspot_engine.store.database import connect, store_rows

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ.setdefault("HOTSPOT_CACHE", str(tmp / "cache"))
        paths = write_sample(tmp / "sample")
        db = tmp / "sample.duckdb"
        con = connect(db)
        ingest_paths(con, [paths["incidents"], paths["patrols"]])
        con.close()
        run("sample", db, args.repeat, args.briefing)

        big = tmp / "big.duckdb"
        shutil.copy(db, big)
        hotspots = json.loads(paths["truth"].read_text())["hotspots"]
        # Oversample: points in the sea have no district and are dropped; the store then holds --patrols.
        rows = synthetic_patrols(int(args.patrols * 1.1), hotspots).head(max(0, args.patrols - 2934))
        con = connect(big)
        start = time.perf_counter()
        summary = store_rows(con, "patrols", rows, pd.DataFrame(columns=["row", "column", "reason", "raw"]),
                             "bench-patrols.csv", "patrols")
        con.close()
        print(f"(stored {summary.added:,} synthetic patrols in {time.perf_counter() - start:.1f} s)")
        run(f"sample + {summary.added:,} synthetic patrols", big, args.repeat, args.briefing)


if __name__ == "__main__":
    main()
