"""The Impact page and the Overview on short or odd stores (issue 17): one month, thirteen months,
and police.uk-style data with the month only (no time of offence, so no weeks). The page must say
in one line what is missing, never show 'nan'."""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from date_typing import has_field, type_date

ROOT = Path(__file__).resolve().parent.parent
POLICE_UK_HEADER = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
                    "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context"]


def _store(tmp_path: Path, sample_dir: Path, first: str, last: str, police_uk: bool = False,
           patrols: bool = True) -> Path:
    from hotspot_engine.read.loading import ingest_paths
    from hotspot_engine.store.database import connect

    incidents = pd.read_csv(sample_dir / "incidents.csv", dtype=str)
    month = incidents["occurred_at"].str[:7]
    incidents = incidents[(month >= first) & (month <= last)]
    path = tmp_path / "incidents.csv"
    if police_uk:
        kind = incidents["ho_code"].fillna("").map(lambda c: "Robbery" if c.startswith("34") else
                                                    ("Possession of weapons" if c.startswith(("10", "81")) else
                                                     "Violence and sexual offences"))
        pd.DataFrame({"Crime ID": incidents["incident_id"], "Month": incidents["occurred_at"].str[:7],
                      "Reported by": "Hampshire Constabulary", "Falls within": "Hampshire Constabulary",
                      "Longitude": incidents["lon"], "Latitude": incidents["lat"], "Location": incidents["location"],
                      "LSOA code": incidents["lsoa_code"], "LSOA name": "", "Crime type": kind,
                      "Last outcome category": "", "Context": ""})[POLICE_UK_HEADER].to_csv(path, index=False)
    else:
        incidents.to_csv(path, index=False)
    db = tmp_path / "store.duckdb"
    con = connect(db)
    ingest_paths(con, [path, sample_dir / "patrols.csv"] if patrols else [path])
    con.close()
    return db


def _run(db: Path, page: str | None):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    return at


def _texts(at) -> list[str]:
    out = [f"{m.label} {m.value}" for m in at.metric]
    for kind in ("markdown", "caption", "warning", "info", "error", "success"):
        out += [str(e.value) for e in getattr(at, kind)]
    return out


@pytest.fixture()
def store_env(tmp_path):
    before = os.environ.get("HOTSPOT_DB")
    yield tmp_path
    import streamlit as st

    if before is None:
        os.environ.pop("HOTSPOT_DB", None)
    else:
        os.environ["HOTSPOT_DB"] = before
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.mark.parametrize("first, last, police_uk, expected", [
    ("2023-04", "2023-04", False, "before the intervention"),
    pytest.param("2022-04", "2023-04", False, "outside the window the hotspots were chosen on", marks=pytest.mark.slow),
    pytest.param("2021-04", "2024-03", True, "Weeks are not available", marks=pytest.mark.slow),  # impact on 3 years
])
def test_impact_page_says_what_is_missing_and_never_nan(store_env, sample_dir, first, last, police_uk, expected):
    os.environ["HOTSPOT_DB"] = str(_store(store_env, sample_dir, first, last, police_uk))
    for page in (None, "pages/3_Impact.py"):
        at = _run(Path(os.environ["HOTSPOT_DB"]), page)
        assert not at.exception, [e.value for e in at.exception]
        texts = _texts(at)
        assert not [t for t in texts if "nan" in t.lower().replace("financial", "").replace("nance", "")], texts
        if page:
            assert any(expected in t for t in texts), [t for t in texts if "not" in t or "need" in t]


@pytest.mark.slow  # builds a store and runs the Impact page (5 s)
def test_impact_without_patrols_shows_no_effect_figure_in_large_type(store_env, sample_dir):
    """Issue 27: with no patrols a plain before/after was shown large under "Impact of hotspot patrols".
    Also: the regression-to-the-mean text names no month before the data begin, and the strength
    line says what the data cannot tell instead of implying no effect."""
    import datetime as dt

    os.environ["HOTSPOT_DB"] = str(_store(store_env, sample_dir, "2021-04", "2024-03", patrols=False))
    at = _run(Path(os.environ["HOTSPOT_DB"]), "pages/3_Impact.py")
    assert not at.exception, [e.value for e in at.exception]
    type_date(at, "i_date", dt.date(2023, 4, 1).isoformat())
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.metric) == 0, [m.label for m in at.metric]
    texts = _texts(at)
    assert any("No patrols are stored" in t for t in texts)
    rtm = next(t for t in texts if "Regression to the mean" in t)
    assert "2022-04 to 2023-03" in rtm
    assert "2021-" not in rtm and "2020-" not in rtm
    assert any("cannot tell a fall of" in t or "smallest fall these data" in t.lower() for t in texts), texts
    assert any("Parallel-trends check" in t for t in texts)


@pytest.mark.slow  # an AppTest run of the Impact page (7 s)
def test_presentation_mode_hides_the_impact_controls(app_db):
    """Issue 27: the Impact controls stayed on the wall screen."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params["present"] = "1"
    at.run()
    at.switch_page("pages/3_Impact.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not has_field(at, "i_date")
    assert any(m.label.startswith("Effect, corrected") for m in at.metric)
