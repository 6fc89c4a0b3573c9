"""Do the hotspots predict? The product's choice against the two baselines, on real months.

For every split of the real police.uk months (choose on the earlier months, score on the later
ones) and for the serious-violence proxy (Robbery + Possession of weapons, ``--sv-only``) and for
"Violence and sexual offences" (``--offence violence_and_sexual``), prints:

* the product's hotspots (``hotspots`` with its defaults on the choice window) beside ranking cells
  by count (ties broken at random: the expected catch) and a 150 m Gaussian kernel density surface
  over the incidents' own points (evaluated at cell centres, as /work/shared/tools/real-data-check
  does) at the same number of cells: PAI, PEI and RRI, with a 95% bootstrap interval over test months;
* the hit-rate curve (PAI at 1% to 10% of the study area) of the product's predictor (shrinkage,
  hotspot_engine/analyse/predict.py), the count ranking and the point kernel;
* a summary: the product's PAI over the better baseline's, per offence group, mean over splits.

Every predictor is scored by the same code (``predict.score``). Data: the zip in
/work/shared/realdata (Hampshire 2024-01..04) unless ``--data`` names other police.uk folders/zips.

Usage: ``python benchmarks/bench_predict.py [--quick] [--data PATH ...]``
(``--quick``: the 2024-01..02 -> 03..04 split only; the full run takes a few minutes on a busy machine.)
"""
from __future__ import annotations

import argparse
import io
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hotspot_engine.analyse import predict  # noqa: E402
from hotspot_engine.filters import Filters  # noqa: E402
from hotspot_engine.read.ingest import ingest_paths  # noqa: E402
from hotspot_engine.service import hotspots  # noqa: E402
from hotspot_engine.store.database import connect  # noqa: E402

REALDATA = Path("/work/shared/realdata/police-uk-hampshire-2018-03-and-2024-01-to-04.zip")
GROUPS = {"proxy": (["Robbery", "Possession of weapons"], {"sv_only": True}),
          "violence": (["Violence and sexual offences"], {"offences": ("violence_and_sexual",)})}
SPLITS = [(("2024-01", "2024-02"), ("2024-03", "2024-04")), (("2024-01",), ("2024-02",)),
          (("2024-02",), ("2024-03",)), (("2024-03",), ("2024-04",)), (("2024-01", "2024-03"), ("2024-04",))]


def read_street(paths: list[Path]) -> pd.DataFrame:
    frames = []
    for path in paths:
        if path.suffix == ".zip":
            z = zipfile.ZipFile(path)
            frames += [pd.read_csv(io.BytesIO(z.read(n))) for n in z.namelist() if n.endswith("-street.csv")]
        else:
            frames += [pd.read_csv(f) for f in sorted(path.rglob("*-street.csv"))]
    return pd.concat(frames, ignore_index=True).dropna(subset=["Latitude"])


