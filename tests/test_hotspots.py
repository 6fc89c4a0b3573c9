"""Hotspot selection, merging into areas, ids, names and exclusions on small constructed frames."""
from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pytest

from hotspot_engine.reference import geography
from hotspot_engine.service import resolve_window
from hotspot_engine.errors import InputError
from hotspot_engine.analyse.gistar import fdr_bh
from hotspot_engine.analyse.hotspots import (
    AREA_COLUMNS, CELL_COLUMNS, HotspotParams, load_exclusions, match_exclusions, score_cells,
)

# Two town centres about 1.5 km apart in Southampton (Above Bar Street, Portswood Road), on a patch
# of real res-9 cells; a quiet background of ones and zeros.
A = h3.latlng_to_cell(50.9063, -1.4043, 9)
B = h3.latlng_to_cell(50.9235, -1.3960, 9)


def _study(radius: int = 9) -> pd.DataFrame:
    middle = h3.latlng_to_cell(50.915, -1.400, 9)
    cells = np.sort(np.array([h3.str_to_int(c) for c in h3.grid_disk(middle, radius)], dtype=np.uint64))
    return pd.DataFrame({"h3": cells, "district": "Southampton", "csp": "Safe City Partnership Southampton"})


def _counts(study: pd.DataFrame, extra: dict[str, float], seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    count = rng.binomial(1, 0.15, len(study)).astype(float)
    frame = pd.DataFrame({"h3": study["h3"].to_numpy(), "count": count})
    index = {format(int(c), "x"): n for n, c in enumerate(frame["h3"])}
    for cell, value in extra.items():
        frame.loc[index[cell], "count"] = value
    frame["harm"] = frame["count"] * 365.0
    return frame[frame["count"] > 0]


def _tops(cells_names: dict[str, tuple[str, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(h3.str_to_int(c), loc, n) for c, (loc, n) in cells_names.items()], columns=["h3", "location", "n"]
    )


def _hot_two_centres() -> dict[str, float]:
    extra = {A: 30.0, B: 20.0}
    for c in h3.grid_ring(A, 1)[:3]:
        extra[c] = 12.0
    for c in h3.grid_ring(B, 1)[:3]:
        extra[c] = 8.0
    return extra


def test_gistar_finds_two_areas_with_ids_and_names():
    study = _study()
    counts = _counts(study, _hot_two_centres())
    tops = _tops({A: ("On or near Above Bar Street", 25), B: ("On or near Portswood Road", 15)})
    result = score_cells(study, counts, None, tops, HotspotParams(method="gistar"))
    assert list(result.cells.columns) == CELL_COLUMNS and list(result.areas.columns) == AREA_COLUMNS
    assert len(result.cells) == len(study)  # every study cell, zeros included
    areas = result.areas
    assert len(areas) == 2
    first, second = areas.iloc[0], areas.iloc[1]
    assert first["hotspot_name"] == "Southampton - Above Bar Street"  # "On or near " removed
    assert second["hotspot_name"] == "Southampton - Portswood Road"
    # The id is the peak cell's hex id without its res-9 padding ('ffff'), not the rank.
    assert first["hotspot_id"] == "HS-" + A[:-4] and A.endswith("ffff")
    assert first["peak_cell"] == A
    assert A in first["cells"] and first["n_cells"] >= 4
    assert first["count"] >= 30 + 36 and first["hotspot_rank"] == 1
    hot = result.cells[result.cells["is_hotspot"]]
    assert (hot["gi_z"] > 0).all() and (hot["gi_p_fdr"] < 0.05).all() and (hot["count"] > 0).all()
    assert set(hot["hotspot_id"]) == set(areas["hotspot_id"])
    cold = result.cells[~result.cells["is_hotspot"]]
    assert cold["hotspot_id"].isna().all()


def test_ids_do_not_depend_on_rank():
    study = _study()
    extra = _hot_two_centres()
    # The two centres' places only: the predict method fills its places from the town around them.
    base = score_cells(study, _counts(study, extra), None, None, HotspotParams(top=2)).areas
    extra[B] = 80.0  # B now outranks A
    swapped = score_cells(study, _counts(study, extra), None, None, HotspotParams(top=2)).areas
    assert base["hotspot_id"].tolist() == swapped["hotspot_id"].tolist()[::-1]


def test_adjacent_cells_merge_and_separate_cells_do_not():
    study = _study()
    neighbour = h3.grid_ring(A, 1)[0]
    far = next(c for c in h3.grid_ring(A, 2) if h3.grid_distance(c, neighbour) > 1)  # touches neither
    counts = _counts(study, {A: 40.0, neighbour: 39.0, far: 38.0}, seed=1)
    result = score_cells(study, counts, None, None, HotspotParams(method="top-n", top=3))
    areas = result.areas
    assert sorted(areas["n_cells"].tolist()) == [1, 2]
    pair = areas[areas["n_cells"] == 2].iloc[0]
    assert sorted(pair["cells"]) == sorted([A, neighbour])


def test_top_n_is_deterministic_on_ties():
    study = _study(3)
    cells = [format(int(c), "x") for c in study["h3"]]
    counts = pd.DataFrame({"h3": study["h3"], "count": 5.0, "harm": 10.0})
    counts.loc[7, "harm"] = 50.0  # among equal counts, more harm first
    result = score_cells(study, counts, None, None, HotspotParams(method="top-n", top=3))
    chosen = result.cells.loc[result.cells["is_hotspot"], "h3"].tolist()
    assert cells[7] in chosen
    assert sorted(chosen) == sorted([cells[7]] + [c for n, c in enumerate(cells) if n != 7][:2])  # then lowest ids
    again = score_cells(study, counts.sample(frac=1, random_state=3), None, None, HotspotParams(method="top-n", top=3))
    assert sorted(again.cells.loc[again.cells["is_hotspot"], "h3"]) == sorted(chosen)


def test_harm_share_takes_fewest_cells():
    study = _study(3)
    harm = np.zeros(len(study))
    harm[[0, 5, 9, 20]] = [500.0, 300.0, 150.0, 50.0]
    counts = pd.DataFrame({"h3": study["h3"], "count": (harm > 0).astype(float), "harm": harm})
    result = score_cells(study, counts, None, None, HotspotParams(method="harm-share", harm_share=0.8))
    chosen = set(np.flatnonzero(np.isin(study["h3"], geography.str_to_cell(result.cells.loc[result.cells.is_hotspot, "h3"]))))
    assert chosen == {0, 5}  # 800 of 1000
    result = score_cells(study, counts, None, None, HotspotParams(method="harm-share", harm_share=0.81))
    assert result.cells["is_hotspot"].sum() == 3


def test_exclusions_block_and_flag(tmp_path):
    study = _study()
    counts = _counts(study, _hot_two_centres())
    tops = _tops({A: ("On or near Police Station", 25), B: ("On or near Portswood Road", 15)})
    plain = score_cells(study, counts, None, tops, HotspotParams(method="top-n", top=1))
    assert plain.areas.iloc[0]["peak_cell"] == A
    result = score_cells(study, counts, None, tops, HotspotParams(method="top-n", top=1), load_exclusions())
    cells = result.cells.set_index("h3")
    assert bool(cells.loc[A, "excluded"]) and not bool(cells.loc[A, "is_hotspot"])
    assert "Police station" in cells.loc[A, "exclusion_reason"]
    assert result.areas.iloc[0]["peak_cell"] != A
    assert any("excluded places" in note and "Police Station" in note for note in result.notes)

    custom = tmp_path / "mine.csv"
    custom.write_text("# my list\npattern,reason\nportswood,test reason\n", encoding="utf-8")
    reasons = match_exclusions(pd.Series(["On or near Portswood Road", "On or near Police Station", None]), load_exclusions(custom))
    assert reasons.tolist() == ["test reason", "", ""]


def test_exclusion_list_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("place,why\nx,y\n", encoding="utf-8")
    with pytest.raises(InputError, match="bad.csv"):
        load_exclusions(bad)
    with pytest.raises(InputError, match="missing.csv"):
        load_exclusions(tmp_path / "missing.csv")


def test_patrols_and_outside_counts():
    study = _study(3)
    inside = int(study["h3"].iloc[0])
    outside = h3.str_to_int(h3.latlng_to_cell(51.06, -1.31, 9))  # Winchester: not in the patch
    counts = pd.DataFrame({"h3": [inside, outside], "count": [3, 4], "harm": [30.0, 40.0]})
    patrols = pd.DataFrame({"h3": [inside, inside, outside], "patrols": [2, 1, 5], "patrol_minutes": [30.0, 15.0, 75.0]})
    result = score_cells(study, counts, patrols, None, HotspotParams(method="top-n", top=1))
    row = result.cells.set_index("h3").loc[format(inside, "x")]
    assert (row["count"], row["harm"], row["patrols"], row["patrol_minutes"]) == (3, 30.0, 3, 45.0)
    assert result.cells["count"].sum() == 3
    assert any("4 incidents fall in cells outside the study area" in n for n in result.notes)
    assert result.areas.iloc[0]["patrols"] == 3


def test_fdr_over_all_cells_and_no_self_warning():
    """BH once over every cell of gi_p, which is the exact test's p; the default view, valid on
    sparse counts, no longer warns that it is unreliable (issue 16)."""
    study = _study()
    result = score_cells(study, _counts(study, _hot_two_centres()), None, None, HotspotParams())
    np.testing.assert_allclose(result.cells["gi_p_fdr"], fdr_bh(result.cells["gi_p"].to_numpy()))
    np.testing.assert_array_equal(result.cells["gi_p"], result.cells["p_exact"])
    assert not any("unreliable" in n for n in result.notes)
    assert any(n.startswith("Test: exact tail") for n in result.notes)


def test_permutations_replace_gi_p():
    study = _study(5)
    result = score_cells(study, _counts(study, {A: 30.0}), None, None, HotspotParams(permutations=99, seed=2))
    cells = result.cells
    assert cells["p_sim"].notna().all()
    np.testing.assert_array_equal(cells["gi_p"], cells["p_sim"])
    assert (cells["p_sim"] >= 0.02 - 1e-12).all()  # 2 / (99 + 1) is the smallest two-sided pseudo p


def test_no_incidents_gives_no_hotspots():
    study = _study(3)
    empty = pd.DataFrame({"h3": pd.Series([], dtype="uint64"), "count": [], "harm": []})
    for method in ("gistar", "top-n", "harm-share"):
        result = score_cells(study, empty, None, None, HotspotParams(method=method))
        assert result.areas.empty and not result.cells["is_hotspot"].any()
        assert (result.cells["gi_z"] == 0).all()


def test_hex_ids_accepted():
    study = _study(3)
    hexed = study.assign(h3=geography.cell_to_str(study["h3"]))
    counts = pd.DataFrame({"h3": [hexed["h3"].iloc[4]], "count": [5], "harm": [50.0]})
    result = score_cells(hexed, counts, None, None, HotspotParams(method="top-n", top=1))
    assert result.areas.iloc[0]["peak_cell"] == hexed["h3"].iloc[4]


@pytest.mark.parametrize("bad", [{"method": "kde"}, {"measure": "weight"}, {"top": 0}, {"alpha": 1.5}, {"harm_share": 0}])
def test_params_are_validated(bad):
    with pytest.raises(InputError):
        HotspotParams(**bad)


def test_resolve_window_defaults_to_twelve_months():
    from hotspot_engine.filters import Filters

    filters, note = resolve_window(None, Filters(date_to="2023-03"))
    assert (filters.date_from, filters.date_to) == ("2022-04", "2023-03") and "2022-04 to 2023-03" in note
    same, none = resolve_window(None, Filters(date_from="2022-01", date_to="2022-06"))
    assert same.date_from == "2022-01" and none is None


def test_find_hotspots_from_a_store(tmp_path):
    """The thin wrapper: CSV -> store -> find_hotspots over Southampton, serious violence by default."""
    from hotspot_engine.filters import Filters
    from hotspot_engine.service import hotspots as find_hotspots
    from hotspot_engine.read.loading import ingest_paths
    from hotspot_engine.store.database import connect

    lat, lon = h3.cell_to_latlng(A)
    rng = np.random.default_rng(0)
    rows = ["incident_id,occurred_at,lat,lon,ho_code,offence,knife_flag,location"]
    for n in range(40):  # robberies in one cell
        rows.append(f"R{n},2023-0{1 + n % 3}-10 22:00,{lat + rng.uniform(-3e-4, 3e-4):.6f},{lon + rng.uniform(-3e-4, 3e-4):.6f},"
                    "34B,Robbery of personal property,N,On or near Above Bar Street")
    for n in range(40):  # common assaults in the same cell: not serious violence
        rows.append(f"C{n},2023-02-11 23:00,{lat:.6f},{lon:.6f},105A,Common assault,N,On or near Above Bar Street")
    for n in range(30):  # scattered background robberies across the city
        rows.append(f"B{n},2023-02-01 12:00,{50.90 + rng.uniform(0, 0.04):.6f},{-1.42 + rng.uniform(0, 0.06):.6f},"
                    "34B,Robbery of personal property,N,On or near Some Road")
    path = tmp_path / "incidents.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    con = connect(":memory:")
    ingest_paths(con, [path])
    result = find_hotspots(con, Filters(date_to="2023-03", districts=("Southampton",)), HotspotParams(method="top-n", top=1))
    assert result.notes[0].startswith("Window: 2022-04 to 2023-03")
    assert any(n.startswith("Offences: serious violence") for n in result.notes)
    area = result.areas.iloc[0]
    assert area["hotspot_name"] == "Southampton - Above Bar Street" and area["peak_cell"] == A
    assert area["count"] == 40  # the common assaults are not counted
    assert set(result.cells["district"]) == {"Southampton"}
    everything = find_hotspots(con, Filters(date_to="2023-03", districts=("Southampton",)), HotspotParams(method="top-n", top=1),
                               serious_violence_by_default=False)
    assert everything.areas.iloc[0]["count"] == 80


def test_small_gistar_areas_are_left_out_and_said():
    """An area whose cells are significant only because of busy neighbours, with fewer incidents
    than min_area_count, is not reported; with the minimum at 0 it is."""
    study = _study()
    counts = _counts(study, _hot_two_centres())
    everything = score_cells(study, counts, None, None, HotspotParams(min_area_count=0))
    smallest = int(everything.areas["count"].min())
    limit = smallest + 1
    pruned = score_cells(study, counts, None, None, HotspotParams(min_area_count=limit))
    assert (pruned.areas["count"] >= limit).all()
    assert len(pruned.areas) < len(everything.areas)
    assert int(pruned.cells["is_hotspot"].sum()) < int(everything.cells["is_hotspot"].sum())
    assert any("fewer than" in note for note in pruned.notes)
    with pytest.raises(InputError):
        HotspotParams(min_area_count=-1)


@pytest.mark.parametrize("seed", range(3))
def test_month_grid_puts_each_cell_month_where_a_plain_loop_does(seed):
    """The month grid's hash lookup: every (cell, month) row lands in its cell's row and month's
    column, rows of cells outside the study area are left out, a cell-month given twice adds up."""
    from hotspot_engine.analyse.hotspots import _month_grid

    rng = np.random.default_rng(seed)
    study = np.sort(rng.choice(np.arange(10**6, 2 * 10**6, dtype=np.uint64), 500, replace=False))
    outside = np.arange(3 * 10**6, 3 * 10**6 + 50, dtype=np.uint64)
    months = ["2024-01", "2023-11", "2023-12"]
    rows = pd.DataFrame({"h3": rng.choice(np.r_[study, outside], 2_000),
                         "month": rng.choice(months, 2_000),
                         "count": rng.integers(1, 9, 2_000)})
    grid = _month_grid(pd.DataFrame({"h3": study}), rows, "count", 2.0)
    expected = np.zeros((study.size, 3))
    where = {int(c): k for k, c in enumerate(study)}
    for cell, month, count in zip(rows["h3"], rows["month"], rows["count"]):
        if int(cell) in where:
            expected[where[int(cell)], sorted(months).index(month)] += count / 2.0
    assert np.array_equal(grid, expected)


@pytest.mark.parametrize("seed", range(3))
def test_cell_frame_top_location_is_the_plain_loops_most_common_then_first_in_text_order(seed):
    """Each study cell's top location: the location of most incidents, ties to the first in text
    order (counts drawn from 1-3, so ties are common); rows of cells outside the study area and cells
    without rows give nothing (None, 0)."""
    from hotspot_engine.analyse.hotspots import _cell_frame

    rng = np.random.default_rng(seed)
    study = np.sort(rng.choice(np.arange(10**6, 2 * 10**6, dtype=np.uint64), 400, replace=False))
    outside = np.arange(3 * 10**6, 3 * 10**6 + 40, dtype=np.uint64)
    pairs = {(int(c), f"Street {k}") for c, k in zip(rng.choice(np.r_[study[:300], outside], 3_000),
                                                     rng.integers(0, 60, 3_000))}
    rows = pd.DataFrame(sorted(pairs), columns=["h3", "location"]).sample(frac=1.0, random_state=seed)
    rows = rows.assign(h3=rows["h3"].astype(np.uint64), n=rng.integers(1, 4, len(rows)))
    study_cells = pd.DataFrame({"h3": study, "district": "D", "csp": "C"})
    cells = _cell_frame(study_cells, None, None, rows, [])
    best: dict[int, tuple[int, str]] = {}
    for cell, location, n in zip(rows["h3"], rows["location"], rows["n"]):
        held = best.get(int(cell))
        if held is None or n > held[0] or (n == held[0] and location < held[1]):
            best[int(cell)] = (int(n), location)
    expected = [best.get(int(c), (0, None)) for c in study]
    assert [None if pd.isna(v) else v for v in cells["top_location"]] == [loc for _, loc in expected]
    assert cells["top_location_n"].tolist() == [n for n, _ in expected]
    assert sum(loc is not None for _, loc in expected) > 250
