"""Real browser: the app on 127.0.0.1 in Debian's headless Chromium (Playwright, never a downloaded
browser). Every page loads, the map canvas is drawn, and no request leaves the machine."""
from __future__ import annotations

import re
import shutil

import pytest
from browser import PAGE_TITLES, browser, browser_test_marks, off_machine, running_app, wait_canvas_drawn, wait_for_app
from playwright.sync_api import expect

pytestmark = browser_test_marks()
PAGES = PAGE_TITLES


@pytest.fixture(scope="module")
def app_url(sample_db, tmp_path_factory):
    db = tmp_path_factory.mktemp("browser") / "browser.duckdb"
    shutil.copy(sample_db, db)
    with running_app(db) as url:
        yield url


def test_every_page_loads_offline_and_the_map_draws(app_url, tmp_path):
    with browser() as b:
        page = b.new_page(viewport={"width": 1600, "height": 1000})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        for path, title in PAGES.items():
            page.goto(f"{app_url}/{path}")
            wait_for_app(page, "canvas" if path == "Hotspot_map" else "h1")
            assert page.locator("h1").first.inner_text().strip() == title
            assert page.locator("[data-testid='stException']").count() == 0, f"exception on {title}"
            if path == "Hotspot_map":
                wait_canvas_drawn(page)
                page.screenshot(path=str(tmp_path / "map.png"))
        assert not off_machine(requests), off_machine(requests)[:5]
        assert not [e for e in errors if "WebGL" not in e], errors[:3]


def _month_shown(page) -> str:
    """The playback month, read from the slider labelled "Month" in the page's main area (not the
    sidebar's sliders, which are still the only ones while a busy server draws the page)."""
    slider = page.locator("[data-testid='stMain'] [data-testid='stSlider']").filter(
        has=page.get_by_text("Month", exact=True))
    slider.first.wait_for(timeout=60_000)
    return slider.first.locator("[data-testid='stSliderThumbValue']").first.inner_text().strip()


_MONTH_AT_LEAST_JS = """(least) => {
    const sliders = [...document.querySelectorAll("[data-testid='stMain'] [data-testid='stSlider']")];
    const month = sliders.find(s => [...s.querySelectorAll('*')].some(e => e.childElementCount === 0
                                                                       && e.textContent.trim() === 'Month'));
    const thumb = month && month.querySelector("[data-testid='stSliderThumbValue']");
    return !!thumb && thumb.textContent.trim() > least;
}"""


