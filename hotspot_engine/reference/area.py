"""Which police force areas a store covers, and their geography cut from the England and Wales pack.

A store covers the force areas its data names (police.uk "Falls within") plus any settings.toml
``[area] forces``. Hampshire alone (the HIPS sample's area) keeps the hand-made files at the top of
``geodata/``, so every HIPS behaviour is unchanged. Any other set of forces is cut from
``geodata/ew/`` (see geodata/README.md) into a folder of the same four files (districts.geojson,
lsoa.geojson, district_csp.csv, towns.csv) under the cache folder, so every reader of the HIPS files
reads another area's the same way. Cutting Cleveland and Durham takes about a second; it happens once
per force set (the folder is reused until the pack changes).

Both LSOA vintages go into the area's lsoa.geojson (a ``vintage`` column says which): police.uk
files carry 2011 codes before 2023 and 2021 codes after, and partners' files carry either.

Town labels: the pack's towns.csv holds every GeoNames place of 5,000 people or more in England and
Wales (1,635 after de-duplication) with a size class (1 = 75,000+, a city or major town; 2 = 20,000+;
3 = smaller). A city label is placed before the hotspot numbers and pushes them aside, so an area
keeps class 1 for at most CITIES_PER_FORCE cities a force, none within CITY_SPACING_M of a larger
one; the others are drawn as towns. Measured: the Metropolitan and City of London area has 23 places of 75,000+
(London boroughs among them), which would otherwise all outrank the hotspot numbers; Cleveland keeps
Middlesbrough, Hartlepool and Stockton-on-Tees; Durham keeps Darlington.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from hotspot_engine.errors import InputError

HAMPSHIRE = "E23000030"
CITIES_PER_FORCE = 3
CITY_SPACING_M = 5_000.0
#: police.uk and ONS spell a few forces differently once "Police"/"Constabulary" are dropped.
_ALIASES = {"london city of": "city of london", "metropolitan police": "metropolitan"}


def _key(name: str) -> str:
    text = re.sub(r"[^a-z ]+", " ", str(name).lower().replace("&", " and "))
    text = re.sub(r"\b(police|constabulary|service)\b", " ", text)
    text = " ".join(text.split())
    return _ALIASES.get(text, text)


def pack_dir(geodata: Path) -> Path:
    return geodata / "ew"


@lru_cache(maxsize=4)
def forces(geodata: Path) -> pd.DataFrame:
    """pfa_code, force (ONS name), key (for matching police.uk's names) of the 43 force areas."""
    path = pack_dir(geodata) / "district_csp.csv"
    if not path.is_file():
        return pd.DataFrame(columns=["pfa_code", "force", "key"])
    table = pd.read_csv(path, dtype=str)[["pfa_code", "force"]].drop_duplicates("pfa_code")
    return table.assign(key=table["force"].map(_key)).reset_index(drop=True)


def pfa_codes(names, geodata: Path, strict: bool = False) -> tuple[str, ...]:
    """PFA codes of the force names given (police.uk "Falls within" values, ONS names or codes).
    Names of no force area (British Transport Police, Northern Ireland, blanks) are skipped, or with
    ``strict`` (names a user typed in settings) refused."""
    table = forces(geodata)
    by_key = dict(zip(table["key"], table["pfa_code"]))
    codes = set(table["pfa_code"])
    out = set()
    for name in names:
        if name is None or (isinstance(name, float) and pd.isna(name)) or not str(name).strip():
            continue
        text = str(name).strip()
        code = text.upper() if text.upper() in codes else by_key.get(_key(text))
        if code:
            out.add(code)
        elif strict:
            raise InputError(f"settings [area] forces: unknown force '{text[:60]}'; give a police force area "
                             f"name as data.police.uk spells it, e.g. 'Cleveland Police', or its code (E23000013)")
    return tuple(sorted(out))


def is_hips(codes: tuple[str, ...]) -> bool:
    return not codes or codes == (HAMPSHIRE,)


def cut(geodata: Path, codes: tuple[str, ...], folder: Path) -> Path:
    """Write the area of ``codes`` into ``folder`` (the four HIPS-shaped files); returns it."""
    import geopandas as gpd

    pack = pack_dir(geodata)
    marker = folder / "districts.geojson"
    # Any of the pack's files this area is cut from, or this code, being newer re-cuts it.
    sources = [pack / "districts.parquet", pack / "district_csp.csv", pack / "towns.csv", Path(__file__)]
    sources += [pack / vintage / f"{code}.parquet" for vintage in ("lsoa11", "lsoa21") for code in codes]
    stamp = max(p.stat().st_mtime for p in sources)
    if marker.is_file() and marker.stat().st_mtime >= stamp:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    table = pd.read_csv(pack / "district_csp.csv", dtype=str)
    table = table[table["pfa_code"].isin(codes)]
    table[["lad_code", "district", "csp", "pfa_code", "force"]].to_csv(folder / "district_csp.csv", index=False)
    towns = pd.read_csv(pack / "towns.csv", dtype={"lad_code": str})
    area_towns(towns, table).to_csv(folder / "towns.csv", index=False)
    parts = []
    for vintage in ("lsoa11", "lsoa21"):
        for code in codes:
            parts.append(gpd.read_parquet(pack / vintage / f"{code}.parquet").assign(vintage=vintage[-2:]))
    # Unchanged LSOAs keep their code in 2021: listed once per vintage (the map draws the 2021 set).
    lsoas = pd.concat(parts, ignore_index=True).drop_duplicates(["lsoa_code", "vintage"])
    gpd.GeoDataFrame(lsoas, geometry="geometry", crs=4326).to_file(folder / "lsoa.geojson", driver="GeoJSON")
    districts = gpd.read_parquet(pack / "districts.parquet")
    districts = districts[districts["lad_code"].isin(table["lad_code"])][["district", "lad_code", "area_km2", "geometry"]]
    tmp = folder / "districts.tmp.geojson"
    districts.to_file(tmp, driver="GeoJSON")
    tmp.replace(marker)  # written last: its presence means the folder is whole
    return folder


def area_towns(towns: pd.DataFrame, districts: pd.DataFrame) -> pd.DataFrame:
    """The labels of an area's ``districts`` (lad_code, district, pfa_code), largest first within
    each size class, with at most CITIES_PER_FORCE cities (rank 1) a force, spaced CITY_SPACING_M
    apart; the other large places become rank 2. The pack holds one row a place; two places of one
    name in the area (Hayes in Hillingdon and in Bromley) are told apart by their district."""
    out = towns[towns["lad_code"].isin(districts["lad_code"])].sort_values("population", ascending=False, kind="stable")
    out = out.reset_index(drop=True)
    # Metres on a local flat projection: enough to tell 5 km apart within one area.
    y = out["lat"].to_numpy() * 111_320.0
    x = out["lon"].to_numpy() * 111_320.0 * np.cos(np.radians(out["lat"].mean() if len(out) else 0.0))
    cities: list[int] = []
    for i in np.nonzero(out["rank"].to_numpy() == 1)[0]:
        near = any(np.hypot(x[i] - x[k], y[i] - y[k]) < CITY_SPACING_M for k in cities)
        if len(cities) < CITIES_PER_FORCE * max(1, districts["pfa_code"].nunique()) and not near:
            cities.append(int(i))
    rank = out["rank"].to_numpy().copy()
    rank[(rank == 1) & ~np.isin(np.arange(len(out)), cities)] = 2
    district = out["lad_code"].map(districts.set_index("lad_code")["district"])
    repeated = out["name"].duplicated(keep=False)
    name = out["name"].where(~repeated, out["name"] + " (" + district + ")")
    return out.assign(name=name, rank=rank).sort_values("rank", kind="stable").reset_index(drop=True)


@lru_cache(maxsize=4)
def lsoa_lookup(geodata: Path) -> pd.DataFrame:
    """The ONS LSOA 2011 -> 2021 lookup: lsoa11_code, lsoa21_code, change (U/S/M/X), lad_code."""
    path = pack_dir(geodata) / "lsoa11_lsoa21.csv.gz"
    if not path.is_file():
        return pd.DataFrame(columns=["lsoa11_code", "lsoa21_code", "change", "lad_code"])
    return pd.read_csv(path, dtype=str)


@lru_cache(maxsize=4)
def comparison_units(geodata: Path) -> dict[str, str]:
    """LSOA code -> the code counts are compared under, so that both vintages count in one unit:
    the 2021 parts of a split 2011 LSOA count under the 2011 code (its police counts continue after
    police.uk's 2023 switch to 2021 codes), and the 2011 parts of a merged 2021 LSOA under the 2021
    code. Unchanged codes, and the few complex (X) changes, map to themselves (absent here)."""
    lookup = lsoa_lookup(geodata)
    split = lookup[lookup["change"] == "S"]
    merged = lookup[lookup["change"] == "M"]
    units = dict(zip(split["lsoa21_code"], split["lsoa11_code"]))
    units.update(zip(merged["lsoa11_code"], merged["lsoa21_code"]))
    return units
