"""Two forces whose stored months differ: is a force that holds 3 of the window's 12 months judged on
its 3 months, or on 9 months of zeros?

Truth known: two patches of real res-9 cells 30 km apart, one force each, alike by construction: 15
planted hot cells a patch at ``HOT`` incidents a month, a background at ``BACKGROUND`` a month, and
every other offence (the predictor's prior) at three times the selected ones' rate plus noise. Force
A holds 2021-01..12; force B only 2021-10..12 (Durham beside Cleveland in the real data). Each seed
draws the months again (Poisson). For each method the hotspots are chosen on 2021-01..12:

* ``zeros``: as before this change (B's nine unstored months count as no incidents);
* ``held``: with B's unstored months as no data (``score_cells(gaps=...)``, the exposure);
* ``both 3``: the window 2021-10..12, which both forces hold (the like-with-like reference).

Printed per method: B's share of the hotspot places and of the planted cells found among the
hotspots' cells (A's beside it), means over the seeds. Equal forces should get about equal shares;
``predict`` shrinks a cell towards its prior more when it has fewer months of its own, so B's share
there stays below A's by design (three months say less than twelve), but not near zero.

    python benchmarks/bench_force_gaps.py [--seeds 20] [--quick]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import h3
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hotspot_engine.analyse.hotspots import HotspotParams, cell_totals, score_cells  # noqa: E402

CENTRES = {"A": (54.57, -1.23), "B": (54.78, -1.57)}
YEAR = [f"2021-{m:02d}" for m in range(1, 13)]
HELD = {"A": YEAR, "B": YEAR[9:]}
HOT, BACKGROUND, N_HOT = 2.0, 0.03, 15


def _patches() -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    cells = {force: np.array([h3.str_to_int(c) for c in h3.grid_disk(h3.latlng_to_cell(*CENTRES[force], 9), 12)],
                             dtype=np.uint64) for force in CENTRES}
    study = pd.concat([pd.DataFrame({"h3": ids, "district": force, "csp": force}) for force, ids in cells.items()])
    return study.sort_values("h3").reset_index(drop=True), cells


def _draw(cells: dict[str, np.ndarray], seed: int, months: dict[str, list[str]]):
    """Cell-month counts, every offence's counts and the planted cells of both forces."""
    rng = np.random.default_rng(seed)
    rows, context, planted = [], [], {}
    for force, ids in cells.items():
        rate = np.full(ids.size, BACKGROUND)
        hot = rng.choice(ids.size, N_HOT, replace=False)
        rate[hot] = HOT
        planted[force] = set(ids[hot].tolist())
        other = rate * 3.0
        for month in months[force]:
            count = rng.poisson(rate).astype(float)
            rows.append(pd.DataFrame({"h3": ids, "month": month, "count": count, "harm": count * 10.0}))
            context.append(pd.DataFrame({"h3": ids, "month": month, "count": rng.poisson(other).astype(float)}))
    return pd.concat(rows).query("count > 0").reset_index(drop=True), pd.concat(context), planted


def _every(months: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """Every offence's count per cell over the months of ``months``: the others plus the selected."""
    other = other[other["month"].isin(set(months["month"]))]
    every = other.groupby("h3", as_index=False)["count"].sum()
    every["count"] += cell_totals(months).set_index("h3")["count"].reindex(every["h3"]).fillna(0).to_numpy()
    return every


def _shares(study, months, every, planted, method: str, gaps=None) -> tuple[float, float, float]:
    result = score_cells(study, cell_totals(months), None, None, HotspotParams(method=method), None,
                         cell_months=months, context=every, gaps=gaps)
    hot = result.cells[result.cells["is_hotspot"]]
    places = hot.drop_duplicates("hotspot_id")
    share_b = float((places["district"] == "B").mean()) if len(places) else float("nan")
    ids = {int(c, 16) for c in hot["h3"]}
    return share_b, len(ids & planted["A"]) / N_HOT, len(ids & planted["B"]) / N_HOT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="5 seeds")
    args = parser.parse_args()
    seeds = 5 if args.quick else args.seeds
    study, cells = _patches()
    gaps = pd.DataFrame({"district": "B", "month": YEAR[:9]})
    print(f"Two alike forces, {len(study):,} cells; A holds 12 months, B 3 (2021-10..12); {N_HOT} planted cells a "
          f"force at {HOT:g} a month, background {BACKGROUND:g}; {seeds} seeds. Hotspots chosen on 2021-01..12.")
    print(f"{'method':<11} {'run':<8} {'B share of places':>18} {'planted found A':>16} {'planted found B':>16}")
    for method in ("predict", "gistar", "top-n"):
        figures: dict[str, list[tuple[float, float, float]]] = {"zeros": [], "held": [], "both 3": []}
        for seed in range(seeds):
            months, other, planted = _draw(cells, seed, HELD)
            every = _every(months, other)
            figures["zeros"].append(_shares(study, months, every, planted, method))
            figures["held"].append(_shares(study, months, every, planted, method, gaps))
            autumn = months[months["month"].isin(YEAR[9:])]
            figures["both 3"].append(_shares(study, autumn, _every(autumn, other), planted, method))
        for run, values in figures.items():
            share, found_a, found_b = np.nanmean(np.array(values), axis=0)
            print(f"{method:<11} {run:<8} {share:>18.0%} {found_a:>16.0%} {found_b:>16.0%}")


if __name__ == "__main__":
    main()
