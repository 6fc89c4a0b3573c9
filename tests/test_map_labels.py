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
    assert np.isfinite([x0, y0, x1, y1]).all(), f"no CSP named {csp}"  # "Portsmouth CSP" gave NaN: nothing to test
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


@pytest.mark.parametrize("name", [*VIEWS, "Safer Portsmouth Partnership", "Safer North Hampshire"])
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


# -- every number sits by its hotspot or has a leader line a reader can follow (audit 3 item 8) -------

#: The 19 hotspots of the set adopted on the real police.uk months 2024-01..04 (Hampshire; `hotspots
#: --from 2024-01 --to 2024-04 --adopt ...` on /work/shared/realdata), as (lat, lon) of each hotspot's
#: centre: seven lie within 15 px of each other in Southampton at wall-screen zoom. On this set at
#: 1280x720 (an 801x464 map) number 9 sat left of Southampton with its leader under number 3's box.
REAL_SET = [(50.90377, -1.405088), (50.79751, -1.089671), (50.907197, -1.414993), (50.913171, -1.404879),
            (50.698527, -1.292639), (50.905669, -1.395833), (50.924699, -1.391567), (51.249996, -0.768719),
            (50.914977, -1.39716), (50.798263, -1.104327), (50.866784, -0.984642), (51.267491, -1.085215),
            (50.785732, -1.089384), (50.804882, -1.08274), (50.799869, -1.076764), (51.062041, -1.312287),
            (50.899972, -1.379074), (50.896361, -1.394507), (51.204732, -1.480171)]

#: The sample's adopted set "Sample 2023-24" (the app's first start), numbered as the set numbers them:
#: the map labels the set's hotspots, whose centres and order are not the truth file's.
SAMPLE_SET = [(51.247734, -0.761111), (50.730603, -1.1604), (51.293159, -0.758817), (50.917542, -1.487743),
              (50.852843, -1.179377), (51.26486, -1.084518), (50.85245, -0.985573), (50.701078, -1.294871),
              (51.207504, -1.478568), (51.06177, -1.316909), (50.797546, -1.093645), (50.785877, -1.07155),
              (50.906364, -1.406566), (50.88025, -1.030144), (50.916915, -1.364871), (50.968838, -1.348312),
              (50.818748, -1.074711), (50.794414, -1.124309), (50.921783, -1.395472)]

#: Map sizes (width, height in pixels): the wall screen's map from a 1280x720 projector up to 1920x1080
#: (ui/viewport.py measures it), shorter windows down to the smallest map drawn, and the desk view.
WALL_MAPS = [(801, 464), (801, 438), (801, 420), (640, 360), (1000, 560), (1300, 780), (1329, 642), (1210, 860),
             (1600, 900)]


def label_problems(placed: pd.DataFrame, viewport_px: tuple[int, int]) -> list[str]:
    """Why a reader could not tell which hotspot a number belongs to: a number whose box ends more
    than LEADER_GAP_PX from its hotspot without a leader line, a leader passing under another label's
    box (hidden), a label outside the map, or two labels overlapping."""
    viewport = L.Viewport(0, 0, 0, *viewport_px)  # only the size is read below
    problems = [f"overlap {a}/{b}" for a, b in L.overlapping_pairs(placed)]
    boxes = placed[["x0", "y0", "x1", "y1"]].to_numpy(dtype=float)
    centre = np.column_stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2])
    for i, row in enumerate(placed.itertuples(index=False)):
        box = tuple(boxes[i])
        if box[0] < 0 or box[1] < 0 or box[2] > viewport.width_px or box[3] > viewport.height_px:
            problems.append(f"{row.text} outside the map")
        if row.kind != "number":
            continue
        gap = L.gap_to_box(row.ax, row.ay, box)
        if gap > L.LEADER_GAP_PX and not row.leader:
            problems.append(f"{row.text} {gap:.0f} px from its hotspot without a leader")
        if row.leader:
            line = (centre[i, 0], centre[i, 1], row.ax, row.ay)
            hidden = [placed["text"].iloc[j] for j in range(len(placed)) if j != i
                      and L.segment_crosses_box(line, tuple(boxes[j]))]
            if hidden:
                problems.append(f"{row.text}'s leader passes under {hidden}")
    return problems


