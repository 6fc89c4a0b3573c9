"""A store of two police forces whose stored months differ (police.uk: Cleveland for all of 2021,
Durham only from 2021-10): a force's unstored months are no data, not zero incidents, in the
hotspots' rates, predictions, tests and ranks (analyse/hotspots.py ``gaps``, service/quality.py
``force_gaps``)."""
from __future__ import annotations

from pathlib import Path

import h3
import numpy as np
import pandas as pd
import pytest
from conftest import store_of_police_uk_zips

from hotspot_engine.analyse.gistar import estimate_dispersion, estimate_dispersion_held
from hotspot_engine.analyse.hotspots import HotspotParams, cell_totals, score_cells

#: Two patches of real res-9 cells about 30 km apart, one district (and force) each.
CENTRES = {"North": (54.78, -1.57), "South": (54.57, -1.23)}
YEAR = [f"2021-{m:02d}" for m in range(1, 13)]


def _patch(district: str) -> np.ndarray:
    middle = h3.latlng_to_cell(*CENTRES[district], 9)
    return np.array([h3.str_to_int(c) for c in h3.grid_disk(middle, 8)], dtype=np.uint64)


def _pattern(n: int, seed: int = 3) -> np.ndarray:
    """One month's counts over a patch: a quiet background and a few busy cells."""
    rng = np.random.default_rng(seed)
    count = rng.binomial(1, 0.08, n).astype(float)
    count[[0, 1, 2, 40, 41, 100]] = [6, 4, 3, 5, 3, 4]
    return count


def _two_forces(south_months: list[str], north_months: list[str]):
    """Study area, cell-month counts and every offence's counts: the same pattern in both patches,
    every stored month alike (so a cell's rate a month held is the same in any window of them)."""
    study, rows, context = [], [], []
    for district, months in (("North", north_months), ("South", south_months)):
        cells = _patch(district)
        study.append(pd.DataFrame({"h3": cells, "district": district, "csp": district}))
        pattern = _pattern(cells.size)
        for month in months:
            rows.append(pd.DataFrame({"h3": cells, "month": month, "count": pattern, "harm": pattern * 10.0}))
            context.append(pd.DataFrame({"h3": cells, "count": pattern * 3.0 + 1.0}))
    study_frame = pd.concat(study).sort_values("h3").reset_index(drop=True)
    months = pd.concat(rows).query("count > 0").reset_index(drop=True)
    every = pd.concat(context).groupby("h3", as_index=False)["count"].sum()
    return study_frame, months, every


def _score(study, months, context, gaps=None, **params):
    return score_cells(study, cell_totals(months), None, None, HotspotParams(**params), None,
                       cell_months=months, context=context, gaps=gaps).cells.set_index("h3")


def _gaps(district: str, months: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"district": district, "month": months})


def _north(cells: pd.DataFrame) -> pd.DataFrame:
    return cells[cells["district"] == "North"].sort_index()


def test_a_force_holding_three_months_is_judged_as_in_a_store_of_those_months_only():
    """North holds 2021-10..12, South all 2021: North's rates, tests and ranks are those of a store
    (and window) holding 2021-10..12 for both forces. Without the gaps North's rates were a quarter."""
    autumn = YEAR[9:]
    mixed = _two_forces(YEAR, autumn)
    same = _two_forces(autumn, autumn)
    fixed = _north(_score(*mixed, gaps=_gaps("North", YEAR[:9])))
    reference = _north(_score(*same))
    for column in ("predicted", "nbhd_total", "expected", "local_expected"):
        np.testing.assert_allclose(fixed[column], reference[column], rtol=1e-9, atol=1e-12, err_msg=column)
    # The same cells pass the test against the force's rate, and rank in the same order.
    assert (fixed["gi_p_fdr"] < 0.05).equals(reference["gi_p_fdr"] < 0.05)
    assert fixed["predicted"].rank().equals(reference["predicted"].rank())
    assert fixed["is_hotspot"].sum() == reference["is_hotspot"].sum() > 0
    # Nine months of zeros: the bias the gaps remove.
    zeros = _north(_score(*mixed))
    busiest = reference["predicted"].idxmax()
    assert zeros.loc[busiest, "predicted"] < 0.5 * reference.loc[busiest, "predicted"]
    assert zeros["is_hotspot"].sum() < fixed["is_hotspot"].sum()


