"""One colour classification for every map: the dashboard (pydeck), the offline HTML map (folium),
the PNG and the PDF meeting maps give the same cells the same colours under the same legend, and
Gi* classes come from the engine's ``gi_bin`` column, never from ``gi_z``."""
from __future__ import annotations

import json
import re

import h3
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from hotspot_engine.errors import InputError
from hotspot_engine.reference import geography
from hotspot_engine.render import classes, html_map, static_map
from hotspot_engine.render import deck as deck_map
from hotspot_engine.write import export

SOUTHAMPTON = (50.9097, -1.4044)
RES = 9


def _cells(n: int = 250, seed: int = 3) -> pd.DataFrame:
    """Cells with a skewed count (most 0 to 2, a few above 30), harm, and a ``gi_bin`` that
    contradicts ``gi_z`` on purpose: a renderer that re-derived the bins from z would disagree."""
    rng = np.random.default_rng(seed)
    disk = sorted(h3.grid_disk(h3.latlng_to_cell(*SOUTHAMPTON, RES), 9))[:n]
    count = np.minimum(rng.geometric(0.35, len(disk)) - 1, 60)
    count[:4] = [35, 48, 60, 52]
    gi_bin = rng.choice([-3, -2, -1, 0, 0, 0, 1, 2, 3], len(disk))
    return pd.DataFrame({
        "h3": disk, "district": "Southampton", "count": count, "harm": count * 182.5 + (count > 0) * 90.0,
        "gi_bin": gi_bin.astype(np.int8), "gi_z": -gi_bin * 1.0,
        "hotspot_id": None, "hotspot_name": None, "is_hotspot": False,
    })


@pytest.fixture(scope="module")
def cells() -> pd.DataFrame:
    return _cells()


@pytest.fixture(scope="module")
def districts():
    shapes = geography.districts()
    return shapes[shapes["district"] == "Southampton"]


def _hex(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(round(c)) for c in rgb))


# -- what each renderer drew: {h3: colour}, [(label, colour)], title ---------------------------------


def _deck_drawn(cells: pd.DataFrame, colour_by: str):
    built, legend, _ = deck_map.build_deck(cells, colour_by=colour_by)
    spec = json.loads(built.to_json())
    layer = next(layer for layer in spec["layers"] if layer["id"] == "cells")
    expression = layer["getFillColor"].removeprefix("@@=")
    branches = {int(m.group(1)): json.loads(m.group(2)) for m in re.finditer(r"k == (\d+) \? (\[[^\]]+\])", expression)}
    last = json.loads(expression.split(" : ")[-1])
    colour = {row["h"]: _hex(branches.get(row["k"], last)) for row in layer["data"]}
    return colour, [(label, _hex(c)) for label, c in legend.entries], legend.title


def _html_drawn(layer, districts, colour_by: str):
    m = html_map.offline_map(layer, None, districts, "t", value_column=colour_by)
    page = html_map.map_html(m)
    colour = {}
    for child in m._children.values():
        for feature in (getattr(child, "data", None) or {}).get("features", []):
            props = feature["properties"]
            if "h3" in props:
                colour[props["h3"]] = props["style"]["fillColor"]
    rows = re.findall(r'<div class="hs-row"><span class="hs-swatch" style="background:(#[0-9a-f]{6})"></span>([^<]*)</div>', page)
    title = re.search(r'<div class="hs-legend-title">([^<]*)</div>', page).group(1)
    return colour, [(html_unescape(label), c) for c, label in rows], html_unescape(title)


def html_unescape(text: str) -> str:
    import html

    return html.unescape(text)


_TO_WGS84 = Transformer.from_crs(27700, 4326, always_xy=True)


