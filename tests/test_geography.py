"""Districts, CSPs, point-to-district assignment and the H3 study area."""
from __future__ import annotations

import h3
import numpy as np
import pytest

from hotspot_engine.reference import geography
from hotspot_engine.errors import InputError


def test_fourteen_districts_with_official_areas():
    d = geography.districts()
    assert len(d) == 14 and d.geometry.is_valid.all()
    area = dict(zip(d["district"], d.to_crs(27700).area / 1e6))
    # ONS standard area measurements: Southampton about 50 km2, New Forest about 753 km2 (DOMAIN.md)
    assert area["Southampton"] == pytest.approx(50, abs=2)
    assert area["New Forest"] == pytest.approx(753, abs=10)
    assert len(geography.lsoas()) == 1194


def test_csp_lookup_groups_north_hampshire():
    lookup = geography.csp_lookup()
    north = set(lookup.loc[lookup["csp"] == "Safer North Hampshire", "district"])
    assert north == {"Basingstoke and Deane", "Hart", "Rushmoor"}
    assert len(geography.csp_names()) == 12
    assert geography.districts_for((), ("Safer North Hampshire",)) == sorted(north)
    with pytest.raises(InputError, match="Atlantis"):
        geography.districts_for(("Atlantis",))


def test_points_get_their_district_and_coastal_points_the_nearest():
    lat = np.array([50.9063, 50.7965, 51.2640, 50.7600, 48.8566, np.nan])
    lon = np.array([-1.4043, -1.0935, -1.0860, -1.1200, 2.3522, -1.0])
    got = geography.assign_districts(lat, lon)
    assert list(got[:3]) == ["Southampton", "Portsmouth", "Basingstoke and Deane"]
    # In the Solent, 1-2 km off Gosport/Portsmouth: within the 2 km coastal tolerance.
    assert got[3] in {"Gosport", "Portsmouth", "Isle of Wight"}
    assert got[4] is None and got[5] is None  # Paris; missing coordinates


def test_fast_path_agrees_with_exact_point_in_polygon():
    rng = np.random.default_rng(3)
    points = geography.lsoas().sample_points(20, rng=rng).explode()
    lat, lon = points.y.to_numpy(), points.x.to_numpy()
    fast = geography.assign_districts(lat, lon)
    exact = geography._exact_districts(lat, lon, geography.COASTAL_TOLERANCE_M)
    assert (fast == exact).mean() == 1.0


def test_cells_agree_with_h3_py():
    lat = np.array([50.9063, 51.0620, 50.7010])
    lon = np.array([-1.4043, -1.3150, -1.2920])
    for res in (7, 9, 11):
        cells = geography.cells_for_points(lat, lon, res)
        assert [format(int(c), "x") for c in cells] == [h3.latlng_to_cell(a, b, res) for a, b in zip(lat, lon)]
    parents = geography.cell_parents(geography.cells_for_points(lat, lon, 11), 9)
    assert list(parents) == list(geography.cells_for_points(lat, lon, 9))


def test_study_area_covers_districts_with_zeros_and_neighbours():
    area = geography.study_area(9, csps=("Gosport CSP",))
    cells = area.cells
    assert set(cells["district"]) == {"Gosport"} and cells["h3"].is_unique
    # Gosport is about 25 km2 and a res-9 cell 0.105 km2: every covering cell, edges included.
    assert 240 <= len(cells) <= 420
    i, j = geography.ring_neighbours(cells["h3"].to_numpy(), 1)
    assert (i == j).sum() == len(cells)  # self included
    degree = np.bincount(i, minlength=len(cells))
    assert degree.max() == 7 and degree.min() >= 1
    centre = h3.latlng_to_cell(50.7950, -1.1230, 9)
    assert h3.str_to_int(centre) in set(cells["h3"])


def test_string_and_int_cells_round_trip():
    cells = geography.cells_for_points(np.array([50.9]), np.array([-1.4]), 9)
    assert list(geography.str_to_cell(geography.cell_to_str(cells))) == list(cells)


@pytest.mark.parametrize("ids", [
    list(geography.cell_to_str(geography._all_study_cells(7)["h3"].to_numpy())),  # the fast path
    ["89195d2cc23ffff", "0", "ff", "ffffffffffffffff"],
    ["0x89195d2cc23ffff", " 89195d2cc23ffff", "89195D2CC23FFFF", "8_9"],  # what int(s, 16) accepts
])
def test_hex_ids_parse_as_int_does(ids):
    import pandas as pd

    expected = [int(s, 16) for s in ids]
    assert geography.str_to_cell(ids).tolist() == expected
    assert geography.str_to_cell(pd.Series(ids)).tolist() == expected
    assert geography.str_to_cell(pd.Series(ids, dtype=object)).tolist() == expected


