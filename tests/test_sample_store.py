"""The built-in sample (calibrated to the HIPS VRP report 2023-24: -4.8%, -241, 19 hotspots,
2,934 patrols, -17% in hotspots), the store's bookkeeping and the headline engine."""
from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from hotspot_engine import sample

from hotspot_engine import service

from hotspot_engine.store import query

from hotspot_engine.store import database as store
from hotspot_engine.errors import InputError
from hotspot_engine.filters import Filters
from hotspot_engine.reference.offences import SV_GROUPS


@pytest.mark.slow  # writes the sample twice more
def test_sample_is_deterministic_and_labelled(sample_dir, sample_truth, tmp_path):
    assert sample_truth["synthetic"] is True
    again = sample.generate()
    written = pd.read_csv(sample_dir / "incidents.csv", dtype=str)
    assert len(again.incidents) == len(written)
    assert list(again.incidents["incident_id"][:50]) == list(written["incident_id"][:50])
    other = sample.generate(seed=7)
    assert list(other.incidents["incident_id"][:50]) != list(written["incident_id"][:50])


def test_sample_reproduces_the_report(sample_truth):
    fy = sample_truth["fy_totals"]
    # HIPS VRP annual report 2023-24: serious violence -4.8%, -241 offences force-wide.
    assert fy["2023-24"] - fy["2022-23"] == -241
    assert round((fy["2023-24"] / fy["2022-23"] - 1) * 100, 1) == -4.8
    assert len(sample_truth["hotspots"]) == 19 and sample_truth["patrols_2023_24"] == 2934


def test_sample_has_every_category_and_realistic_shares(sample_store):
    shares = sample_store.execute(
        "SELECT offence_group, count(*) / sum(count(*)) OVER () FROM incidents WHERE sv_category IS NOT NULL "
        "GROUP BY 1").fetchall()
    share = dict(shares)
    assert set(share) == set(SV_GROUPS)
    assert 0.15 <= share["robbery"] <= 0.25 and 0.15 <= share["weapon_possession"] <= 0.27
    murders_per_year = share["murder"] * 5000
    assert 5 <= murders_per_year <= 40  # "tens a year"
    other = sample_store.execute("SELECT count(*) FROM incidents WHERE sv_category IS NULL").fetchall()[0][0]
    assert other > 0  # non-serious violence too, so filters matter


def test_sample_seasonality_and_night_peak(sample_store):
    by_hour = sample_store.execute(
        "SELECT hour(occurred_at) h, count(*) FROM incidents GROUP BY 1").df().set_index("h").iloc[:, 0]
    assert by_hour.loc[[21, 22, 23, 0]].mean() > 2 * by_hour.loc[[4, 5, 6]].mean()
    by_month = sample_store.execute(
        "SELECT month(month) m, count(*) FROM incidents WHERE sv_category IS NOT NULL GROUP BY 1").df().set_index("m").iloc[:, 0]
    assert by_month.loc[[6, 7]].mean() > by_month.loc[[1, 2]].mean()


def test_headline_matches_truth(sample_store, sample_truth):
    h = service.headline(sample_store, Filters())
    assert (h.fy_before, h.fy_after) == ("2022-23", "2023-24")
    assert h.sv_change == -241 and round(h.sv_change_pct, 1) == -4.8
    assert h.hotspots == 19 and h.patrols_after == 2934
    assert abs(h.hotspot_change_pct - sample_truth["report_change"] * 100) < 1.0


def test_headline_follows_place_filters(sample_store):
    whole = service.headline(sample_store, Filters())
    north = service.headline(sample_store, Filters(csps=("Safer North Hampshire",)))
    assert 0 < north.sv_after < whole.sv_after and 0 < north.sv_before < whole.sv_before
    # a CSP of 1,111 offences a year fills the top 19 places too (each holds at least one offence),
    # but with fewer cells than the whole force's
    assert north.hotspots <= whole.hotspots and north.hotspot_cells < whole.hotspot_cells


def test_store_dedupes_and_rolls_back(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    rows = pd.DataFrame({
        "incident_id": ["a", "b", "b"], "source": "force", "month": pd.to_datetime(["2023-04-01"] * 3),
        "occurred_at": pd.to_datetime(["2023-04-02 22:00"] * 3), "lat": 50.9063, "lon": -1.4043,
        "offence": "Robbery", "ho_code": "34B", "knife_flag": False, "offence_group": "robbery",
        "sv_category": "robbery", "is_proxy": False, "district": "Southampton",
    })
    empty = pd.DataFrame(columns=["row", "column", "reason", "raw"])
    first = store.store_rows(con, "incidents", rows, empty, "f.csv", "incidents")
    assert (first.added, first.already_present, first.balanced) == (2, 1, True)
    again = store.store_rows(con, "incidents", rows, empty, "f.csv", "incidents")
    assert (again.added, again.already_present) == (0, 3)
    broken = rows.assign(incident_id=["c", "d", "e"], district=[None, "Southampton", "Southampton"])
    # The store's NOT NULL on district is what refuses the file (not a masking "transaction aborted").
    with pytest.raises(duckdb.ConstraintException, match="district"):
        store.store_rows(con, "incidents", broken, empty, "g.csv", "incidents")
    assert store.table_count(con, "incidents") == 2  # the failed file left nothing behind
    cells = query.cell_counts(con, Filters(res=9))
    assert cells["count"].sum() == 2


def test_read_only_store_that_does_not_exist(tmp_path):
    with pytest.raises(InputError, match="no store here yet"):
        store.connect(tmp_path / "missing.duckdb", read_only=True)


def test_cell_locations_through_arrow_is_duckdbs_own_frame(sample_store):
    """cell_locations comes by way of Arrow (query._fetch_through_arrow): the same rows, values and
    dtypes as DuckDB's ``.df()``; a NULL in an integer column (which Arrow's conversion would turn
    into float64, losing H3 ids past 2**53) falls back to ``.df()``'s nullable integer."""
    def ordered(frame):
        return frame.sort_values(list(frame.columns[:2])).reset_index(drop=True)

    for filters in (Filters(date_from="2023-04", date_to="2024-03", res=9), Filters(res=8, sv_only=True)):
        through_arrow = query.cell_locations(sample_store, filters)
        where, params = query.where_incidents(filters)
        plain = sample_store.execute(
            f"SELECT i.h3_r{filters.res} AS h3, i.location, count(*) AS n FROM incidents i WHERE {where} "
            "AND i.location IS NOT NULL AND i.location <> '' GROUP BY 1, 2", params).df()
        assert len(plain) > 1000
        pd.testing.assert_frame_equal(ordered(through_arrow), ordered(plain), check_dtype=True, check_exact=True)
    con = duckdb.connect()
    for h3 in ("NULL", "2"):
        sql = f"SELECT * FROM (VALUES (1::UBIGINT, 'a', 5::BIGINT), ({h3}, 'b', 3)) t(h3, location, n)"
        pd.testing.assert_frame_equal(query._fetch_through_arrow(con, sql, []), con.execute(sql).df(), check_dtype=True)