def _axes_drawn(ax):
    """Each drawn hexagon's cell (from its centre, British National Grid back to WGS84) and fill,
    and the legend's class rows (outline rows and notes left out)."""
    collection = ax.collections[0]  # the cells are drawn first
    faces = collection.get_facecolor()
    colour = {}
    for path, face in zip(collection.get_paths(), faces):
        x, y = path.vertices[:-1].mean(axis=0)
        lon, lat = _TO_WGS84.transform(x, y)
        colour[h3.latlng_to_cell(lat, lon, RES)] = _hex(np.asarray(face[:3]) * 255)
    legend = ax.get_legend()
    rows = [(text.get_text(), _hex(np.asarray(handle.get_facecolor()[:3]) * 255))
            for text, handle in zip(legend.get_texts(), legend.legend_handles)
            if hasattr(handle, "get_facecolor") and handle.get_facecolor()[3] > 0]
    return colour, rows, legend.get_title().get_text()


def _png_drawn(layer, districts, colour_by: str):
    fig = static_map._figure((10, 8))
    ax = fig.add_axes((0.02, 0.06, 0.96, 0.86))
    static_map.draw_map(ax, layer, None, districts, colour_by)  # what map_png draws
    assert static_map.map_png(layer, None, districts, "t", value_column=colour_by, dpi=30)[:4] == b"\x89PNG"
    return _axes_drawn(ax)


def _pdf_drawn(layer, districts, colour_by: str):
    fig = static_map.summary_figure("t", {}, layer, None, districts, pd.DataFrame(), value_column=colour_by)
    return _axes_drawn(fig.axes[0])  # summary_pdf saves this figure


@pytest.mark.parametrize("colour_by", ["count", "harm", "gi_bin"])
def test_the_four_renderers_draw_the_same_classes_and_legend(cells, districts, colour_by):
    layer = export.cells_layer(cells)
    expected = classes.classify_cells(cells, colour_by)
    want = {h: classes.hex_colour(expected.colours[k]) for h, k in zip(cells["h3"], expected.k) if k >= 0}
    want_legend = [(label, classes.hex_colour(c)) for label, c in expected.legend.entries]
    assert len(want) > 50 and len(set(want.values())) >= 4  # a real test: many cells, several classes
    drawn = {
        "dashboard": _deck_drawn(cells, colour_by),
        "html": _html_drawn(layer, districts, colour_by),
        "png": _png_drawn(layer, districts, colour_by),
        "pdf": _pdf_drawn(layer, districts, colour_by),
    }
    for renderer, (colour, legend, title) in drawn.items():
        assert colour == want, renderer
        assert legend == want_legend, renderer
        assert title == classes.LEGEND_TITLES[colour_by], renderer


def test_gi_classes_come_from_gi_bin_not_from_z(cells):
    result = classes.classify_cells(cells, "gi_bin")
    significant = cells["gi_bin"].to_numpy() != 0
    assert (result.k[significant] == cells["gi_bin"].to_numpy()[significant] + 3).all()
    # gi_z says the opposite of gi_bin in this frame: the hot classes still follow gi_bin.
    hot = result.k >= 4
    assert (cells.loc[hot, "gi_bin"] > 0).all() and (cells.loc[hot, "gi_z"] < 0).all()
    # Not significant and nothing happened: not drawn; not significant with incidents: grey.
    quiet = ~significant & (cells["count"].to_numpy() == 0)
    assert (result.k[quiet] == -1).all()
    assert (result.k[~significant & ~quiet] == 3).all()
    # Hottest first, as the dashboard's panel lists them.
    assert [label for label, _ in result.legend.entries][:3] == [classes.GI_BIN_LABELS[b] for b in (3, 2, 1)]


def test_colouring_by_z_is_refused_with_the_column_to_use(cells, districts):
    with pytest.raises(InputError, match="gi_bin"):
        classes.classify_cells(cells, "gi_z")
    with pytest.raises(InputError, match="gi_bin"):
        static_map.map_png(export.cells_layer(cells), None, districts, "t", value_column="gi_z")


def test_magnitude_classes_cover_the_values_in_order():
    frame = pd.DataFrame({"count": [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55]})
    result = classes.classify_cells(frame, "count")
    assert result.k[0] == -1 and (result.k[1:] >= 0).all()
    assert (np.diff(result.k[1:]) >= 0).all()  # larger values never in a lower class
    assert result.colours[-1] == classes.YLORRD_ON_LIGHT[-1]  # the top class is always the darkest
    assert result.legend.entries[0][0].startswith("1") and result.legend.entries[-1][0].endswith("55")
    # Blanked partner-safe values: not drawn, and the first class starts at the smallest value shown.
    blanked = classes.classify_cells(pd.DataFrame({"count": [np.nan, 5, 6, 9, 12, 20, 30, 45]}), "count")
    assert blanked.k[0] == -1 and blanked.legend.entries[0][0].startswith("5")
    assert not classes.classify_cells(pd.DataFrame({"count": [0.0, np.nan]}), "count").drawn.any()


