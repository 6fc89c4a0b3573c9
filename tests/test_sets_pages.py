"""Pages on an adopted hotspot set (issue 26): the Patrols plan does not depend on how the page was
reached, and a set adopted on the map carries its ids, numbers and names to Patrols, Impact, Data &
export and the briefing."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
PATROLS = "pages/2_Patrols.py"

#: Each AppTest runs whole pages on the sample store (seconds each).
pytestmark = pytest.mark.slow


def _app(query: dict, page: str | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _frame(at, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_the_plan_is_the_same_whichever_way_the_page_was_reached(app_db):
    wide = _app({"from": "2023-04", "to": "2024-03"}, PATROLS)
    wide_plan = _frame(wide, "reason")
    wide.multiselect(key="f_district").set_value(["Southampton"]).run()
    assert not wide.exception, [e.value for e in wide.exception]
    after_change = _frame(wide, "reason")
    direct = _app({"from": "2023-04", "to": "2024-03", "district": "Southampton"}, PATROLS)
    direct_plan = _frame(direct, "reason")
    assert len(after_change) < len(wide_plan)  # the change of area reached the plan
    pd.testing.assert_frame_equal(after_change.reset_index(drop=True), direct_plan.reset_index(drop=True))
