"""Every page on the stores real users have: one police.uk month, three police.uk months (no times,
no patrols), police.uk with a patrol log, a force extract with times without patrols, and the sample.
No page may raise, and no text, metric or table cell may read NaN, None or 0.000000: where the data
cannot support a figure the page says so in one line (issue 19)."""
from __future__ import annotations

import math
import os
import re
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow  # every page on five stores in AppTest; tests/test_app.py is the inner loop's page smoke

ROOT = Path(__file__).resolve().parent.parent
PAGES = [None, "pages/1_Hotspot_map.py", "pages/2_Patrols.py", "pages/3_Impact.py", "pages/4_Data_and_export.py"]
STORES = ["police_uk_one_month", "police_uk_three_months", "police_uk_with_patrols", "force_extract_no_patrols", "sample"]
BAD_TEXT = re.compile(r"\bNaN\b|\bnan\b|\bNone\b|\b0\.000000\b|\binf\b|Sources: \.")
SKIP_FIELDS = {"data", "datasets", "arrow_data", "styler", "spec"}


def _texts(node, out: list[str]) -> None:
    """Every text an element shows (labels, values, bodies), walking the element tree."""
    children = getattr(node, "children", None)
    if children:
        for child in children.values():
            _texts(child, out)
        return
    proto = getattr(node, "proto", None)
    if proto is None:
        return
    kind = type(node).__name__
    if kind == "Dataframe":
        out.extend(_cells(node.value))
        return
    for field, value in proto.ListFields():
        if field.name in SKIP_FIELDS or isinstance(value, bytes):
            continue
        if field.name == "json":  # a pydeck map: its tooltips and labels only
            out.extend(re.findall(r'"(?:text|html|label|name)": ?"([^"]*)"', value))
            continue
        out.append(str(value))


def _lone_point_charts(at) -> list[str]:
    """Line charts over months whose data hold a single month (drawn as a lone dot) and charts whose
    every value is 0: they say nothing."""

    import pyarrow as pa

    lone = []
    for chart in at.get("vega_lite_chart"):
        spec = chart.proto.spec
        for named in chart.proto.datasets if '"line"' in spec else []:
            frame = pa.ipc.open_stream(named.data.data).read_all().to_pandas()
            for column in ("month", "week"):
                if column in frame and 0 < frame[column].nunique() < 2:
                    lone.append(f"{named.name}: one {column}")
        for named in chart.proto.datasets:  # an all-zero chart is an empty frame that reads as 'quiet'
            frame = pa.ipc.open_stream(named.data.data).read_all().to_pandas()
            values = frame.select_dtypes("number").drop(columns=["hour", "x"], errors="ignore")
            if len(frame) > 1 and not values.empty and not values.to_numpy().any():
                lone.append(f"{named.name}: every value 0")
    return lone


def _cells(frame: pd.DataFrame) -> list[str]:
    texts = [str(c) for c in frame.columns]
    for column in frame.columns:
        for value in frame[column].tolist():
            if value is None or (isinstance(value, float) and math.isnan(value)):
                texts.append(f"None (an empty cell in column {column!r})")
            else:
                texts.append(str(value))
    return texts


@pytest.fixture()
def store_env(request, real_stores, app_db, monkeypatch):
    """Point the app at one store for this test, with fresh caches before and after."""
    import streamlit as st

    path = app_db if request.param == "sample" else real_stores[request.param]
    monkeypatch.setenv("HOTSPOT_DB", str(path))
    st.cache_resource.clear()
    st.cache_data.clear()
    yield request.param
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.mark.parametrize("store_env", STORES, indirect=True)
@pytest.mark.parametrize("page", PAGES, ids=["overview", "map", "patrols", "impact", "data"])
def test_page_shows_no_empty_figure(store_env, page):
    _check_page(store_env, page, present=False)


@pytest.mark.parametrize("store_env", ["police_uk_one_month", "sample"], indirect=True)
@pytest.mark.parametrize("page", PAGES, ids=["overview", "map", "patrols", "impact", "data"])
def test_presentation_mode_shows_no_empty_figure(store_env, page):
    _check_page(store_env, page, present=True)


def _check_page(store_env: str, page: str | None, present: bool) -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    if present:
        at.query_params["present"] = "1"
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    texts: list[str] = []
    _texts(at._tree, texts)
    bad = [t[:200] for t in texts if BAD_TEXT.search(t) and not t.startswith("$$ID-")]  # widget ids end in key None
    assert not bad, bad
    assert not _lone_point_charts(at)
    if store_env.startswith("police_uk"):  # only the two proxy categories exist
        assert not [t for t in texts if "8 categories" in t]
    assert os.environ["HOTSPOT_DB"].endswith(".duckdb")


@pytest.mark.parametrize(("incidents", "proxy_share", "offered", "not_offered"), [
    (5_000, 1.0, {"robbery", "weapon_possession", "violence_and_sexual", "public_order"}, {"gbh", "murder"}),
    (5_000, 0.0, {"robbery", "gbh", "murder", "other_violence"}, {"violence_and_sexual"}),
    (5_000, 0.4, {"robbery", "gbh", "violence_and_sexual", "public_order"}, set()),
    (0, 0.0, {"robbery", "gbh"}, set()),
])
def test_offence_filter_offers_what_the_store_can_hold(incidents, proxy_share, offered, not_offered):
    """On police.uk data alone only its two proxy categories and two broad types exist: GBH or
    murder would be an empty choice there (issue 19)."""
    from hotspot_engine.service import Extent
    from ui.common import offence_choices

    ext = Extent(incidents=incidents, patrols=0, first_month="2024-01", last_month="2024-04", sources=("x",),
                 proxy_share=proxy_share, first_patrol=None)
    choices = set(offence_choices(ext))
    assert offered <= choices and not (not_offered & choices)
