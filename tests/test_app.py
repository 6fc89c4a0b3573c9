"""Streamlit AppTest for every page, on the built-in sample (headline figures: HIPS VRP annual report
2023-24, as planted in the sample; see DOMAIN.md)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_app

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["pages/1_Hotspot_map.py", "pages/2_Patrols.py", "pages/3_Impact.py", "pages/4_Data_and_export.py"]



def _shown(markdown: str) -> str:
    """What a Markdown caption shows: page text from filters and data is backslash-escaped
    (hotspot_engine.render.text_safety.markdown_plain)."""
    import re

    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


def _app(app_db, page: str | None = None, query: dict | None = None):
    return run_app(page, query)


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
    assert abs(_pct(hot.delta) - sample_truth["report_change"] * 100) < 1.0
    line = next(m.value for m in at.markdown if "the evidence supports about" in m.value)
    assert "the report's **-1" in line and "95% interval" in line and "nan" not in line
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
    # Ranked by predicted incidents (the default method), not by count: nearly, not exactly, by count.
    assert table["count"].rank().corr(table["no"].rank()) < -0.9 and (table["count"] >= 5).all()
    # Audit item 3: the predicted rates that set the order are shown beside the count, with a line saying so.
    assert (table["predicted"].diff().dropna() <= 1e-9).all() and (table["predicted_peak"] > 0).all()
    assert any(caption.value.startswith("Ranked by predicted rate, not by the count") for caption in at.caption)
    labels = next(layer for layer in spec["layers"] if layer["id"] == "hotspot-labels")
    assert len(labels["data"]) == len(table)


@pytest.mark.slow  # an AppTest with several reruns or pages
def test_filters_follow_the_user_between_pages(app_db):
    at = _app(app_db)
    at.multiselect(key="f_csp").set_value(["Gosport CSP"]).run()
    at.select_slider(key="f_res").set_value(8).run()
    at.switch_page(PAGES[0]).run()
    assert not at.exception
    assert at.multiselect(key="f_csp").value == ["Gosport CSP"]
    assert at.select_slider(key="f_res").value == 8
    assert "Gosport CSP" in _shown(at.caption[0].value) and "H3 res 8" in _shown(at.caption[0].value)


def test_map_follows_a_csp_filter(app_db):
    at = _app(app_db, PAGES[0])
    at.multiselect(key="f_csp").set_value(["Safer North Hampshire"]).run()
    assert not at.exception
    assert "Safer North Hampshire" in _shown(at.caption[0].value)
    table = at.dataframe[0].value
    assert set(table["district"]) <= {"Basingstoke and Deane", "Hart", "Rushmoor"}
    assert len(table) >= 2
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    assert spec["initialViewState"]["zoom"] > 9  # fitted to the CSP, not the whole force


def test_shared_link_restores_filters(app_db):
    at = _app(app_db, query={"csp": "Safe City Partnership Southampton", "from": "2022-04", "to": "2023-03"})
    assert at.multiselect(key="f_csp").value == ["Safe City Partnership Southampton"]
    assert "2022-04 to 2023-03" in _shown(at.caption[0].value)


def test_patrols_page_counts_every_patrol(app_db, sample_dir):
    import pandas as pd

    at = _app(app_db, query={"from": "2023-04", "to": "2024-03"})
    at.switch_page(PAGES[1]).run()
    assert not at.exception
    direct = len(pd.read_csv(sample_dir / "patrols.csv"))
    assert _metric(at, "Patrols").value == f"{direct:,}"


def test_impact_page_shows_the_pooled_effect(app_db, sample_truth):
    at = _app(app_db, PAGES[2])
    low = float(_metric(at, "95% interval (corrected)").value.split("%")[0])
    high = float(_metric(at, "95% interval (corrected)").value.split("to")[1].strip().rstrip("%"))
    assert low <= sample_truth["true_effect"] * 100 <= high
    # The predicted places (default since issue 24) hold 1,174 incidents in 2022-23 against the Gi*
    # areas' 1,316: the interval was 30.6 points wide (-18.5% to +12.1%) instead of 29. With the other
    # offences as three quarters of the prediction's prior (issue 24 item 1) the places hold fewer
    # incidents (33.2 points), and allowing for hotspots that share a CSP comparison (their errors move
    # together) widens it by about a point more.
    assert high - low <= 35
    # The plain before/after is in the small table of figures, not in large type (issue 27).
    figures = at.dataframe[0].value
    simple = float(figures.loc[figures["figure"].str.startswith("Plain before/after"), "change"].iloc[0].rstrip("%"))
    assert abs(simple - sample_truth["report_change"] * 100) < 1.0
    # Text alternative of the one-hotspot chart: the observed and counterfactual months as a table.
    frame = at.dataframe[1].value
    assert {"month", "observed", "fitted", "counterfactual"} <= set(frame.columns) and len(frame) >= 24
    placebo = at.dataframe[2].value
    assert list(placebo["pseudo intervention"]) == ["2021-04-01"]
    assert any("Regression to the mean" in m.value for m in at.markdown)
    # The pooled chart's model (-11.6% on the sample) is not the headline's pool (-9.4%): it says so
    assert any("summed series, a check on the headline figure" in c.value for c in at.caption)


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


def _deck(at) -> dict:
    charts = at.get("deck_gl_json_chart")
    assert charts, "no pydeck chart on the page"
    return json.loads(charts[0].proto.json)


def _layer(spec: dict, layer_id: str) -> dict:
    return next(layer for layer in spec["layers"] if layer["id"] == layer_id)


@pytest.mark.slow  # five reruns, the month colours counted cell by cell (3.4-4.6 s of CPU)
def test_playback_steps_month_by_month_and_counts_match_the_store(app_db, sample_store):
    """Each playback frame draws that month's serious violence, cell by cell: its cells add up to the
    store's count for the month (an independent SQL count over the same filters)."""
    from hotspot_engine.filters import Filters
    from hotspot_engine.store import query

    at = _app(app_db, PAGES[0], query={"from": "2023-01", "to": "2023-06"})
    at.selectbox(key="m_mode").set_value("months").run()
    assert not at.exception
    assert at.select_slider(key="m_month").value == "2023-01"
    monthly = query.monthly_counts(sample_store, Filters(date_from="2023-01", date_to="2023-06", sv_only=True))
    expected = dict(zip(monthly["month"], monthly["count"]))

    def drawn_total() -> int:
        return sum(cell["n"] for cell in _layer(_deck(at), "cells")["data"])

    assert drawn_total() == expected["2023-01"]
    at.button(key="m_play").click().run()
    assert at.session_state["m_playing"] is True
    seen = [at.select_slider(key="m_month").value]
    for _ in range(3):  # what the fragment's timer does: a tick once PLAY_SECONDS have passed
        at.session_state["_m_tick"] = 0.0
        at.run()
        assert not at.exception
        seen.append(at.select_slider(key="m_month").value)
        assert drawn_total() == expected[seen[-1]]
    assert seen == ["2023-01", "2023-02", "2023-03", "2023-04"]
    at.button(key="m_play").click().run()  # pause
    assert at.session_state["m_playing"] is False
    at.selectbox(key="m_mode").set_value("window").run()


