"""Issue 27: presentation mode fits the wall screen. Once the browser has reported its window
(ui/viewport.py), the Hotspot map is drawn as tall as the screen below the map's top, and its view
holds the whole force area inside that box, at 1280x720 as at 1920x1080; the police.uk caveat is one
small line, not a box. In real Chromium, every page at both sizes is one screen: nothing scrolls,
nothing reaches past the window's edges, no control is drawn (Patrols, Impact and Data & export had
run one or two screens down with their tables and text)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import ROOT


def _present(size: dict | None, page: str = "pages/1_Hotspot_map.py", key: str = "map"):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["present"] = "1"
    if size is not None:
        at.session_state[f"_viewport_size_{key}"] = size
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.slow  # runs of the map pages through AppTest
@pytest.mark.parametrize("page, key, screen", [
    ("pages/1_Hotspot_map.py", "map", (1280, 720, 183, 800)), ("pages/1_Hotspot_map.py", "map", (1920, 1080, 196, 1220)),
    ("pages/5_Partner_data.py", "partners", (1280, 720, 280, 850))])
def test_the_whole_force_fits_the_map_the_screen_leaves(app_db, page, key, screen):
    from hotspot_engine.reference.geography import districts
    from hotspot_engine.render.labels import Viewport, project
    from ui.viewport import BOTTOM_MARGIN_PX

    vw, vh, top, width = screen
    at = _present({"vw": vw, "vh": vh, "top": top, "width": width}, page, key)
    chart = at.get("deck_gl_json_chart")[0]
    height = vh - top - BOTTOM_MARGIN_PX  # the map ends above the screen's bottom edge: no scrolling to see it
    view = json.loads(chart.proto.json)["initialViewState"]
    minx, miny, maxx, maxy = districts().total_bounds
    x, y = project(np.array([miny, maxy, miny, maxy]), np.array([minx, minx, maxx, maxx]),
                   Viewport(view["latitude"], view["longitude"], view["zoom"], width, height))
    assert x.min() >= 0 and x.max() <= width and y.min() >= 0 and y.max() <= height  # nothing cut off
    assert (x.max() - x.min()) > 0.6 * width or (y.max() - y.min()) > 0.6 * height  # and not a postage stamp


def test_a_change_from_nothing_is_said_in_words_not_as_nan():
    """On the real Hampshire months (2018-03, 2024-01 to 2024-04) the headline and the presentation
    read '+786 (+nan%)': 2022-23 holds no incident."""
    from ui.common import change_text

    assert change_text(786, float("nan"), "2022-23") == "none stored in 2022-23 to compare with"
    assert change_text(-241, -4.8, "2022-23") == "-241 (-4.8%)"


@pytest.mark.slow  # AppTest runs of the Data & export page
def test_data_page_on_the_wall_screen_shows_holdings_without_desk_controls(app_db):
    from tests.conftest import run_app

    desk = run_app("pages/4_Data_and_export.py", {})
    assert "x_prepare" in [b.key for b in desk.button]  # the export is there at the desk
    wall = _present(None, "pages/4_Data_and_export.py")
    assert "Incidents stored" in [m.label for m in wall.metric]
    assert not [b for b in wall.button if b.key in ("x_prepare", "remove_sample", "upload_go")]
    assert not wall.get("file_uploader")


@pytest.mark.slow  # AppTest runs of the Partner data page
def test_partner_page_on_the_wall_screen_draws_no_controls_and_keeps_the_desk_choice(app_db):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("pages/5_Partner_data.py")
    at.run()
    assert at.selectbox(key="p_source") is not None and at.slider  # the desk has its controls
    layer_keys = [t.key for t in at.toggle if t.key and t.key.startswith("p_layer_")]
    points_at_desk = _point_layers(at)
    at.toggle(key=layer_keys[0]).set_value(False).run()
    assert _point_layers(at) == points_at_desk - 1
    at.query_params["present"] = "1"
    at.session_state["present"] = True
    at.run()
    at.run()  # a second run, as the viewport's report causes: the desk's choice must survive it
    assert not at.exception, [e.value for e in at.exception]
    assert not at.selectbox and not at.slider and not [t for t in at.toggle if t.key and t.key.startswith("p_")]
    assert _point_layers(at) == points_at_desk - 1  # the layer switched off at the desk stays off


def _point_layers(at) -> int:
    layers = json.loads(at.get("deck_gl_json_chart")[0].proto.json)["layers"]
    return sum(str(layer.get("id", "")).startswith("partner-points-") for layer in layers)


@pytest.mark.slow  # a real browser on every page at both wall-screen sizes
def test_every_page_is_one_wall_screen_in_chromium(sample_db, tmp_path):
    import shutil

    from browser import browser, chromium_path, open_presented, running_app, wall_screen_problems

    if not chromium_path():
        pytest.skip("Chromium is not installed")
    db = tmp_path / "wall.duckdb"  # the app's own copy: the test process may hold the shared one open
    shutil.copy(sample_db, db)
    problems, looked = {}, []
    with running_app(db) as url, browser() as b:
        for width, height in ((1920, 1080), (1280, 720)):
            page = b.new_page(viewport={"width": width, "height": height})
            for path in ("", "Hotspot_map", "Patrols", "Impact", "Data_and_export", "Partner_data", "Hotspot_sets"):
                open_presented(page, url, path)
                looked.append((path, page.locator("h1").first.inner_text()))
                found = wall_screen_problems(page)
                if found:
                    problems[f"{path or 'Overview'} at {width}x{height}"] = found
            page.close()
    assert len(looked) == 14 and all(title for _, title in looked), looked  # every page drew its title
    assert not problems, problems


@pytest.mark.slow  # AppTest runs of Patrols and Data & export on the wall screen
@pytest.mark.parametrize("page, key", [("pages/2_Patrols.py", "patrols"), ("pages/4_Data_and_export.py", "data")])
@pytest.mark.parametrize("vh, top, row, rows", [(720, 394, 33, 6), (1080, 600, 45, 7), (1080, 300, 45, 14)])
def test_a_wall_table_shows_the_rows_the_reported_screen_holds(first_start_db, tmp_path, page, key, vh, top, row,
                                                               rows):
    """The browser reports where the table starts and how tall its rows are (ui/viewport.py): the page
    shows the rows that fit above the caption's room and says how many are left for the desk view. On
    the first-start store, whose adopted set Data & export lists."""
    import shutil

    from tests.conftest import app_serving
    from ui.viewport import BOTTOM_MARGIN_PX
    from ui.wall import CAPTION_PX

    assert (vh - top - BOTTOM_MARGIN_PX - CAPTION_PX - row) // row == rows  # the figures the cases stand for
    shutil.copy(first_start_db, tmp_path / "app.duckdb")
    with app_serving(tmp_path / "app.duckdb"):
        at = _present({"vw": 1280, "vh": vh, "top": top, "width": 1120, "row": row, "head": row}, page, key)
    tables = at.get("table")
    assert len(tables) == 1 and not at.dataframe  # an HTML table (presentation type enlarges it), no grid
    captions = [c.value for c in at.caption]
    assert f"The first {rows} of 19 hotspots; the other {19 - rows} are on the desk view (Exit presentation mode)." \
        in captions, captions
