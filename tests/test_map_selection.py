"""Clicking a cell on the map selects its hotspot: the hotspot's number, name and figures beside
the map (issue 19)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from ui.hotspot_map.selection import picked_cell


def test_the_clicked_cell_is_read_from_the_map_event():
    event = SimpleNamespace(selection={"indices": {"cells": [3]}, "objects": {"cells": [{"h": "89195d2cc23ffff", "n": 4}]}})
    assert picked_cell(event) == "89195d2cc23ffff"
    assert picked_cell(SimpleNamespace(selection={"indices": {}, "objects": {}})) is None
    assert picked_cell(None) is None


def _panel(h3):
    import pandas as pd

    from ui.hotspot_map.selection import draw_selection

    cells = pd.DataFrame({"h3": ["a", "b"], "district": ["Gosport", "Gosport"], "count": [7, 1], "gi_z": [5.2, 0.4],
                          "hotspot_id": ["HS-1", None]})
    areas = pd.DataFrame({"hotspot_rank": [1], "hotspot_id": ["HS-1"], "hotspot_name": ["Gosport - High Street"],
                          "csp": ["Gosport CSP"], "district": ["Gosport"], "n_cells": [1], "count": [7], "harm": [365.0],
                          "patrols": [0], "patrol_minutes": [0.0], "top_location": ["High Street"]})
    draw_selection(cells, areas, h3)


def test_the_panel_shows_the_hotspot_of_the_clicked_cell():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_panel, args=("a",)).run()
    assert not at.exception
    assert at.markdown[0].value == "**#1 Gosport \\- High Street**"  # data text escaped, shown as text
    table = at.dataframe[0].value
    assert dict(zip(table[""], table["Value"]))["Incidents"] == "7"
    at = AppTest.from_function(_panel, args=("b",)).run()
    assert "not in a hotspot" in at.markdown[0].value
    at = AppTest.from_function(_panel, args=(None,)).run()
    assert "Click a cell" in at.caption[0].value


@pytest.mark.slow  # loads a street layer and reruns the map in AppTest
def test_streets_and_their_names_are_drawn_at_city_zoom_only(sample_db, tmp_path, monkeypatch):
    """With a street layer loaded, a CSP view draws its streets and names; the force view does not
    (it would send every street of the force)."""
    import json
    import shutil

    import streamlit as st
    from streamlit.testing.v1 import AppTest
    from test_patrol_briefing import _street_file
    from test_real_stores_app import ROOT

    from hotspot_engine import service
    from hotspot_engine.store.database import connect

    db = tmp_path / "streets.duckdb"
    shutil.copy(sample_db, db)
    con = connect(db)
    service.ingest_streets(con, [_street_file(tmp_path / "roads.geojson", 50.795, -1.125)])  # Gosport
    con.close()
    monkeypatch.setenv("HOTSPOT_DB", str(db))
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        layers = {}
        for query in ({"csp": "Gosport CSP"}, {}):
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
            for key, value in query.items():
                at.query_params[key] = value
            at.run()
            at.switch_page("pages/1_Hotspot_map.py").run()
            assert not at.exception, [e.value for e in at.exception]
            spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
            layers[bool(query)] = {layer["id"]: layer for layer in spec["layers"]}
        assert "streets" in layers[True] and "street-names" in layers[True]
        names = {row["name"] for row in layers[True]["street-names"]["data"]}
        assert {"Test High Street", "Test Cross Road"} <= names and "Far Away Road" not in names
        assert "streets" not in layers[False]
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()
