"""Hotspot figures, measured in one run.

Issue 16 (the default test, always run):

4. chance: 5,000 incidents scattered uniformly at random over the 14 districts in a year, 20 seeds:
   hotspot areas found by the default (target: at most one per seed), beside the cells Gi*'s normal
   p would have flagged;
4b. the FDR promise where the truth is known: 19 places of 8-40 incidents planted on that background;
   the share of significant cells with no planted cell in their neighbourhood (target <= 0.05);
5. real police.uk months (/work/shared/realdata, robbery + weapons, 2024-01..04): areas, largest
   km2, names; hold-out PAI of the default vs ranking cells by count at the same area (target: at
   least 0.9 times);
6. the planted sample: planted hotspots recovered (target >= 18 of 19);
7. the whole `hotspots` command on 1,000,000 sample incidents (median of 3), beside the same
   command from a checkout of the previous code (``--baseline DIR``, default /work/main) run
   interleaved on the same store, so a busy machine slows both alike.

Issue 4 (``--engine``): 1. analytical Gi* over every res-9 cell (target < 0.2 s); 2. Gi* with 999
permutations vs esda (target: ratio <= 1); 3. binning + counting 1,000,000 random incidents.

Usage: ``python benchmarks/bench_hotspots.py [--seeds 20] [--baseline DIR] [--engine [--esda-cells N]]``
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the chance generator of the tests

from machine_info import machine_summary

from hotspot_engine.analyse.gistar import gistar  # noqa: E402
from hotspot_engine.reference import geography  # noqa: E402


def timed(fn, repeat: int = 3) -> tuple[float, object]:
    """Median wall time of ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def machine() -> str:
    try:
        import numba  # noqa: F401

        jit = "numba present (esda jit-compiled)"
    except ImportError:
        jit = "numba absent (esda runs its crand in pure Python)"
    return machine_summary(f"numpy {np.__version__}; {jit}")