@pytest.mark.slow  # an AppTest with several reruns or pages
def test_playback_stops_at_the_last_month(app_db):
    at = _app(app_db, PAGES[0], query={"from": "2024-02", "to": "2024-03"})
    at.selectbox(key="m_mode").set_value("months").run()
    at.select_slider(key="m_month").set_value("2024-03").run()
    at.button(key="m_play").click().run()
    assert at.select_slider(key="m_month").value == "2024-02"  # play from the end replays from the start
    at.session_state["_m_tick"] = 0.0
    at.run()
    assert at.select_slider(key="m_month").value == "2024-03"
    at.session_state["_m_tick"] = 0.0
    at.run()
    assert at.session_state["m_playing"] is False and at.select_slider(key="m_month").value == "2024-03"
    at.selectbox(key="m_mode").set_value("window").run()


def test_lsoa_outlines_are_a_local_static_file(app_db):
    at = _app(app_db, PAGES[0])
    spec = _deck(at)
    assert "lsoas" not in {layer["id"] for layer in spec["layers"]}  # off by default
    at.toggle(key="m_lsoa").set_value(True).run()
    layer = _layer(_deck(at), "lsoas")
    assert layer["data"] == "/app/static/lsoa_outlines.geojson"
    assert (ROOT / "static" / "lsoa_outlines.geojson").exists()
    at.toggle(key="m_lsoa").set_value(False).run()