@pytest.mark.parametrize("method", ["gistar", "top-n", "harm-share"])
def test_other_methods_rank_a_short_force_on_its_months_held(method):
    """The patches are alike a month held, so the methods that rank on the data alone (no shrinkage
    towards a prior, which trusts 3 months less than 12) give each force as many places, ranked
    alike; with the zeros North got fewer."""
    autumn = YEAR[9:]
    fixed = _score(*_two_forces(YEAR, autumn), gaps=_gaps("North", YEAR[:9]), method=method, top=12)
    zeros = _score(*_two_forces(YEAR, autumn), method=method, top=12)
    places = fixed[fixed["is_hotspot"]].drop_duplicates("hotspot_id")["district"].value_counts()
    assert places["North"] == places["South"] > 0
    assert _north(fixed)["is_hotspot"].sum() > _north(zeros)["is_hotspot"].sum()


def test_a_force_holding_no_month_of_the_window_has_nothing_ranked():
    study, months, context = _two_forces(YEAR[:9], [])
    cells = _score(study, months, context, gaps=_gaps("North", YEAR[:9]))
    north = _north(cells)
    assert not north["is_hotspot"].any() and not north["significant"].any()
    assert (north["q_local"] == 1.0).all()
    assert cells["is_hotspot"].any()


def test_gaps_outside_the_grid_change_nothing():
    """Gaps of months no cell month holds (or an empty frame) leave every figure as it was: the
    single-force path is the code of before, to the byte."""
    study, months, context = _two_forces(YEAR[:6], YEAR[:6])
    plain = _score(study, months, context)
    for gaps in (pd.DataFrame(columns=["district", "month"]), _gaps("North", YEAR[6:])):
        pd.testing.assert_frame_equal(_score(study, months, context, gaps=gaps), plain)


def test_held_dispersion_is_the_plain_estimate_when_every_period_is_held():
    rng = np.random.default_rng(0)
    totals = rng.negative_binomial(3, 0.4, size=(300, 6)).astype(float)
    held = np.ones(totals.shape, dtype=bool)
    assert estimate_dispersion_held(totals, held) == pytest.approx(estimate_dispersion(totals), rel=1e-12)
    # Zeros in unheld periods are no data: masking them gives the estimate of the held rows alone.
    masked = totals.copy()
    masked[:150, :3] = 0.0
    held[:150, :3] = False
    pooled = estimate_dispersion_held(masked, held)
    assert pooled < estimate_dispersion(masked)
    assert pooled == pytest.approx(estimate_dispersion(totals), abs=0.1)


# -- the real months: Cleveland 2021 with Durham 2021-10..12 (tests/data/realdata) -----------------
@pytest.fixture(scope="module")
def two_forces_db(tmp_path_factory):
    """A store of Cleveland's twelve real 2021 months and Durham's three (2021-10..12)."""
    from hotspot_engine.reference import geography

    data = Path(__file__).resolve().parent / "data" / "realdata"
    yield store_of_police_uk_zips(tmp_path_factory.mktemp("two_forces"), [
        data / "police-uk-cleveland-2021.zip", data / "police-uk-durham-2021-10-to-12.zip"], "two.duckdb")
    geography.use_area(())


@pytest.fixture()
def two_forces(two_forces_db):
    from hotspot_engine import service
    from hotspot_engine.reference import geography

    con = service.open_store(two_forces_db)
    try:
        yield con
    finally:
        con.close()
        geography.use_area(())


CLEVELAND = ("Hartlepool", "Middlesbrough", "Redcar and Cleveland", "Stockton-on-Tees")


def _durham(result) -> pd.DataFrame:
    cells = result.cells.set_index("h3")
    return cells[cells["district"].isin(["County Durham", "Darlington"])]