def esda_w(i: np.ndarray, j: np.ndarray, n: int):
    import libpysal
    from scipy import sparse

    matrix = sparse.csr_matrix((np.ones(i.size), (i, j)), shape=(n, n))
    return libpysal.weights.WSP(matrix).to_W(silence_warnings=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--esda-cells", type=int, default=0, help="run the permutation comparison on the first N cells (0: all)")
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--seeds", type=int, default=20, help="chance seeds (default 20)")
    parser.add_argument("--baseline", default="/work/main", help="checkout of the previous code for the timing")
    parser.add_argument("--engine", action="store_true", help="also run the issue-4 engine timings (slow: esda)")
    parser.add_argument("--skip-timing", action="store_true", help="skip the 1M-incident command timing")
    args = parser.parse_args()
    print(machine())
    run_issue16(args)
    if args.engine:
        engine_timings(args)


def engine_timings(args: argparse.Namespace) -> None:

    area = geography.study_area(9)
    cells = area.cells["h3"].to_numpy()
    rng = np.random.default_rng(20230401)
    counts = rng.poisson(0.11, cells.size).astype(float)  # about the sample's 2022-23 SV density
    counts[rng.choice(cells.size, 19, replace=False)] += rng.integers(20, 130, 19)

    t_weights, (i, j) = timed(lambda: geography.ring_neighbours(cells, 1))
    t_gi, _ = timed(lambda: gistar(counts, i, j), repeat=5)
    print(f"1. analytical Gi*, {cells.size:,} res-9 cells (14 districts), k=1: {t_gi:.3f} s "
          f"(target < 0.2 s: {'PASS' if t_gi < 0.2 else 'FAIL'}); building the k-ring pairs: {t_weights:.3f} s")

    m = args.esda_cells or cells.size
    keep = (i < m) & (j < m)
    si, sj, sv = i[keep], j[keep], counts[:m]
    t_ours, _ = timed(lambda: gistar(sv, si, sj, permutations=999, seed=1), repeat=1)
    import esda

    w = esda_w(si, sj, m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_esda, _ = timed(lambda: esda.G_Local(sv, w, star=True, transform="B", permutations=999, seed=1), repeat=1)
    ratio = t_ours / t_esda
    print(f"2. Gi* with 999 permutations on {m:,} cells: ours {t_ours:.2f} s, esda G_Local(star=True, "
          f"permutations=999) {t_esda:.2f} s (esda defaults, n_jobs=-1); ratio ours/esda = {ratio:.3f} "
          f"(target <= 1: {'PASS' if ratio <= 1 else 'FAIL'})")

    # Random incidents inside the area: random study cells, jittered up to ~90 m around their centres.
    n = args.points
    lat_c, lon_c = geography.cell_centres(cells)
    pick = rng.integers(0, cells.size, n)
    lat = lat_c[pick] + rng.uniform(-0.0008, 0.0008, n)
    lon = lon_c[pick] + rng.uniform(-0.0012, 0.0012, n)

    def bin_and_count():
        binned = geography.cells_for_points(lat, lon, 9)
        unique, per_cell = np.unique(binned, return_counts=True)
        full = np.zeros(cells.size, dtype=np.int64)
        pos = np.searchsorted(cells, unique)  # study cells are sorted by h3
        pos = np.clip(pos, 0, cells.size - 1)
        inside = cells[pos] == unique
        full[pos[inside]] = per_cell[inside]
        return full

    t_bin, full = timed(bin_and_count)
    print(f"3. binning + counting {n:,} random incidents into the {cells.size:,} study cells: {t_bin:.3f} s "
          f"(target < 2 s: {'PASS' if t_bin < 2 else 'FAIL'}); {full.sum():,} landed in study cells")


REAL_ZIP = Path("/work/shared/realdata/police-uk-hampshire-2018-03-and-2024-01-to-04.zip")


def run_issue16(args: argparse.Namespace) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        chance_seeds(args.seeds)
        planted_fdr(args.seeds)
        real_months(Path(tmp))
        planted_sample(Path(tmp))
        if not args.skip_timing:
            command_timing(Path(tmp), Path(args.baseline))


def chance_seeds(seeds: int) -> None:
    from test_hotspots_real import chance_cell_months

    from hotspot_engine.analyse.gistar import fdr_bh
    from hotspot_engine.analyse.hotspots import HotspotParams, score_cells

    area = geography.study_area(9)
    found, normal = [], []
    for seed in range(seeds):
        months = chance_cell_months(seed)
        totals = months.groupby("h3", as_index=False)[["count", "harm", "harm_sq"]].sum()
        result = score_cells(area.cells, totals, None, None, HotspotParams(), cell_months=months)
        found.append(len(result.areas) + len(result.next_ranked))
        normal.append(int((fdr_bh(result.cells["p_norm"].to_numpy()) < 0.05).sum()))
    print(f"4. chance, 5,000 incidents at random over the districts in a year, {seeds} seeds: areas found per seed "
          f"{found} (max {max(found)}; target <= 1: {'PASS' if max(found) <= 1 else 'FAIL'}); Gi*'s normal p would "
          f"have flagged {min(normal)}-{max(normal)} cells per seed")


def planted_fdr(seeds: int) -> None:
    """The FDR promise where the truth is known: chance background plus 19 planted places of 8-40
    incidents each; a significant cell is a false discovery when no planted cell lies in its
    neighbourhood (its expectation really is the background's)."""
    from test_hotspots_real import chance_cell_months

    from hotspot_engine.analyse.hotspots import HotspotParams, score_cells

    area = geography.study_area(9)
    cells = area.cells["h3"].to_numpy().astype(np.uint64)
    i, j = geography.ring_neighbours(cells, 1)
    import pandas as pd

    fdp, found = [], []
    for seed in range(seeds):
        rng = np.random.default_rng(1000 + seed)
        months = chance_cell_months(seed)
        planted = rng.choice(cells.size, 19, replace=False)
        extra = pd_frame(cells[planted], rng.integers(8, 41, 19))
        months = pd.concat([months, extra], ignore_index=True)
        totals = months.groupby("h3", as_index=False)[["count", "harm", "harm_sq"]].sum()
        result = score_cells(area.cells, totals, None, None, HotspotParams(), cell_months=months)
        near = np.zeros(cells.size, dtype=bool)
        near[i[np.isin(j, planted)]] = True  # cells with a planted cell in their disk
        scored = result.cells.set_index("h3").loc[geography.cell_to_str(cells)]
        significant = scored["gi_p_fdr"].to_numpy() < 0.05
        fdp.append(float((significant & ~near).sum() / max(significant.sum(), 1)))
        found.append(int(np.isin(planted, np.flatnonzero(significant)).sum()))
    print(f"4b. planted (19 places of 8-40 incidents over the chance background), {seeds} seeds: false discovery "
          f"proportion mean {np.mean(fdp):.3f} (promise <= 0.05: {'PASS' if np.mean(fdp) <= 0.05 else 'FAIL'}); planted "
          f"cells significant {min(found)}-{max(found)} of 19")


def pd_frame(h3_cells: np.ndarray, counts: np.ndarray):
    import pandas as pd

    return pd.DataFrame({"h3": h3_cells, "month": "2024-06", "count": counts, "harm": counts.astype(float),
                         "harm_sq": counts.astype(float)})


def _ingest(paths: list[Path], db: Path) -> None:
    from hotspot_engine.read.loading import ingest_paths
    from hotspot_engine.store.database import connect

    con = connect(db)
    ingest_paths(con, paths)
    con.close()


def real_months(tmp: Path) -> None:
    import h3

    from hotspot_engine.analyse.places import GENERIC_PLACES
    from hotspot_engine.filters import Filters
    from hotspot_engine.service import hotspots as find_hotspots
    from hotspot_engine.service import validate_hotspots
    from hotspot_engine.store.database import connect

    if not REAL_ZIP.exists():
        print(f"5. real months: skipped ({REAL_ZIP} not found)")
        return
    db = tmp / "real.duckdb"
    _ingest([REAL_ZIP], db)
    con = connect(db, read_only=True)
    try:
        result = find_hotspots(con, Filters(date_from="2024-01", date_to="2024-04", sv_only=True))
        areas = result.areas
        generic = [n for n in areas["hotspot_name"] if n.split(" - ", 1)[-1].split(" (")[0].lower() in GENERIC_PLACES]
        print(f"5. real 2024-01..04 (robbery + weapons): {len(areas)} hotspot areas + {len(result.next_ranked)} next "
              f"ranked; largest {areas['area_km2'].max():.2f} km2 (measured from cells: "
              f"{max(sum(h3.cell_area(c, 'km^2') for c in cells) for cells in areas['cells']):.2f}), median "
              f"{areas['area_km2'].median():.2f}; {len(generic)} bare generic names; names unique: "
              f"{areas['hotspot_name'].is_unique}")
        print("   names: " + "; ".join(areas["hotspot_name"].head(8)))
        for window, until in ((("2024-01", "2024-02"), "2024-04"), (("2024-01", "2024-03"), "2024-04")):
            _, holdout = validate_hotspots(con, Filters(date_from=window[0], date_to=window[1], sv_only=True), until)
            ratio = holdout.pai_ratio()
            print(f"   hold-out: {holdout.summary} PAI ratio {ratio:.2f} (target >= 0.9: "
                  f"{'PASS' if ratio is not None and ratio >= 0.9 else 'FAIL'})")
    finally:
        con.close()


def planted_sample(tmp: Path) -> None:
    import json

    import h3

    from hotspot_engine.filters import Filters
    from hotspot_engine.sample import write_sample
    from hotspot_engine.service import hotspots as find_hotspots
    from hotspot_engine.store.database import connect

    out = tmp / "sample"
    write_sample(out)
    db = tmp / "sample.duckdb"
    _ingest([out / "incidents.csv"], db)
    truth = json.loads((out / "truth.json").read_text())
    con = connect(db, read_only=True)
    try:
        result = find_hotspots(con, Filters(date_from="2022-04", date_to="2023-03", sv_only=True))
    finally:
        con.close()
    reach = set()
    for cells in result.areas["cells"]:
        reach |= {n for c in cells for n in h3.grid_disk(c, 1)}
    found = sum(h3.latlng_to_cell(hs["lat"], hs["lon"], 9) in reach for hs in truth["hotspots"])
    print(f"6. planted sample 2022-23: {found} of {len(truth['hotspots'])} planted hotspots found "
          f"(target >= 18: {'PASS' if found >= 18 else 'FAIL'}) in {len(result.areas)} areas")


def command_timing(tmp: Path, baseline: Path) -> None:
    import subprocess

    here = Path(__file__).resolve().parent.parent
    sample = tmp / "s1m"
    subprocess.run([sys.executable, "-m", "hotspot_engine", "sample", "--out", str(sample), "--incidents", "1000000"],
                   cwd=here, check=True, capture_output=True)
    db = tmp / "s1m.duckdb"
    subprocess.run([sys.executable, "-m", "hotspot_engine", "ingest", str(sample / "incidents.csv"), str(sample / "patrols.csv"),
                    "--db", str(db)], cwd=here, check=True, capture_output=True)
    checkouts = {"this code": here}
    if (baseline / "hotspot_engine").is_dir() and baseline.resolve() != here:
        checkouts[f"previous code ({baseline})"] = baseline
    times: dict[str, list[float]] = {name: [] for name in checkouts}
    for _ in range(3):
        for name, root in checkouts.items():
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "hotspot_engine", "hotspots", "--db", str(db), "--out", str(tmp / "h.csv")],
                           cwd=root, check=True, capture_output=True)
            times[name].append(time.perf_counter() - start)
    figures = "; ".join(f"{name} {np.median(t):.2f} s" for name, t in times.items())
    print(f"7. `hotspots` on 1,000,000 sample incidents (12 months, res 9, whole process, median of 3, interleaved): "
          f"{figures} (MEASURED.md: 1.32 s on a quiet machine)")


if __name__ == "__main__":
    main()
