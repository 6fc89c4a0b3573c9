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


def test_the_wall_chart_leaves_the_measured_room_for_its_caption():
    """The figures the browser reports for the Overview on the first-start store (ui/viewport.py): the
    room from the chart's top to the screen's margin, and what the page draws below the chart."""
    from ui.overview.monthly_chart import MIN_PLOT_PX, ROW_EXTRA_PX, wall_panels

    for free, width, below in ((205, 1120, 48), (289, 1700, 73)):  # 1280x720, 1920x1080
        rows, (_, plot) = wall_panels(8, free, width, below)
        assert rows == 1 and MIN_PLOT_PX <= plot and plot + ROW_EXTRA_PX + below <= free, (free, plot)
        # A caption a line taller (a store with months missing) takes its line from the plot, not the screen.
        assert wall_panels(8, free, width, below + 41)[1][1] == max(MIN_PLOT_PX, plot - 41)


#: The Overview's chart, its caption and the page's end in the browser: the measured figures behind a fit.
_OVERVIEW_FIT_JS = """() => {
    const box = (e) => e ? e.getBoundingClientRect() : null;
    const chart = box(document.querySelector('[data-testid="stVegaLiteChart"]'));
    const captions = [...document.querySelectorAll('[data-testid="stCaptionContainer"] p')];
    const caption = box(captions[captions.length - 1]);
    const main = document.querySelector('[data-testid="stMain"]');
    return {vh: window.innerHeight, chart_height: chart ? Math.round(chart.height) : 0,
            caption_bottom: caption ? Math.round(caption.bottom) : 0, overflow: main.scrollHeight - main.clientHeight,
            text: document.querySelector('[data-testid="stMainBlockContainer"]').innerText};
}"""


@pytest.mark.slow  # a real browser on the Overview at both wall-screen sizes
def test_the_overview_chart_and_its_caption_fit_the_wall_screen_with_an_adopted_set(first_start_db, tmp_path):
    """The store the app builds at first start adopts the set "Sample 2023-24", so the wall headline
    also says how many of its hotspots stand out beyond chance. That line pushed the monthly chart
    down until one row of panels no longer fit: the fit kept the plot at its smallest height anyway,
    and the page scrolled 31 px at 1280x720 (the chart's caption 15 px below the screen) and 9 px at
    1920x1080. The sample store without a set (the test above) did not show it."""
    import shutil

    from browser import browser, chromium_path, open_presented, running_app, wall_screen_problems

    if not chromium_path():
        pytest.skip("Chromium is not installed")
    db = tmp_path / "wall.duckdb"
    shutil.copy(first_start_db, db)
    with running_app(db) as url, browser() as b:
        for width, height in ((1280, 720), (1920, 1080)):
            page = b.new_page(viewport={"width": width, "height": height})
            open_presented(page, url, "")
            fit = page.evaluate(_OVERVIEW_FIT_JS)
            assert not wall_screen_problems(page), (width, wall_screen_problems(page))
            assert fit["overflow"] <= 0 and fit["caption_bottom"] <= height, (width, fit)
            assert fit["chart_height"] >= 140, (width, fit)  # a row of panels, not a strip
            assert "6 of 19 stand out beyond chance" in fit["text"], fit["text"]  # the wall still says it
            page.close()


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


#: A set name at the store's 80-character limit (service/sets.py) in capitals, as some teams write them.
_LONG_SET = "PORTSMOUTH AND SOUTHAMPTON NIGHT-TIME ECONOMY HOTSPOTS SUMMER 2024 (REVISED JUL)"
_FOUR_CSPS = ("Community Safety Partnership Isle of Wight", "Safe City Partnership Southampton",
              "Safer Portsmouth Partnership", "Safer North Hampshire")


@pytest.mark.slow  # a real browser on the Overview at 1280x720
def test_a_long_set_name_keeps_the_overview_one_wall_screen(first_start_db, tmp_path):
    """A set named at length wrapped the wall headline's set line; with four CSPs chosen (the filter
    line wraps too) the monthly chart, already at its smallest, was pushed off the screen: the page
    scrolled 23 px at 1280x720 and the chart's caption was cut. The name now gets the room its line
    leaves (ui/overview/headline.py): one line, the count beyond chance in full, the full name in the
    line's tooltip."""
    import shutil
    from dataclasses import asdict
    from urllib.parse import urlencode

    from browser import browser, chromium_path, open_presented, running_app, wall_screen_problems

    from hotspot_engine.filters import Filters
    from hotspot_engine.service import sets
    from hotspot_engine.service.analyses import hotspots
    from hotspot_engine.store.database import connect

    if not chromium_path():
        pytest.skip("Chromium is not installed")
    db = tmp_path / "wall.duckdb"
    shutil.copy(first_start_db, db)
    con = connect(db)
    try:
        result = hotspots(con, sets.SAMPLE_WINDOW)  # the headline counts the newest set chosen on 2022-23
        adopted = sets.adopt(con, _LONG_SET, result, sets.SAMPLE_WINDOW, asdict(result.params), sets.SAMPLE_WINDOW,
                             "test")
    finally:
        con.close()
    # The line counts the set's hotspots in the four CSPs, as the headline beside it does.
    chance = adopted.chance_line(short=True, places=Filters(csps=tuple(_FOUR_CSPS)))
    assert chance and "of 19" not in chance, chance
    query = urlencode([("present", "1")] + [("csp", csp) for csp in _FOUR_CSPS] + [("z", "")])
    with running_app(db) as url, browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 720})
        open_presented(page, url, f"?{query}")  # the helper's own "?present=1" lands in the unused z
        fit = page.evaluate(_OVERVIEW_FIT_JS)
        name = page.locator(".hs-set-name")
        assert not wall_screen_problems(page), wall_screen_problems(page)
        assert fit["overflow"] <= 0 and fit["caption_bottom"] <= 720, fit
        assert "Safer North Hampshire" in fit["text"]  # the filters this is about
        assert f"{chance}." in fit["text"], fit["text"]  # never shortened
        assert name.get_attribute("title") == _LONG_SET  # the full name, where the line shortened it
        page.close()
