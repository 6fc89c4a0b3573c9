"""Export speed: 100,000 incident points and the res-9 cell layer of the whole force area, in each
format, plus the offline HTML map and the PNG/PDF. Prints seconds (median of --repeat runs).

    python benchmarks/bench_export.py [--points 100000] [--repeat 3]

Synthetic points, spread like incidents around the force's towns; no store needed.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hotspot_engine.write import export

from hotspot_engine.render import html_map as foliummap

from hotspot_engine.reference import geography

from hotspot_engine.render import static_map as static_maps  # noqa: E402
from hotspot_engine.filters import Filters  # noqa: E402

TOWNS = [(50.905, -1.404), (50.80, -1.09), (51.265, -1.087), (50.97, -1.35), (50.70, -1.29), (51.29, -0.76)]


def _incident_rows(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    town = rng.integers(0, len(TOWNS), n)
    centre = np.array(TOWNS)[town]
    lat = centre[:, 0] + rng.normal(0, 0.02, n)
    lon = centre[:, 1] + rng.normal(0, 0.03, n)
    return pd.DataFrame(
        {
            "incident_id": [f"B{i:07d}" for i in range(n)],
            "month": pd.Series(rng.integers(1, 13, n)).map(lambda m: f"2023-{m:02d}"),
            "occurred_at": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365 * 24 * 60, n), unit="min"),
            "lat": lat,
            "lon": lon,
            "offence": "Robbery of personal property",
            "sv_category": "robbery",
            "district": "Southampton",
            "csp": "Southampton",
            "location": "On or near High Street",
            "harm": 365.0,
            "h3": geography.cells_for_points(lat, lon, 9),
        }
    )


def _time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    rows = _incident_rows(args.points)
    study = geography.study_area(9).cells
    counts = pd.DataFrame({"h3": rows["h3"]}).groupby("h3").size().rename("count").reset_index()
    cells = study.merge(counts, on="h3", how="left").fillna({"count": 0})
    cells["count"] = cells["count"].astype(int)
    cells["harm"] = cells["count"] * 365.0
    top = cells["count"].rank(ascending=False, method="first") <= 60
    cells["hotspot_id"] = np.where(top, "H" + cells["district"].str[:3], None)
    cells["hotspot_name"] = np.where(top, cells["district"] + " - High Street", None)

    timings: dict[str, float] = {}
    timings["incidents_layer (build)"] = _time(lambda: export.incidents_layer(rows), args.repeat)
    timings["cells_layer (build)"] = _time(lambda: export.cells_layer(cells), args.repeat)
    points = export.incidents_layer(rows)
    hexes = export.cells_layer(cells)
    areas = export.areas_layer(None, cells)
    meta = export.ExportMeta("benchmark", Filters("2023-01", "2023-12"))
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("parquet", "gpkg", "geojson", "csv"):
            timings[f"{len(points):,} points -> .{fmt}"] = _time(
                lambda: export.write_layers({"incidents": points}, Path(tmp) / f"p.{fmt}", meta), args.repeat
            )
            timings[f"{len(hexes):,} res-9 cells -> .{fmt}"] = _time(
                lambda: export.write_layers({"cells": hexes}, Path(tmp) / f"c.{fmt}", meta), args.repeat
            )
        timings[f"{len(hexes):,} res-9 cells -> .xlsx"] = _time(
            lambda: export.write_layers({"cells": hexes}, Path(tmp) / "c.xlsx", meta), 1
        )
    timings["partner_safe (cells + areas)"] = _time(lambda: export.partner_safe({"cells": hexes, "areas": areas}), args.repeat)
    districts = geography.districts()
    page = ""

    def html() -> None:
        nonlocal page
        page = foliummap.map_html(foliummap.offline_map(hexes, areas, districts, "benchmark"))

    timings[f"offline HTML map ({int((hexes['count'] > 0).sum()):,} cells drawn)"] = _time(html, args.repeat)
    timings["map_png"] = _time(lambda: static_maps.map_png(hexes, areas, districts, "benchmark"), 1)
    table = areas[["hotspot_id", "hotspot_name", "count"]]
    timings["summary_pdf"] = _time(lambda: static_maps.summary_pdf("benchmark", {"a": "1"}, hexes, areas, districts, table), 1)

    width = max(len(k) for k in timings)
    print(f"export benchmark: median of {args.repeat} (xlsx, png, pdf: 1 run)")
    for name, seconds in timings.items():
        print(f"  {name:<{width}}  {seconds:7.3f} s")
    print(f"  HTML map size: {len(page) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
