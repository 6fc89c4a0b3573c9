"""hotspot_engine.render.deck: the pydeck specification the dashboard sends (small frames built here)."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import h3
import numpy as np
import pandas as pd
import pytest

from hotspot_engine.render import deck as maps

ROOT = Path(__file__).resolve().parent.parent
SOUTHAMPTON = (50.9097, -1.4044)


def _cells(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` distinct res-9 cells around Southampton with counts 0..40 and the hotspot columns."""
    rng = np.random.default_rng(seed)
    centre = h3.latlng_to_cell(*SOUTHAMPTON, 9)
    disk = list(h3.grid_disk(centre, 60))[:n]
    count = rng.integers(0, 41, len(disk))
    return pd.DataFrame({
        "h3": disk, "district": "Southampton", "count": count, "harm": count * 365.0,
        "gi_z": rng.normal(0, 2, len(disk)), "gi_bin": rng.integers(-3, 4, len(disk)),
        "is_hotspot": count > 35, "hotspot_id": np.where(count > 35, "HS-1", None),
        "hotspot_name": np.where(count > 35, "Southampton - Above Bar Street", None),
        "patrols": rng.integers(0, 5, len(disk)), "patrol_minutes": rng.integers(0, 300, len(disk)).astype(float),
    })


def _layer(spec: dict, layer_id: str) -> dict:
    return next(layer for layer in spec["layers"] if layer["id"] == layer_id)


def _spec(deck) -> dict:
    return json.loads(deck.to_json())


def test_deck_json_is_compact_and_valid():
    deck, legend, left_out = maps.build_deck(_cells(500))
    text = deck.to_json()
    assert "\n" not in text and '": ' not in text and ", {" not in text  # no pretty-printing whitespace
    spec = json.loads(text)
    cells = _layer(spec, "cells")["data"]
    assert len(cells) == int((_cells(500)["count"] > 0).sum()) and left_out == 0
    assert set(cells[0]) == {"k", "h", "s", "n", "w", "p", "d", "z"}
    assert spec["mapStyle"] == maps.OFFLINE_STYLE and "https://" not in text


def test_class_colours_follow_the_legend():
    frame = _cells(400)
    deck, legend, _ = maps.build_deck(frame)
    spec = _spec(deck)
    layer = _layer(spec, "cells")
    expression = layer["getFillColor"].removeprefix("@@=")
    # Evaluate the ternary chain for every class index and compare with the legend's colours.
    branches = dict((int(part.split("==")[1].split("?")[0]), part.split("?")[1].strip())
                    for part in expression.split(" : ")[:-1])
    colours = [json.loads(branches.get(k, expression.split(" : ")[-1])) for k in range(len(legend.entries))]
    assert [tuple(c) for c in colours] == [tuple(c) for _, c in legend.entries]
    # The busiest cell is in the top (darkest) class.
    top = max(layer["data"], key=lambda cell: cell["n"])
    assert top["k"] == len(legend.entries) - 1


def test_too_many_cells_keeps_the_busiest_and_says_how_many_were_left_out():
    frame = _cells(3000)
    drawn = int((frame["count"] > 0).sum())
    deck, _, left_out = maps.build_deck(frame, max_cells=1000)
    cells = _layer(_spec(deck), "cells")["data"]
    assert len(cells) == 1000 and left_out == drawn - 1000
    smallest_kept = min(c["n"] for c in cells)
    assert (frame.loc[frame["count"] > 0, "count"].nlargest(1000) >= smallest_kept).all()


def test_month_colours_share_one_scale_across_months():
    cell = h3.latlng_to_cell(*SOUTHAMPTON, 9)
    other = h3.latlng_to_cell(50.80, -1.09, 9)
    frame = pd.DataFrame({"h3": [cell, other, cell, other], "month": ["2023-01", "2023-01", "2023-02", "2023-02"],
                          "count": [5, 1, 5, 40]})
    coloured, legend, colours = maps.month_colours(frame)
    k = dict(zip(zip(coloured["month"], coloured["count"]), coloured["k"]))
    assert k[("2023-01", 5)] == k[("2023-02", 5)]  # the same count, the same colour, whatever the month
    assert k[("2023-02", 40)] == len(colours) - 1 and k[("2023-01", 1)] == 0
    assert len(colours) == len(legend.entries)


def test_month_colours_accept_uint64_cells():
    ids = np.array([h3.str_to_int(h3.latlng_to_cell(*SOUTHAMPTON, 9))], dtype=np.uint64)
    coloured, _, _ = maps.month_colours(pd.DataFrame({"h3": ids, "month": ["2023-01"], "count": [3]}))
    assert coloured["h3"].iloc[0] == h3.latlng_to_cell(*SOUTHAMPTON, 9)


def test_area_outlines_cover_exactly_their_cells():
    import shapely.geometry

    frame = _cells(300)
    outlines = maps.areas_outline_geojson(frame)
    assert len(outlines["features"]) == 1
    hot = frame.loc[frame["is_hotspot"], "h3"]
    area = shapely.geometry.shape(outlines["features"][0]["geometry"]).area
    cells_area = sum(shapely.geometry.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)]).area for c in hot)
    assert area == pytest.approx(cells_area, rel=1e-3)


