"""The date field that applies a typed date (ui/date_field.py, issue 27 item 7): the server's side.
What the browser sends is sent here through AppTest (tests/date_typing.py); the typing itself, key by
key in Chromium, is tests/test_date_field_browser.py."""
from __future__ import annotations

from datetime import date, datetime

from date_typing import has_field, type_date

from ui.date_field import clamp, typed_date

LOW, HIGH = date(2024, 1, 1), date(2024, 3, 31)


def test_a_typed_date_is_taken_only_when_it_is_a_whole_date_in_range():
    assert typed_date({"date": "2024-02-29", "n": "1"}, LOW, HIGH) == date(2024, 2, 29)
    assert typed_date({"date": "2024-04-01"}, LOW, HIGH) is None  # after max
    assert typed_date({"date": "2023-12-31"}, LOW, HIGH) is None  # before min
    assert typed_date({"date": "2023-02-29"}) is None  # no such day
    assert typed_date({"date": "0202-03-01"}) is None  # a year still being typed, even with no range
    assert typed_date({"date": "2024-3-1"}) is None
    assert typed_date({"date": 20240301}) is None
    assert typed_date(None) is None and typed_date("2024-03-01") is None
    assert typed_date({"date": "1999-12-31"}) == date(1999, 12, 31)  # no range: any date


def test_clamp_keeps_a_date_inside_the_range():
    assert clamp(date(2023, 5, 1), LOW, HIGH) == LOW
    assert clamp(date(2025, 5, 1), LOW, HIGH) == HIGH
    assert clamp(date(2024, 2, 1), LOW, HIGH) == date(2024, 2, 1)
    assert clamp(date(2025, 5, 1), None, None) == date(2025, 5, 1)


def _app():
    from datetime import date

    import streamlit as st

    from ui.date_field import date_field

    day = date_field("Day", "d_day", default=date(2024, 2, 1), min_value=date(2024, 1, 1),
                     max_value=date(2024, 3, 31), help="A day in the first quarter.")
    st.markdown(f"day={day}")
    with st.form("f"):
        start = date_field("From", "d_from", default=date(2024, 1, 8))
        st.form_submit_button("Add")
    st.markdown(f"from={start}")


def _shown(at) -> list[str]:
    return [m.value for m in at.markdown]


def test_a_typed_date_reaches_the_page_and_a_bad_one_leaves_it_alone():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_app).run()
    assert not at.exception
    assert has_field(at, "d_day") and at.session_state["d_day"] == date(2024, 2, 1)
    type_date(at, "d_day", "2024-03-15")
    assert "day=2024-03-15" in _shown(at) and at.session_state["d_day"] == date(2024, 3, 15)
    type_date(at, "d_day", "2024-04-02")  # out of range: the browser says so; the server keeps the last
    assert "day=2024-03-15" in _shown(at)
    type_date(at, "d_day", "2024-02-30")
    assert "day=2024-03-15" in _shown(at)
    type_date(at, "d_day", "2024-01-01")  # the smallest allowed
    assert "day=2024-01-01" in _shown(at)
    type_date(at, "d_from", "2024-02-05")  # in a form the browser holds it until "Add", then sends it so
    assert "from=2024-02-05" in _shown(at) and "day=2024-01-01" in _shown(at)


def test_the_date_in_session_state_is_kept_in_range_and_shown():
    """A link or a stored choice may hold a date the page no longer offers, or a Timestamp."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_app)
    at.session_state["d_day"] = date(2030, 1, 1)
    at.session_state["d_from"] = datetime(2024, 5, 6, 13, 0)
    at.run()
    assert "day=2024-03-31" in _shown(at) and "from=2024-05-06" in _shown(at)


def test_no_page_uses_the_components_v1_api():
    """Streamlit removes ``st.components.v1`` after 2026-06-01 (its server log said so, issue 27 item 7):
    the app's own components are v2 (ui/viewport.py, ui/date_field.py) and embedded HTML is st.iframe."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    sources = [root / "app.py", *(root / "pages").glob("*.py"), *(root / "ui").rglob("*.py")]
    assert len(sources) > 10
    code = {p.name: [line.split("#")[0] for line in p.read_text(encoding="utf-8").splitlines()] for p in sources}
    used = [name for name, lines in code.items() if any("components.v1" in line for line in lines)]
    assert not used, used
