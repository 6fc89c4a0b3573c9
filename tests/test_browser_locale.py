"""The browser of the screenshots and browser tests is a UK user's (audit 3 item 9): headless Chromium
runs en-US, so the Impact date field read mm/dd/yyyy in every screenshot."""
from __future__ import annotations

import pytest

from tests.browser import browser, chromium_path

pytestmark = [pytest.mark.slow, pytest.mark.skipif(chromium_path() is None, reason="no Chromium")]


def test_pages_and_contexts_open_in_en_gb_on_london_time(tmp_path):
    probe = """() => [navigator.language, Intl.DateTimeFormat().resolvedOptions().timeZone,
        new Date(2024, 2, 1).toLocaleDateString()]"""
    with browser() as b:
        page = b.new_page(viewport={"width": 400, "height": 200})
        page.set_content('<input type="date" value="2024-03-01" style="font-size:32px">')
        assert page.evaluate(probe) == ["en-GB", "Europe/London", "01/03/2024"]
        page.screenshot(path=str(tmp_path / "date.png"))
        context = b.new_context()
        assert context.new_page().evaluate(probe) == ["en-GB", "Europe/London", "01/03/2024"]
        context.close()
        # A test that asks for another locale still gets it.
        other = b.new_page(locale="en-US")
        assert other.evaluate(probe)[2] == "3/1/2024"
