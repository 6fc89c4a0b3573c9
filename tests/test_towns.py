"""Issue 29: town and city labels for any police force area (geodata/ew/towns.csv, built by
geodata/build_pack.py from GeoNames places of 5,000 people or more; see geodata/README.md)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from hotspot_engine.reference import area as area_pack
from hotspot_engine.reference import geography
from hotspot_engine.render import deck

ROOT = Path(__file__).resolve().parent.parent
CLEVELAND = "E23000013"
DURHAM = "E23000008"


@pytest.fixture(autouse=True, scope="module")
def _back_to_hips():
    """The area is process-wide (one store per app process): leave it as HIPS for other modules."""
    yield
    geography.use_area(())


def _build_pack():
    spec = importlib.util.spec_from_file_location("build_pack", ROOT / "geodata" / "build_pack.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _placed_names(codes: tuple[str, ...]) -> tuple[pd.DataFrame, set[str]]:
    geography.use_area(codes)
    placed = deck.map_labels(None, deck.force_view(), (1050, 640), presentation=False)
    return deck.towns(), set(placed.loc[placed["kind"] != "number", "text"])


def test_cleveland_opens_labelled_with_its_real_towns():
    towns, on_map = _placed_names((CLEVELAND,))
    assert {"Middlesbrough", "Hartlepool", "Stockton-on-Tees", "Redcar"} <= on_map
    assert not towns["name"].duplicated().any()
    # Its cities are the three of 75,000 people or more; districts are no longer the labels.
    assert set(towns.loc[towns["rank"] == 1, "name"]) == {"Middlesbrough", "Hartlepool", "Stockton-on-Tees"}
    assert "Redcar and Cleveland" not in set(towns["name"])
    assert {"Billingham", "Guisborough", "Thornaby-on-Tees"} <= set(towns["name"])
    assert "GeoNames" in deck.towns_attribution() and "CC BY 4.0" in deck.towns_attribution()
    # A map with nothing to fit (a comparison of two empty lists) opens on Cleveland, not Hampshire.
    assert deck.view_for([], []) == deck.force_view() and 54.4 < deck.force_view()["latitude"] < 54.8


def test_durham_and_a_two_force_area_get_theirs_once_each():
    towns, on_map = _placed_names((DURHAM,))
    assert {"Durham", "Darlington"} <= on_map
    assert {"Peterlee", "Seaham", "Bishop Auckland", "Consett"} <= set(towns["name"])
    both, _ = _placed_names((CLEVELAND, DURHAM))
    assert not both["name"].duplicated().any()
    assert {"Middlesbrough", "Durham", "Darlington"} <= set(both["name"])


def test_hampshire_keeps_its_hand_placed_towns():
    geography.use_area(())
    pd.testing.assert_frame_equal(deck.towns(), pd.read_csv(ROOT / "geodata" / "towns.csv"))
    assert deck.towns_attribution() == ""
    assert deck.view_for([], []) == {"latitude": 50.98, "longitude": -1.25, "zoom": 8.6}


def test_an_area_caps_its_cities_and_tells_same_named_places_apart():
    towns = pd.DataFrame({
        "name": ["Big", "Near big", "Far", "Hayes", "Hayes", "Fourth"],
        "lat": [51.5, 51.51, 51.9, 51.51, 51.38, 51.2], "lon": [-0.12, -0.12, -0.5, -0.42, 0.02, -0.9],
        "rank": [1, 1, 1, 2, 3, 1], "population": [9_000_000, 300_000, 200_000, 90_000, 15_000, 80_000],
        "lad_code": ["A", "A", "B", "B", "C", "C"]})
    districts = pd.DataFrame({"lad_code": ["A", "B", "C"], "district": ["Westminster", "Hillingdon", "Bromley"],
                              "pfa_code": ["P1", "P1", "P1"]})
    out = area_pack.area_towns(towns, districts)
    ranks = dict(zip(out["name"], out["rank"]))
    # Within 5 km of a larger city a city is drawn as a town; a force keeps three cities at most.
    assert ranks["Near big"] == 2 and ranks["Big"] == ranks["Far"] == ranks["Fourth"] == 1
    assert {"Hayes (Hillingdon)", "Hayes (Bromley)"} <= set(out["name"])
    assert out["rank"].is_monotonic_increasing
    five = pd.concat([towns.assign(lad_code="A", name=towns["name"] + str(i), lat=towns["lat"] + i)
                      for i in range(3)])
    assert (area_pack.area_towns(five, districts)["rank"] == 1).sum() == 3


def test_the_pack_build_drops_second_names_for_one_place_and_keeps_neighbouring_towns():
    build_pack = _build_pack()
    places = pd.DataFrame({
        "name": ["Saddleworth", "Uppermill", "Hayling Island", "South Hayling", "Sunbury-on-Thames",
                 "Walton-on-Thames", "Middlesbrough", "Thornaby-on-Tees"],
        "x": [399_000, 399_054, 471_000, 471_700, 510_000, 511_900, 449_500, 445_000],
        "y": [408_000, 408_000, 99_500, 99_700, 169_000, 168_400, 520_000, 516_000],
        "population": [25_441, 11_191, 16_887, 15_485, 18_000, 22_834, 142_707, 22_356]})
    metric = gpd.GeoDataFrame(places, geometry=gpd.points_from_xy(places["x"], places["y"]), crs=27700)
    kept = set(build_pack.dedupe_places(metric)["name"])
    assert kept == {"Saddleworth", "Hayling Island", "Sunbury-on-Thames", "Walton-on-Thames", "Middlesbrough",
                    "Thornaby-on-Tees"}


def test_the_packed_labels_cover_every_district_and_stay_small():
    pack = ROOT / "geodata" / "ew"
    towns = pd.read_csv(pack / "towns.csv", dtype={"lad_code": str})
    districts = pd.read_csv(pack / "district_csp.csv", dtype=str)
    assert set(districts["lad_code"]) <= set(towns["lad_code"])
    assert 1_000 <= len(towns) <= 3_000 and (pack / "towns.csv").stat().st_size < 200_000
    assert towns["lat"].between(49.8, 55.9).all() and towns["lon"].between(-6.5, 1.8).all()
    assert set(towns["rank"]) == {1, 2, 3} and towns["name"].str.strip().str.len().gt(0).all()


def test_districts_that_geonames_lists_as_places_are_not_town_labels():
    build_pack = _build_pack()
    places = pd.DataFrame({"name": ["Mendip", "High Peak", "Lewes", "Wells", "Brent"],
                           "population": [110_000, 92_666, 17_297, 10_536, 329_100]})
    kept = build_pack.drop_districts_as_places(places, {"Mendip", "High Peak", "Lewes", "Brent"},
                                               {"lewes", "wells", "brent"})
    # A district's name stays where ONS has a built-up area of that name (Lewes, Brent).
    assert kept["name"].tolist() == ["Lewes", "Wells", "Brent"]
    towns = pd.read_csv(ROOT / "geodata" / "ew" / "towns.csv")
    assert not {"Mendip", "High Peak", "Fylde", "Rossendale"} & set(towns["name"])
