"""Streamlit AppTest for every page, on the built-in sample (headline figures: HIPS VRP annual report
2023-24, as planted in the sample; see DOMAIN.md)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["pages/1_Hotspot_map.py", "pages/2_Patrols.py", "pages/3_Impact.py", "pages/4_Data_and_export.py"]


def _app(app_db, page: str | None = None, query: dict | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metric(at, label_start: str):
    for m in at.metric:
        if m.label.startswith(label_start):
            return m
    raise AssertionError(f"no metric starting {label_start!r}: {[m.label for m in at.metric]}")


def _pct(text: str) -> float:
    return float(text.split("(")[1].split("%")[0])


def test_overview_reproduces_the_headline(app_db, sample_truth):
    at = _app(app_db)
    sv = _metric(at, "Serious violence 2023-24")
    truth = sample_truth["fy_totals"]
    assert sv.value == f"{truth['2023-24']:,}"
    change = truth["2023-24"] - truth["2022-23"]
    assert sv.delta.startswith(f"{change:+,}")  # -241 in the report
    assert abs(_pct(sv.delta) - (truth["2023-24"] / truth["2022-23"] - 1) * 100) < 0.5
    assert _metric(at, "Serious-violence hotspots").value == str(len(sample_truth["hotspots"]))
    assert _metric(at, "Patrols in hotspots").value == f"{sample_truth['patrols_2023_24']:,}"
    hot = _metric(at, "Serious violence in hotspots")
    assert abs(_pct(hot.delta) - sample_truth["planted_effect"] * 100) < 0.5
    assert any("SYNTHETIC" in w.value for w in at.warning)


def test_map_draws_cells_offline(app_db):
    at = _app(app_db, PAGES[0])
    charts = at.get("deck_gl_json_chart")
    assert charts, "no pydeck chart on the map page"
    spec = json.loads(charts[0].proto.json)
    kinds = {layer["@@type"] for layer in spec["layers"]}
    assert {"H3HexagonLayer", "GeoJsonLayer", "TextLayer"} <= kinds
    cells = next(layer for layer in spec["layers"] if layer["id"] == "cells")
    assert len(cells["data"]) > 100
    assert spec["mapStyle"].startswith("/app/static/")
    text = charts[0].proto.json
    assert "carto" not in text.lower() and "mapbox://" not in text and "https://" not in text
    table = at.dataframe[0].value  # hotspot areas over the last 12 months, ranked
    assert len(table) >= 10
    assert list(table["no"]) == list(range(1, len(table) + 1))
    assert table["count"].is_monotonic_decreasing and (table["count"] >= 5).all()
    labels = next(layer for layer in spec["layers"] if layer["id"] == "hotspot-labels")
    assert len(labels["data"]) == len(table)


def test_filters_follow_the_user_between_pages(app_db):
    at = _app(app_db)
    at.multiselect(key="f_csp").set_value(["Gosport CSP"]).run()
    at.select_slider(key="f_res").set_value(8).run()
    at.switch_page(PAGES[0]).run()
    assert not at.exception
    assert at.multiselect(key="f_csp").value == ["Gosport CSP"]
    assert at.select_slider(key="f_res").value == 8
    assert "Gosport CSP" in at.caption[0].value and "H3 res 8" in at.caption[0].value


def test_map_follows_a_csp_filter(app_db):
    at = _app(app_db, PAGES[0])
    at.multiselect(key="f_csp").set_value(["Safer North Hampshire"]).run()
    assert not at.exception
    assert "Safer North Hampshire" in at.caption[0].value
    table = at.dataframe[0].value
    assert set(table["district"]) <= {"Basingstoke and Deane", "Hart", "Rushmoor"}
    assert len(table) >= 2
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    assert spec["initialViewState"]["zoom"] > 9  # fitted to the CSP, not the whole force


def test_shared_link_restores_filters(app_db):
    at = _app(app_db, query={"csp": "Safe City Partnership Southampton", "from": "2022-04", "to": "2023-03"})
    assert at.multiselect(key="f_csp").value == ["Safe City Partnership Southampton"]
    assert "2022-04 to 2023-03" in at.caption[0].value


def test_patrols_page_counts_every_patrol(app_db, sample_dir):
    import pandas as pd

    at = _app(app_db, query={"from": "2023-04", "to": "2024-03"})
    at.switch_page(PAGES[1]).run()
    assert not at.exception
    direct = len(pd.read_csv(sample_dir / "patrols.csv"))
    assert _metric(at, "Patrols").value == f"{direct:,}"


def test_impact_page_shows_the_pooled_effect(app_db, sample_truth):
    at = _app(app_db, PAGES[2])
    low = float(_metric(at, "95% confidence interval").value.split("%")[0])
    high = float(_metric(at, "95% confidence interval").value.split("to")[1].strip().rstrip("%"))
    assert low <= sample_truth["planted_effect"] * 100 <= high
    simple = float(_metric(at, "Simple before/after").value.rstrip("%"))
    assert abs(simple - sample_truth["planted_effect"] * 100) < 1.0


def test_data_page_lists_loads_and_exports(app_db):
    at = _app(app_db, PAGES[3])
    assert _metric(at, "Incidents stored").value != "0"
    assert len(at.dataframe[0].value) >= 2  # the two sample loads
    at.button[-1].click().run()  # "Prepare export" (hotspot cells and areas, GeoPackage)
    assert not at.exception
    assert not at.error, [e.value for e in at.error]


def test_presentation_mode_hides_controls(app_db):
    at = _app(app_db, PAGES[0], query={"present": "1"})
    assert at.toggle(key="present").value is True
    styles = "".join(m.value for m in at.markdown if "<style>" in m.value)
    assert "stSidebar" in styles and "font-size" in styles