def test_patrols_use_the_dosage_ramp_everywhere(cells):
    frame = cells.assign(patrols=cells["count"])
    assert {c for _, c in classes.classify_cells(frame, "patrols").legend.entries} <= set(classes.VIRIDIS)
    _, legend, _ = deck_map.build_deck(frame, colour_by="patrols")
    assert legend == classes.classify_cells(frame, "patrols").legend


def test_partner_safe_gi_map_hides_which_quiet_cells_had_small_counts(cells, districts):
    safe = export.partner_safe({"cells": export.cells_layer(cells)})["cells"]
    colour, legend, _ = _html_drawn(safe, districts, "gi_bin")
    shown = safe.set_index("h3")
    significant = shown["gi_bin"] != 0
    # Grey (not significant) only where the count survived suppression: a grey cell with a blanked
    # count would tell a partner that 1 to 4 incidents happened there.
    assert set(colour) == set(shown.index[significant | (shown["count"] >= 5)])
    assert (~significant & shown["count"].isna() & (cells.set_index("h3")["count"] > 0)).any()  # the case exists
    png_colour, _, _ = _png_drawn(safe, districts, "gi_bin")
    assert png_colour == colour


def test_a_partner_safe_legend_lists_only_counts_that_can_occur():
    # counts rounded to fives: a class '8' or '11 - 13' (read on the real months' meeting HTML) holds nothing
    from hotspot_engine.render.classes import YLORRD, classify_colours, value_grain

    rounded = np.array([5, 5, 10, 10, 15, 20, 25, 30, 45, 60, 80, 100], dtype=float)
    assert value_grain(rounded) == 5
    labels = [label for label, _ in classify_colours(rounded, YLORRD)[1].entries]
    bounds = [float(part.replace(",", "")) for label in labels for part in label.split(" – ")]
    assert labels[0].startswith("5") and all(b % 5 == 0 for b in bounds), labels
    exact = np.array([1, 1, 2, 3, 5, 8, 13, 40, 90], dtype=float)
    assert value_grain(exact) == 1 and [label for label, _ in classify_colours(exact, YLORRD)[1].entries][0] == "1 – 3"


@pytest.mark.parametrize("column", ["count", "harm"])
def test_the_desk_and_the_wall_screen_give_the_same_cells_the_same_classes(cells, column):
    """Audit 3 item 8: the real store's desk legend read "1-2, 3, 4-5, 6-8, 9-13" and the wall
    screen's "1-2, 3, 4, 5-6, 7-9, 10-13" for the same cells (the dark ramp has one more shade)."""
    desk = classes.magnitude_classes(cells, column, dark=False)
    wall = classes.magnitude_classes(cells, column, dark=True)
    assert [label for label, _ in desk.legend.entries] == [label for label, _ in wall.legend.entries]
    assert np.array_equal(desk.k, wall.k)
    assert len(wall.legend.entries) > 3  # skewed values still fill the classes
    # The wall screen keeps its palest and darkest shade: the top class reads as the hottest.
    assert wall.legend.entries[0][1] == classes.YLORRD[0] and wall.legend.entries[-1][1] == classes.YLORRD[-1]


def test_the_real_stores_counts_class_alike_desk_and_wall():
    values = np.array([1] * 40 + [2] * 20 + [3] * 10 + [4] * 6 + [5] * 5 + [7] * 3 + [9, 11, 13])
    cells = pd.DataFrame({"count": values})
    labels = {dark: [label for label, _ in classes.magnitude_classes(cells, "count", dark).legend.entries]
              for dark in (False, True)}
    assert labels[False] == labels[True] == ["1 – 2", "3", "4 – 5", "6 – 8", "9 – 13"]
