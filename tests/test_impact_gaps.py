"""Impact over hotspots of police forces whose stored months differ: each hotspot's own figures use
the months its force holds (analyse/impact.py ``months_of``, service/analyses.py ``_own_months``),
so a hotspot of a force holding three years is judged as in a store of that force alone, not cut to
the 15 months a neighbouring force holds; the pooled row's summed figures keep the common months."""
from __future__ import annotations

from pathlib import Path

import h3
import numpy as np
import pandas as pd
import pytest
from conftest import store_of_police_uk_zips

from hotspot_engine.analyse.impact import OWN_MONTHS_NOTE, POOLED_ID, ImpactOptions, impact_table
from hotspot_engine.filters import months_between

#: Two patches of real res-9 cells about 30 km apart, one district (force, CSP) each.
CENTRES = {"North": (54.78, -1.57), "South": (54.57, -1.23)}
LONG = months_between("2019-01", "2021-12")  # South holds three years
SHORT = LONG[-15:]  # North only the last 15 months
INTERVENTION = "2021-07-01"  # 6 months after; North has 9 before, South 30
#: Every figure of a hotspot's row (the message too: it names the months when a model fails).
FIGURES = ["months_pre", "months_post", "mean_pre", "mean_post", "simple_change_pct", "its_change_pct", "ci_low_pct",
           "ci_high_pct", "corrected_change_pct", "corrected_ci_low_pct", "corrected_ci_high_pct", "cits_change_pct",
           "baseline_months", "pretrend_pct", "wdq_sm", "tne", "tne_low", "tne_high", "message"]


def _patch(district: str) -> np.ndarray:
    middle = h3.latlng_to_cell(*CENTRES[district], 9)
    return np.array([h3.str_to_int(c) for c in h3.grid_disk(middle, 6)], dtype=np.uint64)


