"""Issue 29: the pack's 2021 LSOAs are ONS's generalised (BGC) boundaries simplified as one coverage at
60 m, not the super-generalised set (about 8 points an LSOA, a median 24% of their area off the BGC
shapes)."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

PACK = Path(__file__).resolve().parent.parent / "geodata" / "ew"


def test_every_2021_lsoa_is_there_once_with_street_scale_detail():
    cleveland = gpd.read_parquet(PACK / "lsoa21" / "E23000013.parquet")
    lookup = pd.read_csv(PACK / "lsoa11_lsoa21.csv.gz", dtype=str)
    assert set(cleveland["lsoa_code"]) == set(lookup.loc[lookup["lad_code"].isin(
        ["E06000001", "E06000002", "E06000003", "E06000004"]), "lsoa21_code"])
    assert not cleveland["lsoa_code"].duplicated().any() and cleveland.geometry.is_valid.all()
    # One coverage: neighbours share their boundary, so the LSOAs do not overlap (simplifying each
    # alone left slivers of overlap between neighbours).
    metric = cleveland.to_crs(27700)
    assert metric.geometry.union_all().area / metric.area.sum() > 0.9999
    # The super-generalised set had a median 7 points per LSOA here; the generalised one about 20.
    assert np.median(shapely.get_num_coordinates(cleveland.geometry.to_numpy())) >= 15
    # Areas (km², measured before simplifying) add up to the districts' within 1%.
    districts = gpd.read_parquet(PACK / "districts.parquet")
    total = districts.loc[districts["pfa_code"] == "E23000013", "area_km2"].sum()
    assert abs(cleveland["area_km2"].sum() / total - 1) < 0.01
    sizes = [p.stat().st_size for p in (PACK / "lsoa21").glob("*.parquet")]
    assert len(sizes) == 43 and max(sizes) < 1_000_000 and sum(sizes) < 13_000_000
