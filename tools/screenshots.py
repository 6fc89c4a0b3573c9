"""Screenshot every page at 1920x1080, the map's playback and presentation mode into docs/screenshots/.

    python tools/screenshots.py [--db data/hotspot.duckdb] [--out docs/screenshots] [--suffix _policeuk]

``--suffix`` is added to every file name, so the pages on real data.police.uk months (a store made
with `python -m hotspot_engine ingest <the zip> --db x.duckdb`) sit beside those on the sample.

Uses the same helpers as the browser tests (Debian's Chromium, the app on 127.0.0.1), whose pages open
as a UK user's browser (locale en-GB, Europe/London: tests/browser.UK_BROWSER). The date fields draw
dd/mm/yyyy only where Chromium holds its en-GB locale file (Debian: the chromium-l10n package); with
en-US.pak alone they keep mm/dd/yyyy though the page's language and dates are en-GB. PNGs are
quantised to 256 colours when Pillow is present, to keep each file small for the README, by maximum
coverage: median cut merged the legend's small swatches (192 pixels each) into their neighbours (up to 58
of 255 off; the desk map's classes 3 to 5 drew as one red), where maximum coverage keeps them exact and
every pixel within 7 of 255 of the browser's (sample Hotspot map, Overview, Patrols, wall map), and its
files are 10% smaller.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from browser import (  # noqa: E402
    browser,
    open_presented,
    running_app,
    wait_for_app,
    wait_maps_drawn,
    wall_screen_problems,
)

PAGES = {"": "overview", "Hotspot_map": "hotspot_map", "Patrols": "patrols", "Impact": "impact",
         "Data_and_export": "data_export", "Partner_data": "partner_data", "Hotspot_sets": "hotspot_sets"}
#: Every chart on the page has drawn: a Vega-Lite chart its canvas or svg.
CHARTS_DRAWN_JS = """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')]
    .every((chart) => chart.querySelector('canvas, svg'))"""


#: No hover tooltip shows: the map's, or a widget's help (a button's stayed after a click: playback).
TOOLTIPS_GONE_JS = """() => [...document.querySelectorAll('.deck-tooltip, [role="tooltip"], [data-testid="stTooltipContent"]')]
    .every((t) => { const r = t.getBoundingClientRect(); return getComputedStyle(t).display === 'none'
        || getComputedStyle(t).visibility === 'hidden' || r.width === 0 || r.height === 0 || !t.innerText.trim(); })"""


def settle(page, selector: str = "h1") -> None:
    """Wait (on conditions, never a fixed time) until the app has finished running (every run the page
    asked for, no stale element: tests/browser.wait_for_app), every deck.gl map has drawn and every
    chart has drawn. A fixed 1.5-3.5 s wait had captured the Partner data map mid-rerun (an empty grey
    bar on the desk, a faded page on the wall screen: audit 3 item 12)."""
    wait_for_app(page, selector)
    wait_maps_drawn(page)
    page.wait_for_function(CHARTS_DRAWN_JS, timeout=60_000, polling=250)


def _save(page, path: Path, full_page: bool = False) -> None:
    page.mouse.move(5, page.viewport_size["height"] - 5)  # no hover tooltip in the picture
    page.wait_for_function(TOOLTIPS_GONE_JS, timeout=10_000, polling=100)
    page.screenshot(path=str(path), full_page=full_page)
    try:
        from PIL import Image

        with Image.open(path) as image:
            image.convert("RGB").quantize(colors=256, method=Image.Quantize.MAXCOVERAGE).save(path, optimize=True)
    except ImportError:
        pass
    print(f"wrote {path} ({path.stat().st_size / 1e3:.0f} KB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=str(ROOT / "data" / "hotspot.duckdb"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--suffix", default="", help="added to every file name, e.g. _policeuk")
    parser.add_argument("--presentation", action="store_true",
                        help="instead: every page in presentation mode at 1920x1080 and 1280x720 (wall screens)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with running_app(Path(args.db)) as url, browser() as b:
        if args.presentation:
            for width, height in WALL_SCREENS:
                page = b.new_page(viewport={"width": width, "height": height})
                shoot_presentation(page, url, out, f"_{width}x{height}{args.suffix}")
                page.close()
            return
        page = b.new_page(viewport={"width": 1920, "height": 1080})
        shoot(page, url, out, args.suffix)


#: The wall screens a partnership meeting projects on (issue 27).
WALL_SCREENS = ((1920, 1080), (1280, 720))


def shoot_presentation(page, url: str, out: Path, suffix: str) -> None:
    """Every page in presentation mode, the screen's whole first view (no scrolling); prints what keeps
    a page from being one screen, if anything does (tests/browser.wall_screen_problems)."""
    for path, name in PAGES.items():
        open_presented(page, url, path)
        settle(page, "canvas" if path == "Hotspot_map" else "h1")
        for problem in wall_screen_problems(page):
            print(f"  {name} at {suffix}: {problem}")
        _save(page, out / f"presentation_{name}{suffix}.png")


def shoot(page, url: str, out: Path, suffix: str = "") -> None:
    """Every page, the playback and presentation mode of the store the app at ``url`` serves."""
    def save(name: str) -> None:
        _save(page, out / f"{name}{suffix}.png")

    for path, name in PAGES.items():
        page.goto(f"{url}/{path}")
        settle(page, "canvas" if path == "Hotspot_map" else "h1")
        save(name)

    # Month-by-month playback, a few months in (the last two years of the sample; any range of real data).
    page.goto(f"{url}/Hotspot_map" + ("" if suffix else "?from=2022-04&to=2024-03"))
    wait_for_app(page, "canvas")
    page.get_by_role("combobox", name="Cells show").click()
    page.get_by_role("option", name="Month by month (playback)").click()
    wait_for_app(page, "canvas")
    first = page.get_by_test_id("playback-month").inner_text()
    page.get_by_role("button", name="Play").click()
    # A few months in (one a tick), then paused, so the picture is one settled month.
    page.wait_for_function("(first) => { const m = document.querySelector('[data-testid=\"playback-month\"]');"
                           " return m && m.innerText.trim() !== first && m.innerText.trim() > first; }",
                           arg=first.strip(), timeout=60_000, polling=250)
    for _ in range(2):
        shown = page.get_by_test_id("playback-month").inner_text().strip()
        page.wait_for_function("(shown) => document.querySelector('[data-testid=\"playback-month\"]').innerText.trim()"
                               " !== shown", arg=shown, timeout=30_000, polling=250)
    page.get_by_role("button", name="Pause").click()
    settle(page, "canvas")
    save("hotspot_map_playback")

    # Presentation mode: the wall screen, whole force and one CSP.
    page.goto(f"{url}/Hotspot_map?present=1")
    settle(page, "canvas")
    save("presentation_map")
    page.goto(f"{url}/Hotspot_map?present=1&csp=Safe+City+Partnership+Southampton")
    settle(page, "canvas")
    save("presentation_map_southampton")
    page.goto(f"{url}/?present=1")
    settle(page)
    save("presentation_overview")


if __name__ == "__main__":
    main()