def _force(district: str, months: list[str], seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Study cells, Poisson cell-month counts (two busy cells far apart, a quiet rest) and hotspots."""
    cells = _patch(district)
    rng = np.random.default_rng(seed)
    rate = np.full(cells.size, 0.4)
    rate[[0, 100]] = [6.0, 4.0]
    counts = rng.poisson(rate, size=(len(LONG), cells.size))[-len(months):]
    frame = pd.DataFrame({"h3": np.tile(cells, len(months)), "month": np.repeat(months, cells.size),
                          "count": counts.ravel()}).query("count > 0")
    study = pd.DataFrame({"h3": cells, "district": district, "csp": district})
    hot = pd.DataFrame({"h3": cells[[0, 100]], "hotspot_id": [f"{district}-A", f"{district}-B"]})
    return study, frame, hot


def _rows(result) -> pd.DataFrame:
    return result.table.set_index("hotspot_id")


def test_a_force_holding_more_months_is_judged_as_in_a_store_of_that_force_only():
    """South's hotspots in the two-force table equal those of a South-only table over South's
    months; the common months (what impact took before) gave them 9 months before instead of 30."""
    south, north = _force("South", LONG, 1), _force("North", SHORT, 2)
    study, counts, hot = (pd.concat([s, n], ignore_index=True) for s, n in zip(south, north))
    options = ImpactOptions(min_pre=6)
    own = {h: LONG for h in south[2]["hotspot_id"]}
    mixed = impact_table(counts, hot, study, SHORT, INTERVENTION, options, months_of=own)
    alone = impact_table(south[1], south[2], south[0], LONG, INTERVENTION, options)
    ids = list(south[2]["hotspot_id"])
    pd.testing.assert_frame_equal(_rows(mixed).loc[ids, FIGURES], _rows(alone).loc[ids, FIGURES])
    assert (_rows(mixed).loc[ids, "months_pre"] == 30).all()
    assert np.isfinite(_rows(mixed).loc[ids, "corrected_change_pct"]).all()
    # North keeps its own 15 months; so do the pooled row's summed figures (the months both hold).
    assert (_rows(mixed).loc[["North-A", "North-B", POOLED_ID], "months_pre"] == 9).all()
    assert mixed.months == SHORT and list(mixed.fits["South-A"].periods) == LONG
    assert any(note.startswith(OWN_MONTHS_NOTE) and "2019-01 to 2021-12 (30 months before, 6 after)" in note
               for note in mixed.notes)
    # The pool takes all four hotspots' own effects.
    assert _rows(mixed).loc[POOLED_ID, "k_pooled"] == 4
    assert mixed.series.loc["2019-01", "North-A"] != mixed.series.loc["2019-01", "North-A"]  # no data, not 0
    # Before: every hotspot cut to the months both forces hold.
    cut = impact_table(counts, hot, study, SHORT, INTERVENTION, options)
    assert (_rows(cut).loc[ids, "months_pre"] == 9).all()
    assert OWN_MONTHS_NOTE not in " ".join(cut.notes)


def test_hotspots_all_on_the_common_months_give_the_table_of_before():
    """``months_of`` naming the common months (or nothing) is the single-force code, to the byte."""
    study, counts, hot = _force("South", LONG, 1)
    plain = impact_table(counts, hot, study, LONG, INTERVENTION)
    same = impact_table(counts, hot, study, LONG, INTERVENTION, months_of={h: LONG for h in hot["hotspot_id"]})
    pd.testing.assert_frame_equal(plain.table, same.table)
    pd.testing.assert_frame_equal(plain.series, same.series)
    assert plain.notes == same.notes and plain.place_variance == same.place_variance


# -- the real months: Cleveland 2021 with Durham 2021-10..12 (tests/data/realdata) -----------------
DATA = Path(__file__).resolve().parent / "data" / "realdata"


def _store(folder: Path, names: tuple[str, ...]) -> Path:
    return store_of_police_uk_zips(folder, [DATA / name for name in names])


def _impact(db: Path, hotspots: Path):
    from hotspot_engine import service
    from hotspot_engine.filters import Filters
    from hotspot_engine.reference import geography

    con = service.open_store(db)
    try:
        return service.impact(con, Filters(), "2021-12-01", hotspots_file=hotspots,
                              selection_window=("2021-09", "2021-11"))
    finally:
        con.close()
        geography.use_area(())


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> dict[str, Path]:
    """Cleveland 2021 with Durham 2021-10..12, and Cleveland 2021 alone."""
    folder = tmp_path_factory.mktemp("impact_gaps")
    return {"both": _store(folder / "both", ("police-uk-cleveland-2021.zip", "police-uk-durham-2021-10-to-12.zip")),
            "alone": _store(folder / "alone", ("police-uk-cleveland-2021.zip",))}


@pytest.mark.slow  # ingests 15 real police.uk months of two forces and 12 of one
def test_a_cleveland_hotspot_beside_durham_s_has_the_figures_of_a_cleveland_only_store(stores, tmp_path):
    """Before: the Cleveland hotspot had 2 months before the intervention (Durham's 2021-10..11)
    in the two-force store, 11 in a store of Cleveland alone (too few for a model either way: the
    figures compared are the counts, the plain before/after, the WDQ and the messages)."""
    # Middlesbrough's busiest place and Durham city's nightclub (a hotspot of each force on this store).
    cells = {"HS-clev": "89194654a9bffff", "HS-durham": "8919465a43bffff"}
    hotspots = tmp_path / "hotspots.csv"
    pd.DataFrame({"h3": list(cells.values()), "hotspot_id": list(cells), "is_hotspot": True}).to_csv(hotspots, index=False)
    only_clev = tmp_path / "clev.csv"
    pd.read_csv(hotspots).head(1).to_csv(only_clev, index=False)
    mixed, reference = _rows(_impact(stores["both"], hotspots)), _rows(_impact(stores["alone"], only_clev))
    pd.testing.assert_series_equal(mixed.loc["HS-clev", FIGURES], reference.loc["HS-clev", FIGURES])
    assert mixed.loc["HS-clev", "months_pre"] == 11 and mixed.loc["HS-durham", "months_pre"] == 2
    assert mixed.loc[POOLED_ID, "months_pre"] == 2  # the summed series: the months both forces hold


@pytest.mark.slow  # an AppTest run of the Impact page on the two-force store
def test_impact_page_says_which_months_each_force_s_hotspots_used(stores, monkeypatch):
    import datetime as dt

    import streamlit as st
    from date_typing import type_date
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("HOTSPOT_DB", str(stores["both"]))
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("pages/3_Impact.py")
    at.run()
    type_date(at, "i_date", dt.date(2021, 12, 1).isoformat())
    assert not at.exception, [e.value for e in at.exception]
    captions = [str(c.value).replace("\\", "") for c in at.caption]  # markdown_plain escapes - ( ) .
    assert any(OWN_MONTHS_NOTE in c and "2021-01 to 2021-12 (11 months before, 1 after)" in c for c in captions), captions
    st.cache_data.clear()
    st.cache_resource.clear()
