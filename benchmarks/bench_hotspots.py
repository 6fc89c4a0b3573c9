"""Hotspot engine speed, measured in one run (issue 4):

1. analytical Gi* over every res-9 cell of the 14 districts (target < 0.2 s);
2. Gi* with 999 conditional permutations vs esda ``G_Local(star=True, permutations=999)`` on the
   same input (target: ratio <= 1);
3. binning + counting 1,000,000 random incidents in the area (target < 2 s);
plus the machine. Usage: ``python benchmarks/bench_hotspots.py [--esda-cells N]`` (esda on a subset
of N cells when the full area would take too long; the ratio is then per cell).
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hotspot_engine.reference import geography  # noqa: E402
from hotspot_engine.analyse.gistar import gistar  # noqa: E402
from machine_info import machine_summary


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
    args = parser.parse_args()
    print(machine())

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


if __name__ == "__main__":
    main()
