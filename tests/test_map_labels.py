"""Map labels (issue 19): hotspot numbers and town names never overlap at the view the map opens
at, on the sample's 19 hotspots, at force zoom, on a wall screen and in a CSP view."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from hotspot_engine.reference import geography
from hotspot_engine.render import deck as maps
from hotspot_engine.render import labels as L


def _sample_areas(sample_truth) -> pd.DataFrame:
    return pd.DataFrame(sample_truth["hotspots"])[["lat", "lon"]]


def _csp_view(csp: str, width: int, height: int) -> dict:
    frame = geography.districts()
    x0, y0, x1, y1 = frame[frame["csp"] == csp].total_bounds
    return maps.view_for(np.array([y0, y1]), np.array([x0, x1]), width_px=width, height_px=height)


def _drawn_boxes(deck, view: dict, viewport_px: tuple[int, int]) -> pd.DataFrame:
    """Boxes of every text label the deck really draws, from its JSON specification."""
    spec = json.loads(deck.to_json())
    rows = []
    for layer in spec["layers"]:
        if layer["@@type"] != "TextLayer":
            continue
        for item in layer["data"]:
            rows.append({"text": item["text"], "lat": item["lat"], "lon": item["lon"], "size_px": item["size_px"]})
    drawn = pd.DataFrame(rows)
    viewport = L.Viewport.from_view(view, *viewport_px)
    x, y = L.project(drawn["lat"].to_numpy(), drawn["lon"].to_numpy(), viewport)
    size = np.array([L.box_size(t, s) for t, s in zip(drawn["text"], drawn["size_px"])])
    return drawn.assign(x0=x - size[:, 0] / 2, x1=x + size[:, 0] / 2, y0=y - size[:, 1] / 2, y1=y + size[:, 1] / 2)


VIEWS = {
    "force": (dict(maps.FORCE_VIEW, zoom=8.55), (1050, 640), False),
    "wall screen": (dict(maps.FORCE_VIEW, zoom=8.75), (1300, 780), True),
}


@pytest.mark.parametrize("name", [*VIEWS, "Portsmouth CSP", "Safer North Hampshire"])
def test_no_two_labels_overlap(sample_truth, name):
    if name in VIEWS:
        view, viewport_px, present = VIEWS[name]
    else:
        viewport_px, present = (1050, 640), False
        view = _csp_view(name, *viewport_px)
    areas = _sample_areas(sample_truth)
    deck, _, _ = maps.build_deck(pd.DataFrame({"h3": [], "count": []}), areas=areas, view=view,
                                 presentation=present, viewport_px=viewport_px)
    boxes = _drawn_boxes(deck, view, viewport_px)
    assert L.overlapping_pairs(boxes) == []
    numbers = set(boxes["text"]) & {str(k) for k in range(1, len(areas) + 1)}
    assert len(numbers) == len(areas), "every hotspot number is drawn"


def test_without_placement_the_sample_labels_do_overlap(sample_truth):
    """The check above has teeth: at their anchors the same labels collide (19/10/9/7 on Portsmouth)."""
    areas = _sample_areas(sample_truth)
    raw = pd.concat([
        pd.DataFrame({"text": [str(k) for k in range(1, len(areas) + 1)], "lat": areas["lat"], "lon": areas["lon"],
                      "size_px": 15}),
        pd.DataFrame({"text": maps.towns()["name"], "lat": maps.towns()["lat"], "lon": maps.towns()["lon"], "size_px": 12}),
    ], ignore_index=True)
    viewport = L.Viewport.from_view(dict(maps.FORCE_VIEW, zoom=8.55))
    x, y = L.project(raw["lat"].to_numpy(), raw["lon"].to_numpy(), viewport)
    size = np.array([L.box_size(t, s) for t, s in zip(raw["text"], raw["size_px"])])
    boxes = raw.assign(x0=x - size[:, 0] / 2, x1=x + size[:, 0] / 2, y0=y - size[:, 1] / 2, y1=y + size[:, 1] / 2)
    assert len(L.overlapping_pairs(boxes)) >= 3


def test_moved_numbers_get_a_leader_line_back_to_their_hotspot():
    # Five hotspots on one spot: all but one must move out, and the far ones are joined back.
    areas = pd.DataFrame({"lat": [50.9097] * 5, "lon": [-1.4044] * 5})
    placed = maps.map_labels(areas, dict(maps.FORCE_VIEW, zoom=8.55), (1050, 640), presentation=False)
    numbers = placed[placed["kind"] == "number"]
    assert len(numbers) == 5 and L.overlapping_pairs(placed) == []
    assert numbers["leader"].any()
    assert np.allclose(numbers["anchor_lat"], 50.9097) and np.allclose(numbers["anchor_lon"], -1.4044)


def test_project_and_unproject_are_inverse():
    viewport = L.Viewport(50.98, -1.25, 9.3, 1050, 640)
    lat, lon = np.array([50.8, 51.2]), np.array([-1.6, -0.9])
    x, y = L.project(lat, lon, viewport)
    back_lat, back_lon = L.unproject(x, y, viewport)
    assert np.allclose(back_lat, lat, atol=1e-9) and np.allclose(back_lon, lon, atol=1e-9)
    cx, cy = L.project(np.array([50.98]), np.array([-1.25]), viewport)
    assert np.allclose([cx[0], cy[0]], [525, 320])
