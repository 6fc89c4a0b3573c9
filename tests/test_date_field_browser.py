"""Issue 27 item 7 in a real browser: a date typed key by key applies as soon as it is whole, with
no Enter and no leaving the field (Streamlit's own date field waited for one of those). Debian's
Chromium through Playwright, the app on 127.0.0.1 on a copy of the sample store.

Headless Chromium here lays the native date field out as mm/dd/yyyy (its interface language is
en-US; a browser set to English (UK) shows dd/mm/yyyy), so the keys are typed in that order."""
from __future__ import annotations

import shutil

import pytest
from browser import browser, browser_test_marks, off_machine, running_app, wait_for_app

pytestmark = browser_test_marks()

#: Where the keyboard is: the date input inside the field's shadow root (the page's focus is its host).
_FOCUSED_TYPE = """() => { const a = document.activeElement;
  const inner = a && a.shadowRoot ? a.shadowRoot.activeElement : a; return inner ? inner.type || inner.tagName : null; }"""


#: The keys below are typed month first: an en-US field's order. tests/browser.py opens pages as en-GB
#: (dd/mm/yyyy where Chromium holds that locale's file), so these pages ask for en-US.
TYPING_LOCALE = {"locale": "en-US"}


def _type_keys(page, label: str, keys: str) -> None:
    """Focus the date field ``label`` (its first segment, the month) and type ``keys`` one by one."""
    field = page.get_by_label(label, exact=True)
    field.wait_for(timeout=120_000)
    field.focus()
    # at a person's pace (Playwright's key delay, not a sleep): Chromium joins two digits typed close together
    page.keyboard.type(keys, delay=120)


@pytest.fixture(scope="module")
def app_url(sample_db, tmp_path_factory):
    db = tmp_path_factory.mktemp("dates") / "dates.duckdb"
    shutil.copy(sample_db, db)
    with running_app(db) as url:
        yield url
    # Issue 27 item 7: the server log warned that st.components.v1.html goes after 2026-06-01.
    log = db.with_suffix(f".{url.rsplit(':', 1)[1]}.log").read_text(errors="replace")
    assert "components.v1" not in log and "Traceback" not in log, log[-2000:]


def test_a_date_typed_key_by_key_applies_without_enter_or_leaving_the_field(app_url):
    with browser() as b:
        page = b.new_page(viewport={"width": 1600, "height": 1000}, **TYPING_LOCALE)
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(f"{app_url}/Impact")
        wait_for_app(page)
        before = page.get_by_label("Intervention date", exact=True)
        before.wait_for(timeout=120_000)
        assert before.input_value() != "2023-09-18"
        _type_keys(page, "Intervention date", "09182023")
        # The page reran on the date: its script wrote it into the URL (ui/common.PAGE_URL), the
        # models are refitted (a minute or more on a busy machine, so not waited for here).
        page.wait_for_function("() => location.search.includes('intervention=2023-09-18')", timeout=120_000)
        assert page.evaluate(_FOCUSED_TYPE) == "date"  # never left the field
        assert page.get_by_label("Intervention date", exact=True).input_value() == "2023-09-18"

        # Out of range is said at once and not applied: the weeks of action take the report's period.
        page.goto(f"{app_url}/Patrols")
        wait_for_app(page)
        _type_keys(page, "Week starting (Monday)", "06032024")
        page.wait_for_function("() => location.search.includes('plan_week=2024-06-03')", timeout=120_000)
        assert page.evaluate(_FOCUSED_TYPE) == "date"
        page.get_by_text("Weeks of action (e.g. Op Sceptre)").click()
        _type_keys(page, "From", "01011990")
        message = page.get_by_text("Choose a date from", exact=False).first
        message.wait_for(timeout=30_000)
        assert "Choose a date from" in message.inner_text()
        assert page.get_by_label("From", exact=True).get_attribute("aria-invalid") == "true"
        assert not off_machine(requests), off_machine(requests)[:5]