def test_filter_playback_presentation_and_a_shared_url(app_url):
    """One analyst's path: pick a CSP in the sidebar (the URL follows), copy the URL into a fresh
    browser session (same page, same filters), play the months, switch on LSOA outlines, present
    the map on the wall screen and come back out. Nothing is fetched from off the machine."""
    with browser() as b:
        context = b.new_context(viewport={"width": 1600, "height": 1000})
        page = context.new_page()
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(f"{app_url}/Hotspot_map")
        wait_for_app(page, "canvas")

        # A filter switch: the CSP multiselect in the sidebar, by keyboard-free clicks on its options.
        sidebar = page.locator("[data-testid='stSidebar']")
        sidebar.get_by_role("combobox").first.click()
        page.get_by_role("option", name="Gosport CSP").click()
        page.keyboard.press("Escape")
        wait_for_app(page, "canvas")
        # The rerun with the CSP may reach the browser after the page looks idle: wait for it.
        expect(page.get_by_text("Filters:").first).to_contain_text("Gosport CSP", timeout=60_000)
        expect(page).to_have_url(re.compile(r"/Hotspot_map\?.*csp=Gosport\+CSP"), timeout=60_000)
        wait_canvas_drawn(page)

        # The copied URL in a new session opens the same page with the same filters.
        shared = page.url
        other = b.new_context(viewport={"width": 1600, "height": 1000}).new_page()
        other.on("request", lambda r: requests.append(r.url))
        other.goto(shared)
        wait_for_app(other, "canvas")
        assert other.locator("h1").first.inner_text().strip() == "Hotspot map"
        assert "Gosport CSP" in other.get_by_text("Filters:").first.inner_text()
        assert "Gosport CSP" in other.locator("[data-testid='stSidebar']").inner_text()
        # The same view as a wall-screen link: presentation mode from the URL.
        other.goto(shared + "&present=1")
        wait_for_app(other, "canvas")
        expect(other.get_by_role("button", name="Exit presentation mode")).to_be_visible(timeout=60_000)
        expect(other.locator("[data-testid='stSidebar']")).to_be_hidden(timeout=60_000)
        other.close()

        # Playback: the month advances on its own after Play.
        page.get_by_role("combobox", name="Cells show").click()
        page.get_by_role("option", name="Month by month (playback)").click()
        wait_for_app(page, "canvas")
        first = _month_shown(page)
        page.get_by_role("button", name="Play").click()
        # A month every 1.5 s: wait (up to 90 s on a busy machine) until it has advanced several months.
        page.wait_for_function(_MONTH_AT_LEAST_JS, arg=max(first, "2019-07"), timeout=90_000, polling=250)
        later = _month_shown(page)
        assert later > first and later >= "2019-07", (first, later)  # advanced by several months, on its own
        page.get_by_role("button", name="Pause").click()
        wait_for_app(page, "canvas")

        # LSOA outlines come from the app's own static folder.
        with page.expect_request(lambda r: r.url.endswith("/app/static/lsoa_outlines.geojson"), timeout=60_000):
            page.get_by_text("LSOA outlines").click()

        # Presentation mode: sidebar gone, headline beside the map, a visible way back.
        page.get_by_text("Presentation mode").click()
        wait_for_app(page, "canvas")
        expect(page.locator("[data-testid='stSidebar']")).to_be_hidden(timeout=60_000)
        expect(page.locator("[data-testid='stMetricLabel']", has_text="Hotspots").first
               ).to_be_visible(timeout=60_000)
        exit_button = page.get_by_role("button", name="Exit presentation mode")
        expect(exit_button).to_be_visible(timeout=60_000)
        exit_button.click()
        wait_for_app(page, "canvas")
        # The sidebar comes back once the rerun without presentation mode has reached the browser.
        expect(page.locator("[data-testid='stSidebar']")).to_be_visible(timeout=60_000)
        expect(page).not_to_have_url(re.compile(r"present="), timeout=60_000)
        assert not off_machine(requests), off_machine(requests)[:5]


def test_configured_basemap_tiles_draw_under_the_cells(sample_db, tmp_path):
    """The optional internet basemap (settings.toml [map] basemap_url, an XYZ template) reaches the
    browser's map. Served here by the app itself (its favicon as every tile), so the test stays
    offline and can see the tile requests."""
    db = tmp_path / "basemap.duckdb"
    shutil.copy(sample_db, db)
    port = __import__("browser").free_port()
    settings = tmp_path / "settings.toml"
    settings.write_text(f'[map]\nbasemap_url = "http://127.0.0.1:{port}/app/static/favicon.png?tile={{z}}/{{x}}/{{y}}"\n'
                        'basemap_attribution = "test tiles"\n', encoding="utf-8")
    with running_app(db, port=port, extra_env={"HOTSPOT_SETTINGS": str(settings)}) as url, browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 900})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        with page.expect_request(lambda r: "favicon.png?tile=" in r.url, timeout=90_000):
            page.goto(f"{url}/Hotspot_map?csp=Gosport+CSP")
        wait_for_app(page, "canvas")
        assert "test tiles" in page.get_by_text("Basemap:").first.inner_text()
        assert not off_machine(requests), off_machine(requests)[:5]


def test_partner_page_draws_offline(app_url, tmp_path):
    """The Partner data page: the map with shaded LSOAs and partner points and the funnel plot draw,
    and nothing is fetched from outside the machine."""
    with browser() as b:
        page = b.new_page(viewport={"width": 1600, "height": 1000})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(f"{app_url}/Partner_data")
        wait_for_app(page, "canvas")
        assert page.locator("h1").first.inner_text().strip() == "Partner data"
        assert page.locator("[data-testid='stException']").count() == 0
        wait_canvas_drawn(page)
        page.wait_for_selector("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg")
        page.screenshot(path=str(tmp_path / "partners.png"))
        assert not off_machine(requests), off_machine(requests)[:5]
