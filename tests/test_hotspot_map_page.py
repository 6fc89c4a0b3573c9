"""AppTest of the Hotspot map's issue-16 parts on the built-in sample: the hold-out check beside the
count ranking, the next-ranked places, the chance curve and generalised Gini, and confidence
wording that matches the test the product uses (no self-warning)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _map_page(app_db):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.run()
    at.switch_page("pages/1_Hotspot_map.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_hotspot_map_shows_holdout_next_ranked_and_chance(app_db):
    at = _map_page(app_db)
    assert "Do these hotspots predict?" in [h.value for h in at.subheader]
    holdout = next(df.value for df in at.dataframe if "pai" in df.value.columns)
    assert list(holdout["selection"])[0] == "The hotspots"
    assert list(holdout["selection"])[-1].startswith("cells ranked by count")
    assert holdout["cells"].iloc[0] == holdout["cells"].iloc[-1] > 0  # the same area
    assert (holdout["hit_rate"].between(0, 1)).all() and (holdout["pai"] > 1).all()
    assert any("PAI" in m.value for m in at.markdown)
    # Issue 24: the kernel density baseline at the same area, PEI/RRI, an interval over months, the
    # hit-rate curve, the ratio to the better baseline, and what "significant" means.
    assert any(s.startswith("kernel density 150 m") for s in holdout["selection"])
    assert {"pei", "rri", "pai_low", "pai_high"} <= set(holdout.columns)
    captions = " ".join(c.value for c in at.caption)
    assert "better of ranking cells by count and a kernel density surface" in captions
    assert "'Significant' means the place's count stands out from the smooth surface" in captions
    assert any(c.proto.spec and "pai" in c.proto.spec for c in at.get("vega_lite_chart"))
    ranked = next(df.value for df in at.dataframe if "hotspot_name" in df.value.columns)
    assert "significant" in ranked.columns

    assert any(e.label.startswith("Next ranked:") for e in at.expander)
    labels = [m.label for m in at.metric]
    assert "Generalised Gini" in labels
    gini = next(m for m in at.metric if m.label == "Gini coefficient")
    assert "against chance" in gini.delta
    lorenz = next(c for c in at.get("vega_lite_chart") if "chance" in [d.name for d in c.proto.datasets])
    assert {"curve", "diagonal", "chance", "hotspots"} <= {d.name for d in lorenz.proto.datasets}
    layers = json.loads(lorenz.proto.spec)["layer"]
    assert any(layer.get("data", {}).get("name") == "chance" for layer in layers)

    assert not any("unreliable" in w.value for w in at.warning)
    method = at.selectbox(key="m_method")
    assert method.format_func("gistar") == "Significant places (exact test)"
    assert method.value == "predict"


def test_holdout_months_can_be_changed(app_db):
    at = _map_page(app_db)
    at.selectbox(key="m_holdout_months").set_value(1).run()
    assert not at.exception, [e.value for e in at.exception]
    text = " ".join(m.value for m in at.markdown)
    assert "scored on 2024-03 to 2024-03" in text


@pytest.mark.slow  # space-time patterns in AppTest
def test_patterns_on_a_range_ending_mid_year_warn_of_the_incomplete_period(app_db):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.query_params["from"] = "2019-04"
    at.query_params["to"] = "2023-09"
    at.run()
    at.switch_page("pages/1_Hotspot_map.py")
    at.run()
    at.selectbox(key="m_colour").set_value("pattern").run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [re.sub(r"\\(.)", r"\1", w.value) for w in at.warning]  # notes are escaped Markdown
    assert any("(2023-24) holds only 6 of its 12 months" in w for w in shown), shown
