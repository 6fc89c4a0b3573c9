"""A write to the store that fails part-way leaves the store as it was (store/transaction.py): the
sample's removal, the quality tables' swap and a street layer's load, each failed after its first
statements have run. (Incident loads: test_sample_store.py, test_store_stream.py, test_crash_safety.py.)"""
from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from hotspot_engine.analyse.quality import FLAG_COLUMNS, GAP_COLUMNS
from hotspot_engine.store import database as store
from hotspot_engine.store import quality, streets


def _snapshot(con, tables: tuple[str, ...]) -> dict[str, list]:
    return {t: sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall())) for t in tables}


class _InterruptedAt:
    """A connection whose user presses Ctrl-C as ``statement`` is about to run."""

    def __init__(self, con, statement: str):
        self._con, self._statement = con, statement

    def execute(self, sql: str, *args):
        if sql.startswith(self._statement):
            raise KeyboardInterrupt
        return self._con.execute(sql, *args)


@pytest.mark.parametrize("failure", ["store error", "ctrl-c"])
def test_a_sample_removal_that_fails_after_its_deletes_removes_nothing(monkeypatch, failure):
    con = store.connect(":memory:")
    rows = pd.DataFrame({
        "incident_id": ["HIPS-SYN-1", "HIPS-SYN-2", "REAL-1"], "source": "force",
        "month": pd.to_datetime(["2023-04-01"] * 3), "occurred_at": pd.to_datetime(["2023-04-02 22:00"] * 3),
        "lat": 50.9063, "lon": -1.4043, "offence": "Robbery", "ho_code": "34B", "knife_flag": False,
        "offence_group": "robbery", "sv_category": "robbery", "is_proxy": False, "district": "Southampton",
    })
    store.store_rows(con, "incidents", rows, pd.DataFrame(columns=["row", "column", "reason", "raw"]), "s.csv",
                     "incidents")
    store.label_sample_loads(con, 0)
    before = _snapshot(con, ("incidents", "loads"))
    # The incidents are deleted first. A store error (the partner layers' delete on a table not there)
    # aborts DuckDB's transaction; Ctrl-C before the removal is logged leaves it open, uncommitted.
    if failure == "store error":
        monkeypatch.setattr(store, "PARTNER_TABLES", (*store.PARTNER_TABLES, "no_such_table"))
        with pytest.raises(duckdb.CatalogException, match="no_such_table"):
            store.remove_sample_rows(con)
        monkeypatch.undo()
    else:
        with pytest.raises(KeyboardInterrupt):
            store.remove_sample_rows(_InterruptedAt(con, "INSERT INTO loads"))
    assert _snapshot(con, ("incidents", "loads")) == before
    assert store.remove_sample_rows(con) == (2, 0)  # the connection is usable: nothing left open


def test_a_quality_swap_that_fails_on_its_last_insert_keeps_the_old_tables():
    con = store.connect(":memory:")
    flags = pd.DataFrame([["F", "2023-04", "Robbery", 40, 10.0, 4.0, 5.0]], columns=FLAG_COLUMNS)
    gaps = pd.DataFrame([["F", "2023-01", "missing", 0, 100.0]], columns=GAP_COLUMNS)
    quality.replace_quality(con, flags, gaps)
    before = _snapshot(con, ("quality_flags", "coverage_gaps"))
    # Both deletes and the flags' insert run; the gaps' count is no number, so the last insert fails.
    new_flags = flags.assign(crime_type="Burglary")
    bad_gaps = gaps.assign(count="many")
    with pytest.raises(duckdb.ConversionException):
        quality.replace_quality(con, new_flags, bad_gaps)
    assert _snapshot(con, ("quality_flags", "coverage_gaps")) == before
    quality.replace_quality(con, new_flags, gaps)
    assert con.execute("SELECT crime_type FROM quality_flags").fetchall() == [("Burglary",)]


def test_a_street_load_that_fails_while_it_logs_stores_nothing(tmp_path, monkeypatch):
    from test_patrol_briefing import _street_file

    con = store.connect(":memory:")
    streets.store_street_file(con, _street_file(tmp_path / "gosport.geojson", 50.795, -1.125))
    tables = ("streets", "rejects", "loads")
    before = _snapshot(con, tables)
    other = _street_file(tmp_path / "southampton.geojson", 50.9063, -1.4043)

    def vanished(path):
        raise OSError(f"{path.name}: gone")

    # The file's digest is taken for the load's log line, after its lines and rejects are inserted.
    monkeypatch.setattr(streets, "file_digest", vanished)
    with pytest.raises(OSError, match="gone"):
        streets.store_street_file(con, other)
    assert _snapshot(con, tables) == before
    monkeypatch.undo()
    summary = streets.store_street_file(con, other)
    assert (summary.added, summary.rejected) == (3, 1)