@pytest.mark.slow  # a filter change reruns the Overview's impact
def test_presentation_mode_shows_the_headline_beside_a_high_contrast_map_and_exits(app_db, sample_truth):
    at = _app(app_db, PAGES[0], query={"present": "1", "csp": "Gosport CSP"})
    spec = _deck(at)
    assert spec["mapStyle"] == "/app/static/dark_style.json"
    assert spec["initialViewState"]["zoom"] > 10  # fitted to Gosport, not the force
    labels = [m.label for m in at.metric]
    # Beside the map: the years once above, short labels that stay on one line.
    assert sorted(labels) == sorted(["Serious violence", "Hotspots", "Hotspot patrols", "SV in hotspots"])
    assert any("2023-24 against 2022-23" in m.value for m in at.markdown)
    assert not [s for s in at.selectbox if s.key == "m_method"], "map controls are hidden when presenting"
    assert not at.dataframe  # no tables on the wall screen
    at.button(key="exit_present").click().run()
    assert not at.exception
    assert at.toggle(key="present").value is False
    assert at.selectbox(key="m_method").value == "predict"  # the default since issue 24
    assert "present" not in at.query_params
    assert _deck(at)["mapStyle"] == "/app/static/blank_style.json"
    at.multiselect(key="f_csp").set_value([]).run()


def test_overview_has_a_table_for_every_chart(app_db):
    at = _app(app_db)
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    table = at.dataframe[0].value  # the expander's table of the monthly chart
    assert len(table) == 60 and table.shape[1] >= 7  # 60 months x the serious-violence categories


def _zip_names(payload: bytes) -> list[str]:
    import io
    import zipfile

    return zipfile.ZipFile(io.BytesIO(payload)).namelist()


@pytest.mark.slow  # writes every export layer
def test_export_panel_writes_every_layer_with_its_sidecar(app_db, tmp_path):
    import io
    import zipfile

    import geopandas as gpd
    import pyogrio

    at = _app(app_db, PAGES[3], query={"from": "2023-04", "to": "2024-03", "csp": "Gosport CSP"})
    at.multiselect(key="x_layers").set_value(["hotspot_cells", "hotspot_areas", "impact", "incidents", "patrols"]).run()
    at.selectbox(key="x_fmt").set_value("gpkg").run()
    at.button(key="x_prepare").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    name, payload, names = at.session_state["export_zip"]
    assert name.startswith("layers_2023-04_2024-03_gosport-csp_") and name.endswith(".zip")
    zf = zipfile.ZipFile(io.BytesIO(payload))
    gpkg = next(n for n in zf.namelist() if n.endswith(".gpkg"))
    zf.extractall(tmp_path)
    layers = {row[0] for row in pyogrio.list_layers(tmp_path / gpkg)}
    assert layers == {"hotspot_cells", "hotspot_areas", "impact", "incidents", "patrols"}
    incidents = gpd.read_file(tmp_path / gpkg, layer="incidents")
    assert set(incidents["csp"]) == {"Gosport CSP"}
    assert incidents["month"].min() >= "2023-04" and incidents["month"].max() <= "2024-03"
    meta = json.loads(zf.read(next(n for n in zf.namelist() if n.endswith(".methods.json"))))
    assert meta["filters"]["csps"] == ["Gosport CSP"] and meta["partner_safe"] is False
    assert meta["row_counts"]["incidents"] == len(incidents)
    assert any(n.endswith(".methods.txt") for n in zf.namelist())


