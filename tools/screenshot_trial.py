"""Screenshot the randomised trial on the pages (issue 28) into docs/screenshots/: the Impact page's
trial section and the Patrols page's schedule maker, on a store holding the sample's trial.

    python -m hotspot_engine sample-trial --db trial.duckdb   # after ingesting the sample into it
    python tools/screenshot_trial.py --db trial.duckdb
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tools"))

from browser import browser, running_app, wait_for_app  # noqa: E402
from screenshots import _save, settle  # noqa: E402


def scroll_to(page, text: str) -> None:
    """Bring the heading with ``text`` to the top of the window and wait until it is there (a smooth
    scroll takes a moment): a condition, not a fixed wait."""
    heading = page.get_by_text(text).first
    heading.evaluate("e => e.scrollIntoView({block: 'start'})")
    heading.evaluate("""e => new Promise((done) => {
        const check = () => { const top = e.getBoundingClientRect().top;
            if (top >= -2 && top < window.innerHeight / 3) done(); else requestAnimationFrame(check); };
        check(); })""")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    with running_app(Path(args.db)) as url, browser() as b:
        page = b.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(f"{url}/Impact")
        wait_for_app(page, "h1", timeout_ms=240_000)
        page.wait_for_selector("text=Randomised patrol days (trial)", timeout=300_000)
        # The section's heading is drawn before its evaluation: wait for the figures themselves.
        page.wait_for_selector("text=Rate ratio, patrol vs control days", timeout=300_000)
        wait_for_app(page, "h1", timeout_ms=240_000)
        settle(page)
        scroll_to(page, "Randomised patrol days (trial)")
        _save(page, out / "impact_trial.png")
        page.goto(f"{url}/Patrols")
        wait_for_app(page, "h1", timeout_ms=240_000)
        page.get_by_text("Randomised trial schedule (data manager)").click()
        page.get_by_role("button", name="Make schedule and power").click()
        settle(page)
        scroll_to(page, "Randomised trial schedule (data manager)")
        _save(page, out / "patrols_trial_schedule.png")


if __name__ == "__main__":
    main()
