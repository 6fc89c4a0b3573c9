"""ui.common.draw_chart: charts with named data drawn without per-run schema validation in the app,
validated in the tests, and drawn as st.altair_chart would draw them."""
from __future__ import annotations

import json

import altair as alt
import pandas as pd
import pytest
from altair.utils.schemapi import SchemaValidationError
from streamlit.testing.v1 import AppTest

import ui.common as common

FRAME = pd.DataFrame({"hour": [0, 1, 2], "day": ["Mon", "Tue", "Wed"], "count": [3.0, 1.0, 2.0]})


def _heatmap(data) -> alt.Chart:
    return alt.Chart(data, title="Incidents").mark_rect().encode(
        x=alt.X("hour:O"), y=alt.Y("day:N"), color=alt.Color("count:Q")).properties(height=200) \
        .configure_axis(labelFontSize=13)


def test_the_test_suite_validates_every_chart():
    assert common.VALIDATE_CHARTS, "tests/conftest.py sets HOTSPOT_VALIDATE_CHARTS=1 before the app is imported"


def test_an_invalid_chart_fails_when_validation_is_on(monkeypatch):
    monkeypatch.setattr(common, "VALIDATE_CHARTS", True)
    # Channels are not checked when built: a wrong type only shows when the whole spec is validated.
    broken = alt.Chart(alt.Data(name="grid")).mark_rect().encode(x=alt.X(field="hour", type="sideways"))
    with pytest.raises(SchemaValidationError, match="sideways"):
        common.draw_chart(broken, {"grid": FRAME})


def _drawn(line: str):
    at = AppTest.from_string("import altair as alt\nimport streamlit as st\n"
                             "from tests.test_charts import FRAME, _heatmap\nfrom ui.common import draw_chart\n"
                             + line).run()
    assert not at.exception
    proto = at.get("vega_lite_chart")[0].proto
    spec = json.loads(proto.spec)
    spec.pop("data", None)  # the dataset's name: Streamlit's own is a content hash
    return spec, proto


def test_the_chart_is_drawn_as_st_altair_chart_draws_it():
    ours, proto = _drawn("draw_chart(_heatmap(alt.Data(name='grid')), {'grid': FRAME}, width='stretch')")
    theirs, _ = _drawn("st.altair_chart(_heatmap(FRAME), width='stretch')")
    # The same spec: no fixed 300 px view from Altair's default theme, so width="stretch" fills the column.
    assert ours == theirs and "view" not in ours.get("config", {})
    assert [d.name for d in proto.datasets] == ["grid"] and proto.datasets[0].data.data  # the frame, as Arrow