@pytest.mark.slow  # writes every export layer, partner-safe
def test_partner_safe_export_has_no_rows_and_no_small_counts(app_db, tmp_path):
    import io
    import zipfile

    import pandas as pd

    at = _app(app_db, PAGES[3], query={"from": "2023-04", "to": "2024-03"})
    at.multiselect(key="x_layers").set_value(["hotspot_cells", "hotspot_areas", "incidents"]).run()
    at.selectbox(key="x_fmt").set_value("csv").run()
    at.toggle(key="x_safe").set_value(True).run()
    at.number_input(key="x_threshold").set_value(10).run()
    assert any("leaves out the incident" in i.value for i in at.info)
    at.button(key="x_prepare").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    _, payload, names = at.session_state["export_zip"]
    assert not [n for n in names if "incident" in n and n.endswith(".csv")]
    zf = zipfile.ZipFile(io.BytesIO(payload))
    cells = pd.read_csv(zf.open(next(n for n in names if n.endswith("hotspot_cells.csv"))), low_memory=False)
    shown = cells["count"].dropna()
    assert len(shown) and (shown >= 10).all()
    assert cells["count"].isna().any()  # small counts blanked, not dropped silently
    meta = json.loads(zf.read(next(n for n in names if n.endswith(".methods.json"))))
    assert meta["partner_safe"] is True and meta["threshold"] == 10


@pytest.mark.slow  # draws the meeting maps in three formats
def test_meeting_maps_are_offline_and_downloadable(app_db):
    from hotspot_engine.render.html_map import remote_assets

    at = _app(app_db, PAGES[3], query={"from": "2023-04", "to": "2024-03", "csp": "Havant CSP"})
    at.toggle(key="x_maps").set_value(True).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    downloads = {d.proto.label: d for d in at.get("download_button")}
    assert {"Interactive map (HTML, works offline)", "Map image (PNG)", "One-page summary (PDF)"} <= set(downloads)
    frames = at.get("iframe")
    assert frames, "the HTML map is not shown in the page"
    page = frames[0].proto.srcdoc
    assert "L.map(" in page or "L.map" in page
    assert remote_assets(page) == []
    at.toggle(key="x_maps").set_value(False).run()


def test_incident_export_needs_the_data_manager_role(app_db, monkeypatch):
    import ui.access

    monkeypatch.setattr(ui.access, "can_manage_data", lambda settings: False)
    at = _app(app_db, PAGES[3])
    options = at.multiselect(key="x_layers").options
    assert "Incidents (one row each)" not in options and "Patrols (one row each)" not in options
    assert "Hotspot cells (H3, with every figure)" in options


@pytest.mark.slow  # a filter change reruns the Overview's impact
def test_months_slider_moves_and_stays_moved(app_db):
    at = _app(app_db)
    at.select_slider(key="f_months").set_range("2021-01", "2023-12").run()
    assert not at.exception
    assert "2021-01 to 2023-12" in _shown(at.caption[0].value)
    at.run()  # a rerun must not snap the range back
    assert at.select_slider(key="f_months").value == ("2021-01", "2023-12")
    at.switch_page(PAGES[0]).run()
    assert "2021-01 to 2023-12" in _shown(at.caption[0].value)


def test_overview_trend_counts_months_without_incidents_as_zero(app_db):
    at = _app(app_db)
    table = at.dataframe[-1].value  # the text alternative of the trend chart
    assert len(table) == 60  # 2019-04 .. 2024-03, every month
    assert (table["Riot"] == 0).sum() > 40  # a few riots a year, not one a month
