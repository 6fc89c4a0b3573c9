"""Another force's real police.uk months, start to finish (issue 29).

For each force zip in tests/data/realdata (Cleveland 2021, twelve months; Durham 2021-10..12):
1. ingest into a fresh store: rows read, rows with coordinates, rows stored, share in the force's
   districts, seconds (wall clock on a shared machine: indicative only);
2. hotspots (defaults, serious-violence proxy) on the first half of the months: areas, largest km2,
   unique names;
3. hold-out: chosen on the first half, scored on the second; PAI of the hotspots against the same
   number of cells ranked by count (target: at least 1.0, the issue's bar), for every split of the
   year that leaves at least two months to score.

Usage: ``python benchmarks/bench_anyforce.py [--quick]`` (``--quick``: Cleveland, one split).
Data: Contains public sector information licensed under the Open Government Licence v3.0.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hotspot_engine.filters import Filters  # noqa: E402
from hotspot_engine.read.loading import ingest_paths  # noqa: E402
from hotspot_engine.reference import geography  # noqa: E402
from hotspot_engine.service import hotspots as find_hotspots  # noqa: E402
from hotspot_engine.service import validate_hotspots  # noqa: E402
from hotspot_engine.store.database import connect  # noqa: E402

DATA = ROOT / "tests" / "data" / "realdata"
ZIPS = {"Cleveland": DATA / "police-uk-cleveland-2021.zip", "Durham": DATA / "police-uk-durham-2021-10-to-12.zip"}


def with_coordinates(path: Path) -> int:
    total = 0
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            with z.open(name) as f:
                total += int(pd.read_csv(f, usecols=["Latitude"])["Latitude"].notna().sum())
    return total


def run_force(force: str, path: Path, quick: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        con = connect(Path(tmp) / "store.duckdb")
        start = time.perf_counter()
        summaries = ingest_paths(con, [path])
        seconds = time.perf_counter() - start
        stored = sum(s.added for s in summaries)
        coords = with_coordinates(path)
        months = sorted(r[0].strftime("%Y-%m") for r in con.execute("SELECT DISTINCT month FROM incidents").fetchall())
        print(f"{force}: {len(summaries)} files, read {sum(s.rows_read for s in summaries):,}, with coordinates "
              f"{coords:,}, stored {stored:,} ({100 * stored / coords:.3f}%), districts "
              f"{', '.join(geography.district_names())}; ingest {seconds:.1f} s")
        half = len(months) // 2
        splits = [half] if quick else range(max(1, half - 2), len(months) - 1)
        for cut in splits:
            filters = Filters(date_from=months[0], date_to=months[cut - 1], sv_only=True)
            areas = find_hotspots(con, filters).areas
            _, holdout = validate_hotspots(con, filters, months[-1])
            ratio = holdout.pai_ratio()
            print(f"  chosen {months[0]}..{months[cut - 1]}: {len(areas)} areas, largest "
                  f"{areas['area_km2'].max() if len(areas) else 0:.2f} km2, names unique "
                  f"{bool(areas['hotspot_name'].is_unique)}; scored {holdout.test[0]}..{holdout.test[1]} "
                  f"({holdout.test_incidents} incidents): PAI ratio to count ranking "
                  f"{'n/a' if ratio is None else f'{ratio:.3f}'}")
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for force, path in ZIPS.items():
        if args.quick and force != "Cleveland":
            continue
        geography.use_area(())
        run_force(force, path, args.quick)


if __name__ == "__main__":
    main()