def _placed_with_anchors(areas: pd.DataFrame, view: dict, viewport_px: tuple[int, int], present: bool) -> pd.DataFrame:
    placed = maps.map_labels(areas, view, viewport_px, presentation=present)
    ax, ay = L.project(placed["anchor_lat"].to_numpy(), placed["anchor_lon"].to_numpy(),
                       L.Viewport.from_view(view, *viewport_px))
    return placed.assign(ax=ax, ay=ay)


@pytest.mark.parametrize("hotspots", ["real set", "sample set", "sample"])
@pytest.mark.parametrize("viewport_px", [*WALL_MAPS, "desk"])
def test_every_number_sits_by_its_hotspot_or_has_a_clear_leader(sample_truth, hotspots, viewport_px):
    sets = {"real set": REAL_SET, "sample set": SAMPLE_SET}
    areas = (pd.DataFrame(sets[hotspots], columns=["lat", "lon"]) if hotspots in sets else _sample_areas(sample_truth))
    if viewport_px == "desk":
        viewport_px, view, present = (1050, 640), dict(maps.FORCE_VIEW, zoom=8.55), False
    else:
        view, present = maps.fitted_force_view(*viewport_px), True
    placed = _placed_with_anchors(areas, view, viewport_px, present)
    assert label_problems(placed, viewport_px) == []
    numbers = placed[placed["kind"] == "number"]
    assert len(numbers) == len(areas), "every hotspot number is drawn"
    # A line across half the map is followable but misleads at a glance (a Portsmouth number once sat
    # at Sandown): numbers stay within reach of their hotspots.
    far = np.hypot((numbers["x0"] + numbers["x1"]) / 2 - numbers["ax"], (numbers["y0"] + numbers["y1"]) / 2 - numbers["ay"])
    assert far.max() <= 150


def test_the_leader_check_has_teeth():
    """The placement as it was (a leader only checked for a free box, not a clear line) hid number 9's
    line under number 3 at 1280x720 on the real set: the check above finds such a line."""
    placed = pd.DataFrame({"text": ["9", "3"], "kind": "number", "leader": [True, False],
                           "x0": [327, 349], "y0": [250, 262], "x1": [348, 370], "y1": [278, 290],
                           "ax": [384, 378], "ay": [264, 268]})
    assert label_problems(placed, (801, 464)) == ["9's leader passes under ['3']"]


def test_leaders_are_drawn_cased_and_end_on_their_hotspot():
    """Each leader the placer asks for is in the deck, as a line over a casing of another colour (a
    plain white line read as one more district boundary on the wall screen) with a dot on the hotspot."""
    areas = pd.DataFrame(REAL_SET, columns=["lat", "lon"])
    view = maps.fitted_force_view(801, 464)
    deck, _, _ = maps.build_deck(pd.DataFrame({"h3": [], "count": []}), areas=areas, view=view, presentation=True,
                                 viewport_px=(801, 464), map_style=maps.OFFLINE_STYLE_DARK)
    layers = {layer["id"]: layer for layer in json.loads(deck.to_json())["layers"]}
    wanted = int(maps.map_labels(areas, view, (801, 464), presentation=True)["leader"].sum())
    assert wanted >= 10
    line, casing = layers["hotspot-leaders"], layers["hotspot-leaders-casing"]
    assert len(line["data"]) == len(casing["data"]) == len(layers["hotspot-leader-ends"]["data"]) == wanted
    assert line["getColor"] != casing["getColor"] and casing["getWidth"] > line["getWidth"]
    order = list(layers)
    assert order.index("hotspot-leaders-casing") < order.index("hotspot-leaders") < order.index("hotspot-labels")
