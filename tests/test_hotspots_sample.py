"""Acceptance on the built-in sample: the 2022-23 hotspots recover the planted ones.

Issue 4 "done means": at res 9 with default parameters, the hotspots found for 2022-23 include at
least 18 of the 19 planted hotspots in truth.json, with at most 3 false hotspot areas. A planted
hotspot counts as found when its point falls in a hotspot area's cell or one of their ring-1
neighbours; an area is false when no planted point falls there.

Uses the ``sample_store`` (open DuckDB connection holding the ingested sample) and
``sample_truth`` (truth.json as a dict) fixtures of tests/conftest.py.
"""
from __future__ import annotations

import h3
import pytest

from hotspot_engine.filters import Filters
from hotspot_engine.analyse.hotspots import HotspotParams
from hotspot_engine.service import hotspots as find_hotspots


@pytest.fixture
def store_and_truth(sample_store, sample_truth):
    return sample_store, sample_truth


def _recovery(areas, truth) -> tuple[int, int, list[str]]:
    planted = {hs["hotspot_id"] if "hotspot_id" in hs else hs["name"]: h3.latlng_to_cell(hs["lat"], hs["lon"], 9)
               for hs in truth["hotspots"]}
    reach = [set(cells) | {n for c in cells for n in h3.grid_disk(c, 1)} for cells in areas["cells"]]
    found = [name for name, cell in planted.items() if any(cell in r for r in reach)]
    false_areas = sum(1 for r in reach if not any(cell in r for cell in planted.values()))
    missed = sorted(set(planted) - set(found))
    return len(found), false_areas, missed


@pytest.mark.parametrize("sv_only", [True, False])
def test_planted_hotspots_recovered_2022_23(store_and_truth, sv_only):
    """Defaults: no offence filter means serious violence (said in the notes)."""
    con, truth = store_and_truth
    filters = Filters(date_from="2022-04", date_to="2023-03", res=9, sv_only=sv_only)
    result = find_hotspots(con, filters, HotspotParams())
    assert any(n.startswith("Offences: serious violence") for n in result.notes) != sv_only
    assert len(truth["hotspots"]) == 19
    found, false_areas, missed = _recovery(result.areas, truth)
    assert found >= 18, f"missed planted hotspots: {missed}"
    assert false_areas <= 3
    assert result.areas["hotspot_id"].is_unique and result.areas["hotspot_name"].is_unique
    assert (result.cells["is_hotspot"] == result.cells["hotspot_id"].notna()).all()
    names = set(result.areas["hotspot_name"])
    assert "Southampton - Above Bar Street" in names  # '<district> - <street>' without 'On or near'


def test_window_defaults_to_twelve_months_before_date_to(store_and_truth):
    con, _ = store_and_truth
    result = find_hotspots(con, Filters(date_to="2023-03", res=9), HotspotParams())
    assert result.notes[0].startswith("Window: 2022-04 to 2023-03")


def test_top_n_19_on_the_sample(store_and_truth):
    con, truth = store_and_truth
    filters = Filters(date_from="2022-04", date_to="2023-03", res=9, sv_only=True)
    result = find_hotspots(con, filters, HotspotParams(method="top-n", top=19))
    assert result.cells["is_hotspot"].sum() == 19
    found, _, missed = _recovery(result.areas, truth)
    assert found >= 18, f"missed planted hotspots: {missed}"