@pytest.mark.slow  # ingests 13 real police.uk months of two forces
def test_durham_is_ranked_on_its_three_months_beside_cleveland_s_twelve(two_forces, monkeypatch):
    """Before: 0 of the 19 hotspots in Durham over 2021-01..12 (its 9 unstored months read as zeros),
    its cells' predicted rates about a third of those of the months it holds."""
    from hotspot_engine import service
    from hotspot_engine.filters import Filters
    from hotspot_engine.service import analyses

    year = service.hotspots(two_forces, Filters(date_from="2021-01", date_to="2021-12"))
    autumn = service.hotspots(two_forces, Filters(date_from="2021-10", date_to="2021-12"))
    assert year.settings["months_held_by_force"] == {"Durham Constabulary": 3}
    assert "Durham Constabulary 3 of 12" in year.settings["advice"]
    assert any(note.startswith("Durham Constabulary holds no data for 2021-01 to 2021-09") for note in year.notes)
    assert _durham(year)["is_hotspot"].any()

    def ratio(result) -> float:
        """Durham's busy cells' predicted rate over the year against over the months it holds."""
        busy = _durham(autumn)["count"] >= 3
        return float(np.median(_durham(result)["predicted"][busy] / _durham(autumn)["predicted"][busy]))

    assert 0.8 < ratio(year) < 1.25
    monkeypatch.setattr(analyses, "force_gaps", lambda con, filters: _no_gaps())  # the code of before
    zeros = service.hotspots(two_forces, Filters(date_from="2021-01", date_to="2021-12"))
    assert ratio(zeros) < 0.5 and not _durham(zeros)["is_hotspot"].any()


def _no_gaps():
    from hotspot_engine.service.quality import ForceGaps

    return ForceGaps(pd.DataFrame(columns=["district", "month", "force"]), {}, {})


@pytest.mark.slow  # shares the two-force store
def test_series_and_means_over_both_forces_count_the_months_both_hold(two_forces):
    from hotspot_engine import service
    from hotspot_engine.errors import InputError
    from hotspot_engine.filters import Filters
    from hotspot_engine.service.overview import overview_periods
    from hotspot_engine.write.sidecar import quality_from_store

    assert any(line.startswith("Durham Constabulary holds no data for 2021-01 to 2021-09") and "not zero incidents" in line
               for line in quality_from_store(two_forces, Filters(date_from="2021-01", date_to="2021-12")))
    assert service.held_months(two_forces, Filters()) == set(YEAR[9:])
    assert service.held_months(two_forces, Filters(districts=("Middlesbrough",))) == set(YEAR)
    # Impact compares each hotspot with the rest of its own CSP: Cleveland's hotspots keep the year.
    from hotspot_engine.service.analyses import _impact_months

    assert _impact_months(two_forces, Filters(), YEAR, "2021-11")[0] == YEAR[9:]
    assert _impact_months(two_forces, Filters(), YEAR, "2021-11", pd.Series(["Middlesbrough"]))[0] == YEAR
    durham, note = _impact_months(two_forces, Filters(), YEAR, "2021-11", pd.Series(["County Durham"]))
    assert durham == YEAR[9:] and "one police force of these places holds no data" in note
    # Output titles name a force of the places holding fewer of the window's months.
    from hotspot_engine.service.exports import store_context

    year = Filters(date_from="2021-01", date_to="2021-12")
    assert store_context(two_forces, year).window == "2021-01 to 2021-12; Durham Constabulary 3 of 12 months"
    assert store_context(two_forces, year.with_(districts=("Middlesbrough",))).window == "2021-01 to 2021-12"
    # Dosage days: the months every force of the hotspots holds.
    assert service.patrol_report(two_forces, year.with_(districts=("Middlesbrough",))).summary["days"] == 365
    both = service.patrol_report(two_forces, year)
    assert both.summary["days"] == 92 and any("one police force of these hotspots" in note for note in both.notes)
    overall, _ = overview_periods(two_forces, Filters())
    assert overall is not None and overall.months_held == 3
    assert "holds no data for while another does is left out" in overall.line
    alone, _ = overview_periods(two_forces, Filters(districts=("Middlesbrough",)))
    assert alone is not None and alone.months_held == 12 and "police force" not in alone.line
    # A hold-out check on test months Durham lacks scores Cleveland's places alone, and says so.
    _, holdout = service.validate_hotspots(two_forces, Filters(date_from="2021-01", date_to="2021-06"), "2021-09")
    _, alone = service.validate_hotspots(two_forces, Filters(date_from="2021-01", date_to="2021-06",
                                                            districts=CLEVELAND), "2021-09")
    assert any(note.startswith("The places of Durham Constabulary are left out") for note in holdout.notes)
    assert alone.test_incidents > 0 and abs(holdout.test_incidents - alone.test_incidents) <= 0.01 * alone.test_incidents
    with pytest.raises(InputError, match="lacks some of the test months"):
        service.validate_hotspots(two_forces, Filters(date_from="2021-01", date_to="2021-06",
                                                      districts=("County Durham",)), "2021-09")
    # Chosen on months Durham lacks in part: the count ranking is judged on rates too.
    _, mixed = service.validate_hotspots(two_forces, Filters(date_from="2021-04", date_to="2021-11"), "2021-12")
    assert any(note.startswith("The count ranking ranks each cell's count a month") for note in mixed.notes)