def to_xy(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    return np.c_[np.asarray(lon) * 111320 * np.cos(np.radians(50.95)), np.asarray(lat) * 110540]


def point_kde(points: np.ndarray, centres: np.ndarray, bandwidth: float = 150.0) -> np.ndarray:
    from scipy.spatial import cKDTree

    distances = cKDTree(centres).sparse_distance_matrix(cKDTree(points), 3 * bandwidth, output_type="coo_matrix")
    weights = np.exp(-0.5 * (distances.data / bandwidth) ** 2)
    return np.bincount(distances.row, weights=weights, minlength=len(centres))


def month_grid(cell_pos: np.ndarray, months: np.ndarray, wanted: tuple[str, ...], n: int) -> np.ndarray:
    grid = np.zeros((n, len(wanted)))
    for k, month in enumerate(wanted):
        ok = (months == month) & (cell_pos >= 0)
        grid[:, k] = np.bincount(cell_pos[ok], minlength=n)
    return grid


def months_between(first: str, last: str) -> tuple[str, ...]:
    out, (y, m) = [], (int(first[:4]), int(first[5:7]))
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return tuple(out)


def one_split(con, data: pd.DataFrame, group: str, train: tuple[str, ...], test: tuple[str, ...]) -> dict:
    types, kw = GROUPS[group]
    result = hotspots(con, Filters(date_from=train[0], date_to=train[-1], res=9, **kw))
    cells = result.cells
    ids = np.array([int(h, 16) for h in cells["h3"]], dtype=np.uint64)
    order = np.argsort(ids)
    import h3.api.basic_int as h3i

    hexes = np.array([h3i.latlng_to_cell(a, b, 9) for a, b in zip(data["Latitude"], data["Longitude"])], dtype=np.uint64)
    where = np.clip(np.searchsorted(ids[order], hexes), 0, len(ids) - 1)
    every_pos = np.where(ids[order][where] == hexes, order[where], -1)
    selected = data["Crime type"].isin(types).to_numpy()
    sub, pos = data[selected], every_pos[selected]
    train_months, test_months = months_between(train[0], train[-1]), months_between(test[0], test[-1])
    month = sub["Month"].to_numpy(dtype=str)
    train_grid = month_grid(pos, month, train_months, len(cells))
    test_grid = month_grid(pos, month, test_months, len(cells))
    # The other offences in the window: the product's prior (as service.hotspots gives it).
    others = month_grid(every_pos[~selected], data["Month"].to_numpy(dtype=str)[~selected], train_months, len(cells))
    actual, before = test_grid.sum(axis=1), train_grid.sum(axis=1)
    in_train = np.isin(month, train_months)
    kde = point_kde(to_xy(sub["Latitude"].to_numpy()[in_train], sub["Longitude"].to_numpy()[in_train]),
                    to_xy(cells["lat"].to_numpy(), cells["lon"].to_numpy()))
    history = predict.CellHistory(ids, train_grid, context=others.sum(axis=1))
    risks = {"product (shrinkage)": predict.Shrinkage().predict(history), "count ranking": before,
             "kernel density 150 m": kde}
    hot = cells["is_hotspot"].astype(bool).to_numpy()
    share = hot.sum() / len(cells)
    # The product's own cells: a risk of 1 on them, 0 elsewhere, so score() takes exactly those.
    at_area = {"product hotspots": hot.astype(float), "its predictor, all cells": risks["product (shrinkage)"],
               "count ranking": before, "kernel density 150 m": kde}
    rows = {}
    for name, risk in at_area.items():
        row = predict.score(risk, actual, share, train=before)
        row["ci"] = predict.bootstrap_pai(risk, test_grid, share)
        rows[name] = row
    curve = {name: [s["pai"] for s in predict.hit_rate_curve(risk, actual)] for name, risk in risks.items()}
    significant = int(cells.loc[cells["significant"].astype(bool), "area_rank"].nunique())
    return {"rows": rows, "curve": curve, "cells": int(hot.sum()), "areas": len(result.areas),
            "significant": significant, "test_incidents": int(actual.sum())}


def show(group: str, train, test, out: dict) -> None:
    print(f"\n{group}: chosen on {'..'.join(train)}, scored on {'..'.join(test)} ({out['test_incidents']:,} incidents); "
          f"{out['areas']} hotspot places, {out['cells']} cells; {out['significant']} significant places listed")
    print(f"  {'at the hotspots area':<24}{'PAI':>7}{'95% over months':>18}{'PEI':>7}{'RRI':>7}")
    for name, row in out["rows"].items():
        low, high = row["ci"]
        interval = f"{low:.0f}-{high:.0f}" if np.isfinite(low) else "one month"
        print(f"  {name:<24}{row['pai']:>7.1f}{interval:>18}{row['pei']:>7.2f}{row['rri']:>7.2f}")
    shares = "".join(f"{s:>6.0%}" for s in predict.CURVE_SHARES)
    print(f"  {'PAI at area share':<24}{shares}")
    for name, values in out["curve"].items():
        print(f"  {name:<24}" + "".join(f"{v:>6.1f}" for v in values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--data", nargs="*", type=Path, default=[REALDATA])
    args = parser.parse_args()
    data = read_street(args.data)
    data = data[data["Month"].astype(str).str.startswith("2024")]
    splits = SPLITS[:1] if args.quick else SPLITS
    ratios: dict[str, list[float]] = {g: [] for g in GROUPS}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "months"
        folder.mkdir()
        data.to_csv(folder / "2024-hampshire-street.csv", index=False)
        con = connect(Path(tmp) / "store.duckdb")
        ingest_paths(con, [folder])
        for group in GROUPS:
            for train, test in splits:
                out = one_split(con, data, group, train, test)
                show(group, train, test, out)
                rows = out["rows"]
                best = max(rows["count ranking"]["pai"], rows["kernel density 150 m"]["pai"])
                ratios[group].append(rows["product hotspots"]["pai"] / best)
        con.close()
    print("\nproduct hotspots' PAI over the better baseline at the same area (goal: at least 1):")
    for group, values in ratios.items():
        print(f"  {group}: " + ", ".join(f"{v:.2f}" for v in values) + f"; mean {np.mean(values):.2f}")


if __name__ == "__main__":
    main()
