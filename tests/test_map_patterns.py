"""Hotspot map page: colouring by space-time pattern (issue 4) and the concentration section, on the
built-in sample through Streamlit's AppTest."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
MAP_PAGE = "pages/1_Hotspot_map.py"


def _map_page(app_db):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.switch_page(MAP_PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _cells_layer(at) -> list[dict]:
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    return next(layer for layer in spec["layers"] if layer["id"] == "cells")


@pytest.mark.slow  # space-time patterns over five years in AppTest
def test_pattern_colouring_draws_only_patterned_cells_with_a_legend_of_sentences(app_db):
    from hotspot_engine.analyse.patterns import PATTERN_LEGEND

    at = _map_page(app_db)
    assert "pattern" in at.selectbox(key="m_colour").options or "Space-time pattern" in at.selectbox(key="m_colour").options
    at.selectbox(key="m_colour").set_value("pattern").run()
    assert not at.exception, [e.value for e in at.exception]
    layer = _cells_layer(at)
    drawn = {cell["t"] for cell in layer["data"]}
    # The sample plants persistent hotspots over five financial years: some cells must carry a pattern.
    assert drawn and "no pattern" not in drawn and drawn <= set(PATTERN_LEGEND)
    legend = next(m.value for m in at.markdown if "Space-time pattern" in m.value and "pattern-legend-row" in m.value)
    for pattern in drawn:  # every class on the map is explained by its sentence, and only those classes
        assert pattern.capitalize() in legend and PATTERN_LEGEND[pattern] in legend
    assert legend.count("pattern-legend-row") == len(drawn)
    # One colour per class present, in the fill expression.
    assert layer["getFillColor"].count("[") == len(drawn)


@pytest.mark.slow  # the map page after clearing the caches, and a second hotspot run
def test_concentration_gini_matches_the_engine(app_db, sample_store):
    from hotspot_engine.analyse.concentration import concentration
    from hotspot_engine.analyse.hotspots import HotspotParams
    from hotspot_engine.filters import shift_month
    from hotspot_engine.service import hotspots as find_hotspots

    at = _map_page(app_db)
    assert any(h.value == "Concentration" for h in at.subheader)
    gini_shown = float(next(m for m in at.metric if m.label == "Gini coefficient").value)
    assert 0 < gini_shown < 1
    # The same counts: the page's default window is the last 12 months of the selected range.
    filters = at.session_state["filters"]
    window = filters.with_(date_from=max(filters.date_from, shift_month(filters.date_to, -11)))
    counts = find_hotspots(sample_store, window, HotspotParams()).cells["count"].to_numpy(dtype=float)
    assert abs(gini_shown - concentration(counts).gini) < 5e-4
    sentence = next(m.value for m in at.markdown if "of serious violence happened in 1% of the area" in m.value)
    assert "the hotspots hold" in sentence
    table = next(d.value for d in at.dataframe if "Share of serious violence" in d.value.columns)
    shares = table["Share of serious violence"].to_numpy()
    assert np.all(np.diff(shares[:-1]) >= 0) and 0 < shares[-1] <= 1


@pytest.mark.slow  # an AppTest run of the map page (2.6 s)
def test_pattern_colouring_falls_back_to_counts_under_three_financial_years(app_db):
    at = _map_page(app_db)
    at.selectbox(key="m_colour").set_value("pattern").run()
    at.session_state["f_months"] = ("2023-04", "2024-03")  # one financial year
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("need at least 3 financial years" in i.value for i in at.info)
    assert all("t" not in cell for cell in _cells_layer(at)["data"])  # coloured by count: no pattern field


def test_all_scored_cells_are_sent_only_when_their_table_is_opened(app_db):
    at = _map_page(app_db)

    def scored_table():
        return [d.value for d in at.dataframe if "gi_z" in d.value.columns]

    assert not scored_table(), "the table of every scored cell is not sent while its expander is closed"
    at.session_state["m_all_cells"] = True  # the user opens it: the expander reruns the page
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    [table] = scored_table()
    layer = _cells_layer(at)
    assert len(table) >= len(layer["data"]) > 0  # every drawn cell (count > 0 or hotspot) is in the text alternative
    assert table["gi_z"].is_monotonic_decreasing
