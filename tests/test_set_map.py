"""The Hotspot sets page's comparison map numbers the later list's hotspots with the label placer of
every map, and on the wall screen shows the whole force fitted into the map (polish's finding: the
north, the west and the Isle of Wight were cut off, and the hotspots were dots without numbers)."""
from __future__ import annotations

import json

import h3
import pandas as pd

from hotspot_engine.render import set_map
from hotspot_engine.render.deck import fitted_force_view


def _cells() -> pd.DataFrame:
    rows = [("kept", 1, 50.905, -1.404), ("kept", 1, 50.906, -1.406), ("new", 2, 50.80, -1.09),
            ("dropped", 1, 51.06, -1.31)]
    return pd.DataFrame({"h3": [h3.latlng_to_cell(lat, lon, 9) for _, _, lat, lon in rows],
                         "status": [r[0] for r in rows], "hotspot_number": [r[1] for r in rows],
                         "hotspot_name": ["Southampton", "Southampton", "Portsmouth", "Winchester"]})


def test_the_later_lists_hotspots_are_numbered_once_each_and_dropped_ones_not():
    areas = set_map.numbered_areas(_cells())
    assert areas["hotspot_number"].tolist() == [1, 2]
    assert abs(areas["lat"].iloc[0] - 50.9055) < 0.003  # the mean of its two cells, not the dropped one's


def test_the_wall_screen_deck_carries_the_numbers_and_the_fitted_force_view():
    view = fitted_force_view(1280, 540)
    deck = json.loads(set_map.compare_deck(_cells(), view, (1280, 540), presentation=True).to_json())
    layers = {layer["id"]: layer for layer in deck["layers"]}
    assert "hotspot-labels" in layers and "towns" in layers
    assert sorted(row["text"] for row in layers["hotspot-labels"]["data"]) == ["1", "2"]
    assert deck["initialViewState"]["zoom"] == view["zoom"]
