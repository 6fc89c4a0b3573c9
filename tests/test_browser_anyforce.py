"""Another force's first start, in a real browser: a fresh store opens on the HIPS demo, one real
Cleveland Police month is uploaded (replacing the sample), and every page then shows Cleveland:
its districts in the filters and the hotspot names, no Hampshire place, no exception, no request off
the machine (issue 29). Data: tests/data/realdata/police-uk-cleveland-2021.zip (OGL v3.0)."""
from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

from browser import PAGE_TITLES, browser, browser_test_marks, off_machine, running_app, wait_for_app, wait_maps_drawn
from playwright.sync_api import expect

pytestmark = browser_test_marks()
ZIP = Path(__file__).parent / "data" / "realdata" / "police-uk-cleveland-2021.zip"
PAGES = {**PAGE_TITLES, "Partner_data": "Partner data"}
BAD_TEXT = re.compile(r"\bNaN\b|\bnan\b|\bNone\b|\b0\.000000\b|\bundefined\b")


def test_upload_a_cleveland_month_and_walk_every_page(tmp_path):
    with zipfile.ZipFile(ZIP) as z:
        z.extract("2021-12/2021-12-cleveland-street.csv", tmp_path)
    month = tmp_path / "2021-12" / "2021-12-cleveland-street.csv"
    with running_app(tmp_path / "fresh.duckdb") as url, browser() as b:
        page = b.new_page(viewport={"width": 1600, "height": 1000})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(f"{url}/Data_and_export")
        wait_for_app(page, "h1")
        expect(page.get_by_role("radio", name="Replace the sample with my data")).to_be_checked(timeout=60_000)
        page.locator("[data-testid='stFileUploader']").filter(has_text="data.police.uk street CSVs").locator(
            "input[type='file']").set_input_files(str(month))
        expect(page.get_by_role("button", name=f"Remove {month.name}")).to_be_visible(timeout=60_000)
        page.get_by_role("button", name="Load into the store").click()
        expect(page.get_by_text(re.compile(r"\[police-uk\]: read \d+, added \d+")).first).to_be_visible(timeout=180_000)
        for path, title in PAGES.items():
            page.goto(f"{url}/{path}")
            wait_for_app(page, "canvas" if path == "Hotspot_map" else "h1")
            expect(page.locator("h1").first).to_have_text(title)
            assert page.locator("[data-testid='stException']").count() == 0, f"exception on {title}"
            main = page.locator("[data-testid='stMain']").inner_text()
            assert not BAD_TEXT.findall(main), title
            assert "Southampton" not in main and "Portsmouth" not in main, title
            if path == "Hotspot_map":
                wait_maps_drawn(page)  # the picture is of the drawn map, not a fixed wait
                page.screenshot(path=str(Path(os.environ.get("HOTSPOT_SHOTS", tmp_path)) / "browser_map_cleveland.png"))
        page.goto(url)
        wait_for_app(page, "h1")
        csp = page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']").first
        expect(csp).to_be_visible(timeout=60_000)
        csp.click()
        expect(page.locator("[role='option']").first).to_be_visible(timeout=30_000)
        options = page.locator("[role='option']").all_inner_texts()
        assert set(options) - {"Select all"} == {"Hartlepool", "Middlesbrough", "Redcar and Cleveland", "Stockton-on-Tees"}, options
        assert not off_machine(requests), off_machine(requests)[:5]
