"""A national data.police.uk month (all 43 forces of England and Wales) through `ingest`: rows, time and
peak memory of the whole process (issue 29: "a national month loads in under 2 GB").

The month is synthetic at national size: each LSOA 2011 of the geography pack (geodata/ew/lsoa11, one
file per force) gets a Poisson number of rows (mean ``--per-lsoa``, 15 by default: about 520,000 rows,
a real national month's size) at its representative point moved up to about 150 m, with the force as
police.uk names it in "Falls within" ("<force> Police"), one of the 14 crime types (a third of them
anti-social behaviour, with no Crime ID), and a street location. So the store covers every force area,
as it does when a user loads the national download.

Usage: ``python benchmarks/bench_national_month.py [--per-lsoa 15] [--seed 1] [--keep DIR]``.
Prints the file's size and rows, then the ingest's summary line, wall time and the peak resident memory
of the ingest process (``ru_maxrss`` of the child).

Measured (2-core machine shared with other work, empty geography cache ``HOTSPOT_CACHE``): 861 MB peak,
32 s, every row stored, against 2,733 MB and 324 s for the code before this change run just after on the
same machine (under heavy load: 815 MB, 210 s). Before, the area was widened block by block (11 times,
each a new cut, study area and interior-cell lookup) and the lookup held 1.6M hexagons at once.
The same month as a zip of 43 per-force files (data.police.uk's download) widens the area once from
the file names.
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
PACK = ROOT / "geodata" / "ew"
HEADER = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location", "LSOA code",
          "LSOA name", "Crime type", "Last outcome category", "Context"]
CRIME_TYPES = ["Anti-social behaviour", "Bicycle theft", "Burglary", "Criminal damage and arson", "Drugs",
               "Other theft", "Possession of weapons", "Public order", "Robbery", "Shoplifting",
               "Theft from the person", "Vehicle crime", "Violence and sexual offences", "Other crime"]
TYPE_WEIGHTS = np.array([33, 1.5, 4, 8, 3, 6, 0.8, 6, 1, 5, 1.2, 6, 22, 1.5])


def _force_rows(path: Path, force: str, per_lsoa: float, rng: np.random.Generator) -> pd.DataFrame:
    import geopandas as gpd

    lsoas = gpd.read_parquet(path)
    points = lsoas.geometry.representative_point()
    n = rng.poisson(per_lsoa, len(lsoas))
    which = np.repeat(np.arange(len(lsoas)), n)
    lat = points.y.to_numpy()[which] + rng.normal(0, 0.0007, which.size)
    lon = points.x.to_numpy()[which] + rng.normal(0, 0.0011, which.size)
    kind = rng.choice(len(CRIME_TYPES), which.size, p=TYPE_WEIGHTS / TYPE_WEIGHTS.sum())
    crime = np.array(CRIME_TYPES, dtype=object)[kind]
    ids = np.where(kind == 0, "", [f"{force[:3]}{i:08x}{path.stem}" for i in range(which.size)])
    return pd.DataFrame({
        "Crime ID": ids, "Month": "2024-06", "Reported by": f"{force} Police", "Falls within": f"{force} Police",
        "Longitude": lon.round(6), "Latitude": lat.round(6),
        "Location": [f"On or near Street {i % 997}" for i in range(which.size)],
        "LSOA code": lsoas["lsoa_code"].to_numpy()[which], "LSOA name": lsoas["lsoa_name"].to_numpy()[which],
        "Crime type": crime, "Last outcome category": "", "Context": ""})[HEADER]


def write_month(out: Path, per_lsoa: float, seed: int) -> int:
    """The national month as one CSV; returns its rows."""
    forces = pd.read_csv(PACK / "district_csp.csv", dtype=str)[["pfa_code", "force"]].drop_duplicates("pfa_code")
    rng = np.random.default_rng(seed)
    rows = 0
    with out.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(HEADER) + "\n")
        for code, force in forces.itertuples(index=False):
            frame = _force_rows(PACK / "lsoa11" / f"{code}.parquet", force, per_lsoa, rng)
            frame.to_csv(handle, header=False, index=False)
            rows += len(frame)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-lsoa", type=float, default=15.0, help="mean rows per LSOA (15: about 520,000 rows)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", help="write the month and the store here instead of a temporary folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        month = folder / "2024-06-national-street.csv"
        rows = write_month(month, args.per_lsoa, args.seed)
        print(f"national month: {rows:,} rows, {month.stat().st_size / 1e6:.0f} MB, 43 forces", flush=True)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "hotspot_engine", "ingest", str(month), "--db",
                               str(folder / "national.duckdb")], cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        lines = (done.stdout + done.stderr).strip().splitlines()
        print("\n".join(line for line in lines if "rows read" in line or "rejected" in line)[:2000] or "\n".join(lines[-3:]))
        print(f"ingest exit {done.returncode}: {seconds:.0f} s, peak {peak_mb:,.0f} MB (target: under 2,048 MB)")


if __name__ == "__main__":
    main()
