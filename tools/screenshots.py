"""Screenshot every page at 1920x1080 (and presentation mode) into docs/screenshots/.

    python tools/screenshots.py [--db data/hotspot.duckdb]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from browser import browser, running_app, wait_for_app  # noqa: E402

PAGES = {"": "overview", "Hotspot_map": "hotspot_map", "Patrols": "patrols", "Impact": "impact",
         "Data_and_export": "data_export"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=str(ROOT / "data" / "hotspot.duckdb"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with running_app(Path(args.db)) as url, browser() as b:
        page = b.new_page(viewport={"width": 1920, "height": 1080})
        for path, name in PAGES.items():
            page.goto(f"{url}/{path}")
            wait_for_app(page, "[data-testid='stMetric'], canvas, [data-testid='stDataFrame']")
            if path == "Hotspot_map":
                page.wait_for_selector("canvas", timeout=60_000)
                page.wait_for_timeout(3000)
            page.screenshot(path=str(out / f"{name}.png"))
            print("wrote", out / f"{name}.png")
        page.goto(f"{url}/Hotspot_map?present=1")
        wait_for_app(page)
        page.wait_for_timeout(3000)
        page.screenshot(path=str(out / "presentation_map.png"))
        page.goto(f"{url}/?present=1")
        wait_for_app(page)
        page.screenshot(path=str(out / "presentation_overview.png"))
        print("wrote presentation screenshots")


if __name__ == "__main__":
    main()