@pytest.mark.parametrize("ids", [["zz"], [None], ["1ffffffffffffffff"], ["89195d2cc23ffff", 5]])
def test_bad_hex_ids_are_refused_as_int_refuses_them(ids):
    with pytest.raises((TypeError, ValueError, OverflowError)):
        geography.str_to_cell(ids)


def test_hexagon_wkt_from_the_area_cache_is_the_wkt_built_from_the_cells(tmp_path, monkeypatch):
    """cell_wkt keeps the study area's hexagons on disk: the first call builds the file, the next
    reads it, and both give what shapely writes for the cells, in the order asked for."""
    monkeypatch.setenv("HOTSPOT_CACHE", str(tmp_path))
    geography._study_wkt.cache_clear()
    cells = geography._all_study_cells(7)["h3"].to_numpy()[::-1].copy()  # not in the cache's order
    built = geography._compute_wkt(cells).to_pylist()
    assert geography.cell_wkt(cells).to_pylist() == built
    assert list(tmp_path.glob("cell_wkt_r7_*.arrow"))
    geography._study_wkt.cache_clear()  # now from the file
    assert geography.cell_wkt(cells).to_pylist() == built
    outside = geography.cells_for_points(np.array([53.48]), np.array([-2.24]), 7)  # Manchester
    assert geography.cell_wkt(np.r_[cells[:3], outside]).to_pylist() == built[:3] + geography._compute_wkt(outside).to_pylist()
    geography._study_wkt.cache_clear()


def test_hex_ids_in_a_chunked_arrow_column_decode_like_int():
    # a pandas column backed by Arrow in several chunks (pd.concat of two): the Hotspot sets page's
    # comparison failed on it with "ChunkedArray has no attribute buffers"
    import pandas as pd

    ids = [h3.latlng_to_cell(50.9, -1.4, 9), h3.latlng_to_cell(50.8, -1.1, 9), "8f"]
    column = pd.concat([pd.Series(ids[:1], dtype="string[pyarrow]"), pd.Series(ids[1:], dtype="string[pyarrow]")],
                       ignore_index=True)
    assert geography.str_to_cell(column).tolist() == [int(i, 16) for i in ids]


def test_study_area_ring_pairs_and_centres_from_the_area_cache_are_the_computed_ones(tmp_path, monkeypatch):
    """ring_neighbours (k=1) and cell_centres of the whole study area come from the area's cache
    once built: the same arrays as computed, in both calls (built, then read from the file); any
    other cells (a subset, k=2) are computed."""
    monkeypatch.setenv("HOTSPOT_CACHE", str(tmp_path))
    geography._all_study_cells_of.cache_clear()
    geography._stored_pair.cache_clear()
    cells = geography._all_study_cells(7)["h3"].to_numpy(dtype=np.uint64)  # builds the study cells file
    assert list(tmp_path.glob("study_cells_r7_*.arrow"))
    i, j = geography._compute_ring_neighbours(cells, 1)
    lat, lon = geography._compute_cell_centres(cells)
    for _ in range(2):
        got_i, got_j = geography._study_or_computed_ring_neighbours(cells, 1)
        got_lat, got_lon = geography._study_or_computed_centres(cells)
        assert np.array_equal(got_i, i) and np.array_equal(got_j, j)
        assert np.array_equal(got_lat, lat) and np.array_equal(got_lon, lon)
        assert got_i.dtype == i.dtype and got_lat.dtype == lat.dtype
        geography._stored_pair.cache_clear()  # the second round reads the files
    assert list(tmp_path.glob("ring1_r7_*.arrow")) and list(tmp_path.glob("centres_r7_*.arrow"))
    subset = cells[::2].copy()
    assert geography._study_arrays(subset, "ring1", ("i", "j"), geography._ring1) is None
    si, sj = geography._study_or_computed_ring_neighbours(subset, 1)
    assert np.array_equal(si, geography._compute_ring_neighbours(subset, 1)[0])
    assert np.array_equal(geography._study_or_computed_ring_neighbours(cells, 2)[1], geography._compute_ring_neighbours(cells, 2)[1])
    geography._all_study_cells_of.cache_clear()
    geography._stored_pair.cache_clear()
