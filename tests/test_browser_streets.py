"""Real browser: the Patrols page's hotspot map with a loaded street layer draws in Debian's
headless Chromium and makes no request beyond 127.0.0.1 (the street lines travel inline)."""
from __future__ import annotations

import re
import shutil
from urllib.parse import urlparse

from browser import browser, browser_test_marks, off_machine, running_app, wait_canvas_drawn, wait_for_app
from playwright.sync_api import TimeoutError as PlaywrightTimeout

pytestmark = browser_test_marks()



def test_patrol_map_with_a_street_layer_stays_on_this_machine(sample_db, tmp_path):
    from pathlib import Path

    from hotspot_engine import service
    from hotspot_engine.__main__ import main
    from hotspot_engine.filters import Filters
    from hotspot_engine.render.briefing import _centre
    from hotspot_engine.store.database import connect
    from tests.test_patrol_briefing import _street_file

    db = tmp_path / "streets.duckdb"
    shutil.copy(sample_db, db)
    con = connect(db, read_only=True)
    try:
        report = service.patrol_report(con, Filters(date_from="2023-04", date_to="2024-03", sv_only=True))
    finally:
        con.close()
    first = report.dosage.sort_values("hotspot_rank")["hotspot_id"].iloc[0]
    roads = _street_file(Path(tmp_path / "roads.geojson"), *_centre(report, first))
    assert main(["ingest", str(roads), "--db", str(db), "--format", "streets"]) == 0

    with running_app(db) as url, browser() as b:
        page = b.new_page(viewport={"width": 1500, "height": 1000})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(f"{url}/Patrols?from=2023-04&to=2024-03")
        wait_for_app(page, "h1")
        for attempt in range(3):  # a rerun still finishing can close the list as it opens: open it again
            page.get_by_role("combobox", name="Hotspot", exact=True).click()
            try:
                page.get_by_role("option", name=re.compile(r"^1\. ")).click(timeout=15_000)  # rank 1, close up
                break
            except PlaywrightTimeout:
                if attempt == 2:
                    raise
                page.keyboard.press("Escape")
                wait_for_app(page, "h1")
        wait_for_app(page, "canvas")
        caption = page.get_by_text("Hotspot outline over the loaded street layer")
        caption.wait_for(timeout=60_000)
        caption.scroll_into_view_if_needed()
        wait_canvas_drawn(page)
        page.screenshot(path=str(tmp_path / "patrol-streets.png"))
        outside = off_machine(requests)
        assert not outside, outside[:5]
        assert any(urlparse(u).hostname == "127.0.0.1" for u in requests)