def test_lsoa_layer_is_a_url_to_a_committed_file_holding_every_lsoa():
    from hotspot_engine.reference.geography import lsoas

    deck, _, _ = maps.build_deck(_cells(50), lsoa_outlines=True)
    assert _layer(_spec(deck), "lsoas")["data"] == maps.LSOA_OUTLINES_URL
    committed = json.loads((ROOT / "static" / "lsoa_outlines.geojson").read_text(encoding="utf-8"))
    codes = {f["properties"]["lsoa_code"] for f in committed["features"]}
    assert codes == set(lsoas()["lsoa_code"])  # rebuild with maps.write_lsoa_outlines() if this fails


def test_presentation_draws_high_contrast_on_the_dark_base():
    deck, legend, _ = maps.build_deck(_cells(200), map_style=maps.OFFLINE_STYLE_DARK, presentation=True)
    spec = _spec(deck)
    assert _layer(spec, "districts")["getLineColor"][:3] == [255, 255, 255]
    assert _layer(spec, "cells")["opacity"] > 0.9
    assert legend.entries[0][1] == maps.YLORRD[0]  # the pale yellow shows on dark; on light it is dropped
    light, _, _ = maps.build_deck(_cells(200))
    assert light is not None and maps.magnitude_palette(False)[0] != maps.YLORRD[0]


def test_basemap_setting_tile_template_becomes_a_raster_style():
    style = maps.basemap_style("https://tiles.example/{z}/{x}/{y}.png", "© Example")
    assert style.startswith("data:application/json;base64,")
    decoded = json.loads(base64.b64decode(style.split(",", 1)[1]))
    assert decoded["sources"]["basemap"]["tiles"] == ["https://tiles.example/{z}/{x}/{y}.png"]
    assert decoded["layers"][0]["type"] == "raster"
    assert maps.basemap_style("https://tiles.example/style.json") == "https://tiles.example/style.json"
    deck, _, _ = maps.build_deck(_cells(20), map_style=style)
    assert _spec(deck)["mapStyle"] == style and _spec(deck).get("mapProvider") in (None, "")


def test_fill_expression_single_class():
    assert maps.fill_expression([(1, 2, 3)]) == "[1, 2, 3]"
    assert maps.fill_expression([(1, 2, 3), (4, 5, 6)]) == "k == 0 ? [1, 2, 3] : [4, 5, 6]"


def _patterned(n: int = 300) -> pd.DataFrame:
    frame = _cells(n)
    rng = np.random.default_rng(3)
    frame["pattern"] = rng.choice(["no pattern", "no pattern", "persistent hot spot", "new cold spot",
                                   "oscillating hot spot"], len(frame))
    frame["last_z"] = rng.normal(0, 2, len(frame))
    return frame


def test_pattern_colouring_draws_patterned_cells_only_with_their_classes():
    frame = _patterned()
    deck, legend, left_out = maps.build_deck(frame, colour_by="pattern", tooltip_fields=("h3", "pattern"))
    layer = _layer(_spec(deck), "cells")
    expected = frame[frame["pattern"] != "no pattern"]
    assert len(layer["data"]) == len(expected) and left_out == 0
    # Legend: the classes present only, in the palette's order, with the palette's colours.
    assert [label for label, _ in legend.entries] == ["persistent hot spot", "oscillating hot spot", "new cold spot"]
    assert all(colour == maps.PATTERN_COLOURS[label] for label, colour in legend.entries)
    # Each drawn cell's class index points at the legend entry of its own pattern.
    labels = [label for label, _ in legend.entries]
    assert all(labels[cell["k"]] == cell["t"] for cell in layer["data"])
    assert dict(zip(expected["h3"], expected["pattern"])) == {c["h"]: c["t"] for c in layer["data"]}


def test_pattern_palette_is_distinct_and_no_pattern_is_grey():
    from hotspot_engine.analyse.patterns import PATTERNS

    assert set(maps.PATTERN_COLOURS) == set(PATTERNS)
    assert len(set(maps.PATTERN_COLOURS.values())) == len(PATTERNS)
    r, g, b = maps.PATTERN_COLOURS["no pattern"]
    assert r == g == b
    # Hot classes lean red (r > b), cold classes lean blue (b > r), except the purple oscillating cold spot,
    # which still has more blue than red.
    for name, (r, g, b) in maps.PATTERN_COLOURS.items():
        if "hot spot" in name:
            assert r > b, name
        elif "cold spot" in name:
            assert b > r, name


def test_pattern_map_with_no_patterned_cell_draws_nothing():
    frame = _patterned().assign(pattern="no pattern")
    deck, legend, _ = maps.build_deck(frame, colour_by="pattern")
    assert _layer(_spec(deck), "cells")["data"] == [] and legend.entries == []


def test_tooltip_names_the_hotspot_by_its_map_number_and_keeps_data_as_text():
    cells = _cells(200)
    cells["hotspot_rank"] = np.where(cells["is_hotspot"], 3, np.nan)
    cells.loc[cells["is_hotspot"], "hotspot_name"] = "Above Bar <img src=x onerror=alert(1)> Street"
    deck, _, _ = maps.build_deck(cells)
    spec = _spec(deck)
    records = _layer(spec, "cells")["data"]
    hot = [r["s"] for r in records if r["s"] != "not in a hotspot"]
    assert hot and all(s.startswith("#3 Above Bar &lt;img") for s in hot)
    assert "<img" not in deck.to_json()
    tooltip = deck._tooltip["html"]  # passed to Streamlit beside the JSON spec
    assert tooltip.index("Hotspot") < tooltip.index("Incidents") < tooltip.index("Cell")
