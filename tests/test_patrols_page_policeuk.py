"""AppTest for the Patrols page on a store holding only real police.uk months (no day, no time of day,
no patrols): no invented times, no empty grids, no 0.000000 axes; one-line reasons instead.

Data: tests/data/policeuk_sv_sample (real data.police.uk rows, Open Government Licence v3.0)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import app_serving

ROOT = Path(__file__).resolve().parent.parent
REAL = Path(__file__).parent / "data" / "policeuk_sv_sample"


@pytest.fixture()
def policeuk_app(tmp_path):
    """The app pointed at a police.uk-only store; the shared sample store is restored afterwards
    (Streamlit caches the store connection per process, so the caches are cleared both ways)."""
    from hotspot_engine.read.loading import ingest_paths
    from hotspot_engine.store.database import connect

    path = tmp_path / "policeuk.duckdb"
    con = connect(path)
    ingest_paths(con, [REAL])
    con.close()
    with app_serving(path):
        yield path


def _all_text(at) -> str:
    parts = [e.value for kind in ("markdown", "caption", "info", "warning", "error", "subheader") for e in at.get(kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [d.value.to_string() for d in at.dataframe]
    return "\n".join(str(p) for p in parts)


def test_police_uk_store_shows_no_invented_times_and_no_empty_grids(policeuk_app):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["from"] = "2024-04"
    at.query_params["to"] = "2024-04"
    at.run()
    at.switch_page("pages/2_Patrols.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    text = _all_text(at)
    assert "0.000000" not in text
    assert "No incident grid: the records give a month only" in text
    assert "No patrol grid" in text and "No weekly incident line" in text
    # No chart would have anything in it: no hour grid, no weekly lines (flat zeros).
    assert at.get("arrow_vega_lite_chart") + at.get("vega_lite_chart") == []
    plan = next(d.value for d in at.dataframe if "reason" in d.value.columns)
    assert len(plan) > 0 and (plan["window"] == "team to set").all() and (plan["start"] == "team to set").all()
    assert any("Times are for the team to set" in c.value for c in at.caption)

    at.selectbox(key="p_focus").select_index(1).run()  # one hotspot: its street map, still no grids
    assert not at.exception
    assert "0.000000" not in _all_text(at)
    assert any("No street layer loaded" in c.value for c in at.caption)