@pytest.mark.slow  # AppTest of the Overview and the Hotspot map on the two-force store
def test_pages_show_durham_places_and_leave_its_unstored_months_out(two_forces_db, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from hotspot_engine.reference import geography

    root = Path(__file__).resolve().parent.parent
    monkeypatch.setenv("HOTSPOT_DB", str(two_forces_db))
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        at = AppTest.from_file(str(root / "app.py"), default_timeout=240)
        at.query_params["from"], at.query_params["to"] = "2021-01", "2021-12"
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        captions = " ".join(c.value for c in at.caption)
        assert "Not every police force of these places holds data for 2021-01 to 2021-09" in captions
        warnings = " ".join(w.value for w in at.warning).replace("\\", "")  # shown escaped, as text
        assert "are no data for its places, not zero incidents" in warnings
        at.switch_page("pages/1_Hotspot_map.py").run()
        assert not at.exception, [e.value for e in at.exception]
        assert any("2021-01 to 2021-12; Durham Constabulary 3 of 12 months" in m.value for m in at.markdown)
        hotspots = at.dataframe[0].value  # the 19 hotspots (the next ranked follow): 0 in Durham before
        assert len(hotspots) == 19 and hotspots["district"].isin(["County Durham", "Darlington"]).sum() == 3
        # Concentration counts each cell at its rate over its force's months held.
        assert any("each cell counts at its rate over the months its force holds" in c.value for c in at.caption)
        # The playback says which force's places are blank in a month (no data), and which are not.
        at.selectbox(key="m_mode").set_value("months").run()
        assert not at.exception, [e.value for e in at.exception]
        lacking = "Durham Constabulary holds no data for this month"
        assert at.select_slider(key="m_month").value == "2021-01"
        assert any(lacking in c.value for c in at.caption)
        at.select_slider(key="m_month").set_value("2021-10").run()
        assert not any(lacking in c.value for c in at.caption)
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()
        geography.use_area(())


@pytest.mark.slow  # the two-force store with a partner layer
def test_partner_funnel_counts_a_force_s_lsoas_over_its_police_months(two_forces_db, tmp_path, monkeypatch):
    """A year of partner counts, even over every LSOA, against Durham's three police months: before,
    Durham's LSOAs held 3.0 times what the force-wide ratio expects of them, now 1.2 (partner counts
    even over LSOAs, police counts not)."""
    import shutil

    from hotspot_engine import service
    from hotspot_engine.filters import Filters
    from hotspot_engine.read.partners import PartnerOptions
    from hotspot_engine.reference import geography
    from hotspot_engine.service import partners

    path = tmp_path / "two.duckdb"
    shutil.copy(two_forces_db, path)
    con = service.open_store(path)
    try:
        codes = geography.lsoas()
        codes = codes.loc[codes.get("vintage", pd.Series("11", index=codes.index)) == "11", "lsoa_code"]
        rows = pd.DataFrame([(code, month, 2) for code in codes for month in YEAR], columns=["lsoa_code", "month", "count"])
        rows.to_csv(tmp_path / "ae.csv", index=False)
        service.ingest_files(con, [tmp_path / "ae.csv"], fmt="partner-areas", partner=PartnerOptions(source="ae"))

        def durham_high(compared) -> float:
            """Durham's partner counts over what the force-wide ratio expects of them."""
            table = compared.result.table
            durham = table["district"].isin(["County Durham", "Darlington"])
            return float(table.loc[durham, "partner_count"].sum() / table.loc[durham, "expected"].sum())

        fixed = partners.funnel(con, "ae", Filters(date_from="2021-01", date_to="2021-12"))
        assert any("Durham Constabulary: police data do not cover" in note for note in fixed.notes)
        monkeypatch.setattr("hotspot_engine.service.quality.force_gaps", lambda con, filters: _no_gaps())
        zeros = partners.funnel(con, "ae", Filters(date_from="2021-01", date_to="2021-12"))
        assert durham_high(zeros) > 2.5 and durham_high(fixed) < 1.5
    finally:
        con.close()
        geography.use_area(())


@pytest.mark.slow  # the two-force store with adopted sets
def test_an_adopted_set_is_counted_over_the_months_its_forces_hold(two_forces_db, tmp_path):
    import shutil

    from hotspot_engine import service
    from hotspot_engine.filters import Filters
    from hotspot_engine.reference import geography
    from hotspot_engine.service import sets
    from hotspot_engine.service.overview import overview_periods

    path = tmp_path / "two.duckdb"
    shutil.copy(two_forces_db, path)
    con = service.open_store(path)
    try:
        held = {}
        for name, places in (("both", ()), ("teesside", ("Middlesbrough",))):
            window = Filters(date_from="2021-01", date_to="2021-12", districts=places, sv_only=True)
            result = service.hotspots(con, window)
            adopted = sets.adopt(con, name, result, window, {}, window, "test")
            held[name] = overview_periods(con, Filters(), adopted)[1].months_held
        assert held == {"both": 3, "teesside": 12}
    finally:
        con.close()
        geography.use_area(())


@pytest.fixture()
def flagged_two_forces(two_forces_db, tmp_path):
    """The two-force store with Cleveland's 2021-11 flagged (nine in ten of its anti-social behaviour
    rows that month taken out: 0.09 times its usual level), a month Durham holds too."""
    import shutil

    from hotspot_engine import service
    from hotspot_engine.reference import geography
    from hotspot_engine.store.quality import force_expr

    path = tmp_path / "flagged.duckdb"
    shutil.copy(two_forces_db, path)
    con = service.open_store(path)
    try:
        con.execute(f"DELETE FROM incidents WHERE {force_expr()} = 'Cleveland Police' AND strftime(month, '%Y-%m') = "
                    "'2021-11' AND offence = 'Anti-social behaviour' AND hash(incident_id) % 10 <> 0")
        flags = service.refresh_quality(con).flags
        assert flags[["force", "month"]].drop_duplicates().values.tolist() == [["Cleveland Police", "2021-11"]]
        yield con
    finally:
        con.close()
        geography.use_area(())


@pytest.mark.slow  # the two-force store with a flagged month
def test_a_flagged_month_left_out_is_no_data_for_its_force_s_places_in_series_as_in_hotspots(flagged_two_forces):
    """With [quality] exclude_flagged_months Cleveland's flagged 2021-11 is left out of its rows: the
    hotspots count it as a month Cleveland lacks beside Durham (force_gaps), and so must a series, a
    before/after or a mean a month over Cleveland's places (held_months). Before, held_months kept it:
    Middlesbrough's mean a month counted 12 months, the flagged one as zero incidents."""
    from hotspot_engine import service
    from hotspot_engine.filters import Filters
    from hotspot_engine.service.overview import overview_periods
    from hotspot_engine.store.quality import forces_in

    con = flagged_two_forces
    year = Filters(date_from="2021-01", date_to="2021-12", exclude_flagged=True)
    gaps = service.force_gaps(con, year)
    assert gaps.missing == {"Cleveland Police": ["2021-11"], "Durham Constabulary": YEAR[:9]}
    for places, held in (((), {"2021-10", "2021-12"}), (("Middlesbrough",), set(YEAR) - {"2021-11"}),
                         (("County Durham",), set(YEAR[9:]))):
        filters = year.with_(date_from=None, date_to=None, districts=places)
        assert service.held_months(con, filters) == held, places
        # One rule: the months a series leaves out are those the hotspots read as no data for these places' forces.
        assert set(YEAR) - held == {month for force in forces_in(con, filters) for month in gaps.missing.get(force, [])}
    # Counted in (the default), the flagged month is held like any other.
    assert service.held_months(con, Filters(districts=("Middlesbrough",))) == set(YEAR)
    figures, _ = overview_periods(con, Filters(districts=("Middlesbrough",), exclude_flagged=True))
    assert figures is not None and figures.months_held == 11 and "left out as flagged or partial" in figures.line
