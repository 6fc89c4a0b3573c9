"""Real browser: the app on 127.0.0.1 in Debian's headless Chromium (Playwright, never a downloaded
browser). Every page loads, the map canvas is drawn, and no request leaves the machine."""
from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

from browser import browser, chromium_path, running_app, wait_for_app

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(chromium_path() is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
]
PAGES = {"": "Serious violence overview", "Hotspot_map": "Hotspot map", "Patrols": "Patrols",
         "Impact": "Impact of hotspot patrols", "Data_and_export": "Data & export"}
LOCAL = {"127.0.0.1", "localhost"}


@pytest.fixture(scope="module")
def app_url(sample_db, tmp_path_factory):
    db = tmp_path_factory.mktemp("browser") / "browser.duckdb"
    shutil.copy(sample_db, db)
    with running_app(db) as url:
        yield url


def _outside(requests: list[str]) -> list[str]:
    return [u for u in requests if urlparse(u).scheme not in ("data", "blob", "about")
            and urlparse(u).hostname not in LOCAL]


def _canvas_has_pixels(page) -> bool:
    """True when the deck.gl canvas holds non-background pixels (drawn cells and outlines)."""
    return page.evaluate(
        """() => {
            const canvases = [...document.querySelectorAll('canvas')];
            for (const c of canvases) {
                if (c.width < 200 || c.height < 200) continue;
                const probe = document.createElement('canvas');
                probe.width = 200; probe.height = 200;
                const ctx = probe.getContext('2d');
                ctx.drawImage(c, 0, 0, 200, 200);
                const data = ctx.getImageData(0, 0, 200, 200).data;
                const seen = new Set();
                for (let i = 0; i < data.length; i += 4) seen.add(data[i] + ',' + data[i+1] + ',' + data[i+2]);
                if (seen.size > 8) return true;
            }
            return false;
        }""")


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
                page.wait_for_timeout(2500)
                assert _canvas_has_pixels(page), "the map canvas is blank"
                page.screenshot(path=str(tmp_path / "map.png"))
        assert not _outside(requests), _outside(requests)[:5]
        assert not [e for e in errors if "WebGL" not in e], errors[:3]


def test_shared_link_and_presentation_mode(app_url):
    with browser() as b:
        page = b.new_page(viewport={"width": 1920, "height": 1080})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(f"{app_url}/Hotspot_map?csp=Gosport+CSP&present=1")
        wait_for_app(page, "canvas")
        page.wait_for_timeout(2000)
        assert "Gosport CSP" in page.get_by_text("Filters:").first.inner_text()
        assert not page.locator("[data-testid='stSidebar']").is_visible()
        assert _canvas_has_pixels(page)
        assert not _outside(requests), _outside(requests)[:5]
