"""A new user's first start, in a real browser: a fresh store opens on the demo sample, a real
data.police.uk month is uploaded through the Data & export page (replacing the sample, the
default), and every page then shows that month with no NaN/None/0.000000 text, no exception and
no request off the machine (issue 19)."""
from __future__ import annotations

import re

from browser import PAGE_TITLES, browser, browser_test_marks, off_machine, running_app, wait_for_app
from playwright.sync_api import expect

pytestmark = browser_test_marks()
PAGES = PAGE_TITLES
BAD_TEXT = re.compile(r"\bNaN\b|\bnan\b|\bNone\b|\b0\.000000\b|\bundefined\b|Sources: \.")


def test_upload_a_real_month_into_a_fresh_store_and_walk_every_page(real_month_csv, tmp_path):
    with running_app(tmp_path / "fresh.duckdb") as url, browser() as b:
        page = b.new_page(viewport={"width": 1600, "height": 1000})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))

        # First start: the demo says it is one, and how to leave it.
        page.goto(url)
        wait_for_app(page, "h1")
        expect(page.get_by_text("SYNTHETIC SAMPLE DATA").first).to_be_visible(timeout=60_000)
        expect(page.get_by_text("This is a demo").first).to_be_visible()

        # Upload the real month; the store holds the sample, so the page asks (replace by default).
        page.goto(f"{url}/Data_and_export")
        wait_for_app(page, "h1")
        expect(page.get_by_text("The store holds the built-in synthetic sample (a demo)")).to_be_visible(timeout=60_000)
        expect(page.get_by_role("radio", name="Replace the sample with my data")).to_be_checked()
        page.locator("[data-testid='stFileUploader']").filter(has_text="data.police.uk street CSVs").locator(
            "input[type='file']").set_input_files(str(real_month_csv))
        expect(page.get_by_role("button", name=f"Remove {real_month_csv.name}")).to_be_visible(timeout=60_000)
        page.get_by_role("button", name="Load into the store").click()
        expect(page.get_by_text("Removed the built-in synthetic sample").first).to_be_visible(timeout=180_000)
        expect(page.get_by_text(re.compile(r"\[police-uk\]: read \d+, added \d+")).first).to_be_visible()
        wait_for_app(page, "h1")
        expect(page.get_by_text("SYNTHETIC SAMPLE DATA")).to_have_count(0)

        # Every page on the real month alone.
        for path, title in PAGES.items():
            page.goto(f"{url}/{path}")
            wait_for_app(page, "canvas" if path == "Hotspot_map" else "h1")
            expect(page.locator("h1").first).to_have_text(title)
            filters = page.get_by_text("Filters:").first.inner_text()
            assert "2024-03 to 2024-03" in filters and "2 police.uk categories" in filters, filters
            assert page.locator("[data-testid='stException']").count() == 0, f"exception on {title}"
            main = page.locator("[data-testid='stMain']").inner_text()
            assert not BAD_TEXT.findall(main), (title, [main[max(0, m.start() - 150):m.end() + 60] for m in BAD_TEXT.finditer(main)][:3])
            assert "SYNTHETIC" not in main
        assert not off_machine(requests), off_machine(requests)[:5]
        assert not [e for e in errors if "WebGL" not in e], errors[:3]
