"""The store's data-quality tables: ``quality_flags`` (force-months far off a crime type's history)
and ``coverage_gaps`` (force-months missing or partial), both rebuilt from the whole store after
every load (a new month changes its neighbours' judgement too), and the counts they are built from.

One GROUP BY over the incidents (0.03 s of CPU on a million rows, 0.16 s wall on the shared machine),
so it runs after every load.
"""
from __future__ import annotations

import pandas as pd

from hotspot_engine.analyse.quality import FLAG_COLUMNS, GAP_COLUMNS, STORE_FORCE
from hotspot_engine.filters import Filters
from hotspot_engine.store.transaction import transaction

#: The force a row counts under: police.uk rows by their "Falls within", every other source (force
#: extracts, the sample) as the store's own force.
FORCE_SQL = (f"CASE WHEN {{a}}source = 'police-uk' THEN COALESCE(NULLIF({{a}}falls_within, ''), 'police.uk') "
             f"ELSE '{STORE_FORCE}' END")


def force_expr(alias: str = "") -> str:
    """SQL for a row's force; ``alias`` is the incidents table's alias ('i') or empty."""
    return FORCE_SQL.format(a=f"{alias}." if alias else "")


def type_counts(con) -> pd.DataFrame:
    """Columns force, month ('YYYY-MM'), crime_type, count: police.uk rows by their Crime type, other
    rows by their offence group."""
    # Grouped on the stored columns first (one cheap hash pass), then worded: formatting a month per
    # row doubled the cost on a million rows.
    return con.execute(f"""
        WITH g AS (
            SELECT source, falls_within, month, CASE WHEN source = 'police-uk' THEN offence END AS offence,
                   offence_group, count(*) AS n
            FROM incidents GROUP BY ALL)
        SELECT {force_expr()} AS force, strftime(month, '%Y-%m') AS month, COALESCE(offence, offence_group) AS crime_type,
               sum(n)::BIGINT AS count
        FROM g GROUP BY 1, 2, 3""").df()


def replace_quality(con, flags: pd.DataFrame, gaps: pd.DataFrame) -> None:
    """Swap both tables' contents in one transaction (the tables are in the store's schema:
    database.SCHEMA, created by every connection that can write)."""
    _flags, _gaps = flags[FLAG_COLUMNS], gaps[GAP_COLUMNS]  # noqa: F841 - read by name in the SQL below
    with transaction(con):
        con.execute("DELETE FROM quality_flags")
        con.execute("DELETE FROM coverage_gaps")
        con.execute("INSERT INTO quality_flags SELECT * FROM _flags")
        con.execute("INSERT INTO coverage_gaps SELECT * FROM _gaps")


def read_quality(con) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(flags, gaps) as stored; empty frames for a store made before these tables existed."""
    from hotspot_engine.store.query import table_names

    if not {"quality_flags", "coverage_gaps"} <= table_names(con):
        return pd.DataFrame(columns=FLAG_COLUMNS), pd.DataFrame(columns=GAP_COLUMNS)
    flags = con.execute("SELECT * FROM quality_flags ORDER BY month, force, abs(ln(ratio)) DESC").df()
    gaps = con.execute("SELECT * FROM coverage_gaps ORDER BY force, month").df()
    return flags, gaps


#: The force-months ``[quality] exclude_flagged_months`` leaves out: flagged or partial. One text for
#: the rows' WHERE clause (:func:`excluded_months_sql`) and the months' look-up (:func:`left_out_months`).
LEFT_OUT_SQL = ("SELECT force, month FROM quality_flags UNION ALL SELECT force, month FROM coverage_gaps "
                "WHERE status = 'partial'")


def excluded_months_sql(alias: str = "i") -> str:
    """A WHERE clause leaving out the rows of flagged or partial force-months (the store must hold the
    tables: any connection that can write creates them, so a store made before them needs one ingest
    or one start of the app before read-only commands can leave months out)."""
    return (f"NOT EXISTS (SELECT 1 FROM ({LEFT_OUT_SQL}) q WHERE q.month = strftime({alias}.month, '%Y-%m') "
            f"AND q.force = {force_expr(alias)})")


def forces_in(con, filters: Filters, share: float = 0.01) -> set[str]:
    """The forces (as :func:`force_expr` names them) holding at least ``share`` of the incidents in the
    filters' places, whatever their months and offences. The share leaves out rows a force records
    just over its border (Durham's 9 rows in Middlesbrough against Cleveland's 31,941)."""
    from hotspot_engine.store.query import where_incidents

    where, params = where_incidents(Filters(districts=filters.districts, csps=filters.csps))
    rows = con.execute(f"SELECT {force_expr('i')}, count(*) FROM incidents i WHERE {where} GROUP BY 1", params).fetchall()
    total = sum(n for _, n in rows)
    return {force for force, n in rows if n >= share * total}


def missing_months(con, first: str, last: str) -> pd.DataFrame:
    """force, month of the force-months missing from ``first`` to ``last`` (coverage gaps): one
    look-up: `force_gaps` costs a ``hotspots`` run on a store without gaps 1.3 ms of CPU."""
    import duckdb

    try:  # fetched as rows, with no look-up of the table list first: 2.5 -> 1.3 ms
        rows = con.execute("SELECT force, month FROM coverage_gaps WHERE status = 'missing' AND month BETWEEN ? AND ? "
                           "ORDER BY force, month", [first, last]).fetchall()
    except duckdb.CatalogException:  # a store made before the quality tables
        rows = []
    return pd.DataFrame(rows, columns=["force", "month"])


def left_out_months(con, first: str, last: str) -> pd.DataFrame:
    """force, month of the flagged or partial force-months from ``first`` to ``last``: those whose rows
    :func:`excluded_months_sql` leaves out (an empty frame for a store made before the quality tables)."""
    import duckdb

    try:
        rows = con.execute(f"SELECT DISTINCT force, month FROM ({LEFT_OUT_SQL}) WHERE month BETWEEN ? AND ? "
                           "ORDER BY force, month", [first, last]).fetchall()
    except duckdb.CatalogException:
        rows = []
    return pd.DataFrame(rows, columns=["force", "month"])


def district_forces(con) -> pd.DataFrame:
    """district, force: the force (as :func:`force_expr` names it) holding most of each district's
    incidents, whatever their months and offences (ties: the force first by name). A study cell's
    force is its district's: a force's few rows over its border (Durham's 9 in Middlesbrough against
    Cleveland's 31,941) do not make the district its own."""
    return con.execute(f"""
        SELECT district, force FROM (
            SELECT district, force, row_number() OVER (PARTITION BY district ORDER BY n DESC, force) AS k
            FROM (SELECT district, {force_expr()} AS force, count(*) AS n FROM incidents
                  WHERE district IS NOT NULL GROUP BY 1, 2))
        WHERE k = 1 ORDER BY district""").df()
