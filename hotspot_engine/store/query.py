"""Filters -> SQL over the store -> aggregated frames. Pandas only ever holds aggregated rows here,
except :func:`incident_rows`, which exists for exports.

All functions take an open DuckDB connection and a :class:`~hotspot_engine.filters.Filters`.
H3 cells come back as ``uint64`` in column ``h3`` (use ``geography.cell_to_str`` for hex ids).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hotspot_engine.filters import Filters, shift_month
from hotspot_engine.reference.geography import csp_lookup, district_names, districts_for
from hotspot_engine.reference.offences import SV_GROUPS, load_harm_weights, resolve_group


def _register_lookups(con, harm_weights: str | Path | None = None) -> None:
    """Editable lookups are joined at query time, so an edited CSV applies without a reload."""
    con.register("csp_lookup", csp_lookup()[["district", "csp"]])
    con.register("harm_weights", load_harm_weights(harm_weights))


def month_date(month: str) -> str:
    return f"{month}-01"


def where_incidents(filters: Filters, alias: str = "i") -> tuple[str, list]:
    """SQL WHERE clause (without the keyword) and its parameters for the incident filters."""
    clauses: list[str] = ["TRUE"]
    params: list = []
    if filters.date_from:
        clauses.append(f"{alias}.month >= CAST(? AS DATE)")
        params.append(month_date(filters.date_from))
    if filters.date_to:
        clauses.append(f"{alias}.month <= CAST(? AS DATE)")
        params.append(month_date(filters.date_to))
    if filters.districts or filters.csps:
        selected = districts_for(filters.districts, filters.csps)
        clauses.append(f"{alias}.district IN (SELECT unnest(?))")
        params.append(selected or ["<none>"])
    if filters.offences:
        clauses.append(f"{alias}.offence_group IN (SELECT unnest(?))")
        params.append([resolve_group(o) for o in filters.offences])
    if filters.sv_only:
        clauses.append(f"{alias}.sv_category IS NOT NULL")
    if filters.exclude_flagged:
        from hotspot_engine.store.quality import excluded_months_sql

        clauses.append(excluded_months_sql(alias))
    return " AND ".join(clauses), params


def _fetch(con, sql: str, params: list) -> pd.DataFrame:
    return con.execute(sql, params).df()


def _fetch_through_arrow(con, sql: str, params: list) -> pd.DataFrame:
    """:func:`_fetch`'s frame by way of an Arrow table, for results of text and integers: DuckDB's
    ``.df()`` makes a Python string per text value and pandas turns them back into Arrow, where
    Arrow's own conversion keeps the buffers (cell_locations on the 1M store, 146,067 rows: 0.035
    against 0.060 s CPU; the same dtypes and values). A NULL in an integer column would come back as
    float64 (``.df()`` gives a nullable integer): such a result is fetched by :func:`_fetch` instead."""
    import pyarrow as pa

    table = con.sql(sql, params=params).to_arrow_table()
    if any(pa.types.is_integer(column.type) and column.null_count for column in table.columns):
        return _fetch(con, sql, params)
    return table.to_pandas()


def incident_rows(con, filters: Filters, harm_weights: str | Path | None = None) -> pd.DataFrame:
    """Every stored incident row that passes the filters, with csp, harm and the cell at filters.res
    (uint64 column ``h3``). For exports and the map's point layer; use aggregates elsewhere."""
    _register_lookups(con, harm_weights)
    where, params = where_incidents(filters)
    sql = f"""
        SELECT i.incident_id, strftime(i.month, '%Y-%m') AS month, i.occurred_at, i.lat, i.lon,
               i.offence, i.ho_code, i.knife_flag, i.offence_group, i.sv_category, i.is_proxy,
               i.district, c.csp, i.location, i.lsoa_code, i.lsoa_name, i.falls_within, i.source,
               i.crime_id, COALESCE(w.weight_days, 0) AS harm, i.h3_r{filters.res} AS h3
        FROM incidents i
        LEFT JOIN csp_lookup c ON c.district = i.district
        LEFT JOIN harm_weights w ON w."group" = i.offence_group
        WHERE {where}
        ORDER BY i.month, i.incident_id"""
    return _fetch(con, sql, params)


def cell_counts(con, filters: Filters, harm_weights: str | Path | None = None) -> pd.DataFrame:
    """Columns h3, count, harm, harm_sq (sum of squared weights, for the harm test's scale): one row
    per cell with at least one incident."""
    _register_lookups(con, harm_weights)
    where, params = where_incidents(filters)
    sql = f"""
        SELECT i.h3_r{filters.res} AS h3, count(*) AS count, sum(COALESCE(w.weight_days, 0)) AS harm,
               sum(COALESCE(w.weight_days, 0) ^ 2) AS harm_sq
        FROM incidents i LEFT JOIN harm_weights w ON w."group" = i.offence_group
        WHERE {where} GROUP BY 1"""
    return _fetch(con, sql, params)


def cell_incidents(con, filters: Filters) -> pd.DataFrame:
    """Columns h3, count: one row per cell with at least one incident, counts only (the prediction's
    prior needs no harm: 6 ms against 45 ms with the harm join, four real Hampshire months)."""
    where, params = where_incidents(filters)
    return _fetch(con, f"SELECT i.h3_r{filters.res} AS h3, count(*) AS count FROM incidents i WHERE {where} GROUP BY 1", params)


def cell_month_counts(con, filters: Filters, harm_weights: str | Path | None = None) -> pd.DataFrame:
    """Columns h3, month ('YYYY-MM'), count, harm, harm_sq; only non-zero (cell, month) pairs.

    Grouped on the stored month (a date, always the month's first day) and formatted after: text
    made for every incident before grouping cost a third of the query (0.075 -> 0.055 s CPU for a
    year of 200,000 incidents on the 1M store)."""
    _register_lookups(con, harm_weights)
    where, params = where_incidents(filters)
    sql = f"""
        SELECT h3, strftime(m, '%Y-%m') AS month, count, harm, harm_sq FROM (
            SELECT i.h3_r{filters.res} AS h3, i.month AS m, count(*) AS count,
                   sum(COALESCE(w.weight_days, 0)) AS harm, sum(COALESCE(w.weight_days, 0) ^ 2) AS harm_sq
            FROM incidents i LEFT JOIN harm_weights w ON w."group" = i.offence_group
            WHERE {where} GROUP BY 1, 2)"""
    return _fetch(con, sql, params)


def cell_week_counts(con, filters: Filters, harm_weights: str | Path | None = None) -> pd.DataFrame:
    """Columns h3, week ('YYYY-MM-DD' of the ISO week's Monday), count, harm; only non-zero
    (cell, week) pairs. Rows without ``occurred_at`` (police.uk, month only) cannot be placed in a
    week and are left out: check :func:`has_timestamps` first. The filters' months still select by
    month, so the first and last weeks may be partial."""
    _register_lookups(con, harm_weights)
    where, params = where_incidents(filters)
    sql = f"""
        SELECT i.h3_r{filters.res} AS h3, strftime(date_trunc('week', i.occurred_at), '%Y-%m-%d') AS week,
               count(*) AS count, sum(COALESCE(w.weight_days, 0)) AS harm
        FROM incidents i LEFT JOIN harm_weights w ON w."group" = i.offence_group
        WHERE {where} AND i.occurred_at IS NOT NULL GROUP BY 1, 2"""
    return _fetch(con, sql, params)


def has_timestamps(con, filters: Filters) -> float:
    """Share (0-1) of the filtered incidents that have an ``occurred_at`` timestamp, so can be put in
    a week; NaN when no incident matches the filters."""
    where, params = where_incidents(filters)
    total, timed = con.execute(
        f"SELECT count(*), count(i.occurred_at) FROM incidents i WHERE {where}", params).fetchall()[0]
    return float(timed) / float(total) if total else float("nan")


def cell_top_locations(con, filters: Filters) -> pd.DataFrame:
    """Columns h3, location, n: the most common location text per cell (for hotspot names)."""
    where, params = where_incidents(filters)
    sql = f"""
        SELECT h3, location, n FROM (
            SELECT i.h3_r{filters.res} AS h3, i.location, count(*) AS n,
                   row_number() OVER (PARTITION BY i.h3_r{filters.res} ORDER BY count(*) DESC, i.location) AS rk
            FROM incidents i WHERE {where} AND i.location IS NOT NULL AND i.location <> ''
            GROUP BY 1, 2)
        WHERE rk = 1"""
    return _fetch(con, sql, params)


def cell_locations(con, filters: Filters) -> pd.DataFrame:
    """Columns h3, location, n: incidents per (cell, location text), every pair (hotspot names
    weigh all of an area's streets, and borrow a street from the cells around a place without one)."""
    where, params = where_incidents(filters)
    sql = f"""
        SELECT i.h3_r{filters.res} AS h3, i.location, count(*) AS n
        FROM incidents i WHERE {where} AND i.location IS NOT NULL AND i.location <> ''
        GROUP BY 1, 2"""
    return _fetch_through_arrow(con, sql, params)


def locations_near_cells(con, filters: Filters, hotspot_cells: pd.DataFrame) -> pd.DataFrame:
    """The incidents' location text in and around each hotspot: columns hotspot_id, street, n, lat,
    lon (mean position: police.uk snap points are one point per street), inside (any of them in the
    hotspot's own cells rather than the ring of cells around it). 'On or near ' is dropped and
    "Jacob'S" read as "Jacob's" (analyse/places.py POSSESSIVE_S)."""
    import h3

    columns = ["hotspot_id", "street", "n", "lat", "lon", "inside"]
    if hotspot_cells.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for hotspot_id, group in hotspot_cells.groupby("hotspot_id", sort=False):
        own = {int(c) for c in group["h3"]}
        ring = {h3.str_to_int(n) for c in own for n in h3.grid_disk(h3.int_to_str(c), 1)}
        rows += [(int(c), hotspot_id, c in own) for c in ring]
    near = pd.DataFrame(rows, columns=["h3", "hotspot_id", "inside"]).astype({"h3": "uint64", "hotspot_id": object})
    where, params = where_incidents(filters)
    con.register("_near_cells", near)
    try:
        frame = con.execute(f"""
            SELECT c.hotspot_id, regexp_replace(regexp_replace(trim(i.location), '^(On or near )', '', 'i'),
                                                '([a-z])([''’])S\\b', '\\1\\2s', 'g') AS street, count(*) AS n,
                   avg(i.lat) AS lat, avg(i.lon) AS lon, bool_or(c.inside) AS inside
            FROM incidents i JOIN _near_cells c ON i.h3_r{filters.res} = c.h3
            WHERE {where} AND i.location IS NOT NULL AND trim(i.location) <> ''
            GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2""", params).df()
    finally:
        con.unregister("_near_cells")
    frame = frame[frame["street"].str.strip() != ""]
    return frame[columns].reset_index(drop=True)


def monthly_counts(con, filters: Filters, by: str | None = None, harm_weights: str | Path | None = None) -> pd.DataFrame:
    """Columns month, [by], count, harm. ``by`` is one of offence_group, district, csp or None."""
    if by not in (None, "offence_group", "district", "csp"):
        raise ValueError(by)
    _register_lookups(con, harm_weights)
    where, params = where_incidents(filters)
    key = {None: "", "offence_group": "i.offence_group", "district": "i.district", "csp": "c.csp"}[by]
    select_key = f", {key} AS {by}" if by else ""
    group = ", 2" if by else ""
    sql = f"""
        SELECT strftime(i.month, '%Y-%m') AS month{select_key}, count(*) AS count,
               sum(COALESCE(w.weight_days, 0)) AS harm
        FROM incidents i
        LEFT JOIN csp_lookup c ON c.district = i.district
        LEFT JOIN harm_weights w ON w."group" = i.offence_group
        WHERE {where} GROUP BY 1{group} ORDER BY 1{group}"""
    return _fetch(con, sql, params)


def stored_months(con) -> set[str]:
    """The months ('YYYY-MM') holding any incident, whatever the filters: a month missing here is a
    month the data does not cover (real police.uk downloads skip years), not a month with a zero."""
    return set(monthly_counts(con, Filters())["month"].astype(str))


def financial_year(start_year: int) -> tuple[str, str]:
    """April to March: financial_year(2023) == ('2023-04', '2024-03')."""
    return f"{start_year}-04", f"{start_year + 1}-03"


def fy_label(start_year: int) -> str:
    return f"{start_year}-{(start_year + 1) % 100:02d}"


@dataclass(frozen=True)
class Extent:
    incidents: int
    patrols: int
    first_month: str | None
    last_month: str | None
    sources: tuple[str, ...]
    proxy_share: float  # share of incidents classified from police.uk broad types
    first_patrol: str | None  # 'YYYY-MM-DD'


def extent(con) -> Extent:
    row = con.execute(
        "SELECT count(*), strftime(min(month), '%Y-%m'), strftime(max(month), '%Y-%m'), "
        "COALESCE(avg(CASE WHEN is_proxy THEN 1 ELSE 0 END), 0) FROM incidents"
    ).fetchall()[0]
    sources = tuple(r[0] for r in con.execute("SELECT DISTINCT source FROM incidents ORDER BY 1").fetchall())
    prow = con.execute("SELECT count(*), strftime(min(start), '%Y-%m-%d') FROM patrols").fetchall()[0]
    return Extent(int(row[0]), int(prow[0]), row[1], row[2], sources, float(row[3]), prow[1])


def where_patrols(filters: Filters, alias: str = "p") -> tuple[str, list]:
    """Patrols filter by start time and district only: offence filters do not apply to them."""
    clauses: list[str] = ["TRUE"]
    params: list = []
    if filters.date_from:
        clauses.append(f"{alias}.start >= CAST(? AS TIMESTAMP)")
        params.append(month_date(filters.date_from))
    if filters.date_to:
        clauses.append(f"{alias}.start < CAST(? AS TIMESTAMP)")
        params.append(month_date(shift_month(filters.date_to, 1)))
    if filters.districts or filters.csps:
        clauses.append(f"{alias}.district IN (SELECT unnest(?))")
        params.append(districts_for(filters.districts, filters.csps) or ["<none>"])
    return " AND ".join(clauses), params


def patrol_cell_counts(con, filters: Filters) -> pd.DataFrame:
    """Columns h3, patrols, patrol_minutes over the filters' date window and districts."""
    where, params = where_patrols(filters)
    sql = f"""
        SELECT p.h3_r{filters.res} AS h3, count(*) AS patrols, sum(p.minutes) AS patrol_minutes
        FROM patrols p WHERE {where} AND p.h3_r{filters.res} IS NOT NULL GROUP BY 1"""
    return _fetch(con, sql, params)


def patrol_rows(con, filters: Filters) -> pd.DataFrame:
    """Every patrol in the filters' window and districts, with the cell at filters.res as ``h3``."""
    where, params = where_patrols(filters)
    _register_lookups(con)
    sql = f"""
        SELECT p.patrol_id, p.source, p.start, p."end", p.minutes, p.hotspot_ref, p.lat, p.lon,
               p.district, c.csp, p.unit, p.h3_r{filters.res} AS h3
        FROM patrols p LEFT JOIN csp_lookup c ON c.district = p.district
        WHERE {where} ORDER BY p.start, p.patrol_id"""
    return _fetch(con, sql, params)



def source_ranges(con) -> list[dict]:
    """Per incident and patrol source: its first and last month or day and its rows (the methods
    sidecar's provenance)."""
    rows = con.execute(
        "SELECT source, strftime(min(month), '%Y-%m'), strftime(max(month), '%Y-%m'), count(*) "
        "FROM incidents GROUP BY 1 ORDER BY 1"
    ).fetchall()
    out = [{"kind": "incidents", "source": r[0], "first": r[1], "last": r[2], "rows": int(r[3])} for r in rows]
    rows = con.execute(
        "SELECT source, strftime(min(start), '%Y-%m-%d'), strftime(max(start), '%Y-%m-%d'), count(*) "
        "FROM patrols GROUP BY 1 ORDER BY 1"
    ).fetchall()
    return out + [{"kind": "patrols", "source": r[0], "first": r[1], "last": r[2], "rows": int(r[3])} for r in rows]


def load_log(con) -> list[dict]:
    """Every loaded file: its name (never a full path), sha256, format, kind, time and counts."""
    from pathlib import Path as _Path

    return [
        {"file": _Path(str(r[0] or "")).name, "sha256": r[1], "format": r[2], "kind": r[3], "loaded_at": str(r[4]),
         "rows_read": r[5], "added": r[6]}
        for r in con.execute(
            "SELECT file, sha256, format, kind, loaded_at, rows_read, added FROM loads ORDER BY load_id"
        ).fetchall()
    ]


def table_names(con) -> set[str]:
    """The tables the store holds (older stores lack the newer tables)."""
    return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def incident_lsoa_names(con) -> list[tuple[str, str]]:
    """Distinct (LSOA code, LSOA name) pairs the stored incidents carry (police.uk's own codes)."""
    return con.execute("SELECT DISTINCT lsoa_code, lsoa_name FROM incidents WHERE lsoa_code IS NOT NULL "
                       "AND lsoa_name IS NOT NULL").fetchall()

__all__ = [
    "incident_lsoa_names",
    "load_log",
    "source_ranges",
    "table_names",
    "SV_GROUPS",
    "district_names",
    "incident_rows",
    "cell_counts",
    "cell_month_counts",
    "cell_top_locations",
    "cell_locations",
    "locations_near_cells",
    "monthly_counts",
    "financial_year",
    "fy_label",
    "extent",
    "patrol_cell_counts",
    "patrol_rows",
    "where_incidents",
    "where_patrols",
]


# -- hotspot cells, the store's own bookkeeping --------------------------------------------------

def _with_cells(con, name: str, cells: pd.DataFrame, sql: str, params: list) -> pd.DataFrame:
    """Run ``sql`` with ``cells`` registered as the view ``name`` (dropped afterwards)."""
    con.register(name, cells)
    try:
        return con.execute(sql, params).df()
    finally:
        con.unregister(name)


def count_in_cells(con, filters: Filters, cells: np.ndarray) -> int:
    """Incidents matching the filters inside the given H3 cells (uint64 ids at ``filters.res``)."""
    if cells.size == 0:
        return 0
    where, params = where_incidents(filters)
    frame = _with_cells(con, "_hot_cells", pd.DataFrame({"h3": cells.astype(np.uint64)}),
                        f"SELECT count(*) AS n FROM incidents i WHERE {where} "
                        f"AND i.h3_r{filters.res} IN (SELECT h3 FROM _hot_cells)", params)
    return int(frame["n"].iloc[0])


def patrols_in_cells(con, filters: Filters, cells: np.ndarray) -> tuple[int, float]:
    """(patrols, patrol minutes) of hotspot patrols matching the filters, counted as the annual report
    counted them: patrols logged against a hotspot (a ``hotspot_ref``), plus unlogged ones whose
    position falls in the given cells (GPS). A logged patrol positioned just outside the measured
    area counts here; the Patrols page's dosage goes by position (analyse/dosage.py)."""
    if cells.size == 0:
        return 0, 0.0
    where, params = where_patrols(filters)
    frame = _with_cells(con, "_hot_cells", pd.DataFrame({"h3": cells.astype(np.uint64)}),
                        f"SELECT count(*) AS n, COALESCE(sum(p.minutes), 0) AS minutes FROM patrols p WHERE {where} "
                        f"AND (COALESCE(trim(p.hotspot_ref), '') <> '' "
                        f"OR p.h3_r{filters.res} IN (SELECT h3 FROM _hot_cells))", params)
    return int(frame["n"].iloc[0]), float(frame["minutes"].iloc[0])


def incidents_by_hotspot_hour(con, filters: Filters, hotspot_cells: pd.DataFrame, harm_weights=None) -> pd.DataFrame:
    """Incidents in the hotspot cells aggregated by hotspot, day and hour (NULL day/hour for
    month-only records): columns hotspot_id, day, hour, count, harm."""
    if hotspot_cells.empty:
        return pd.DataFrame({"hotspot_id": pd.Series(dtype=object), "day": pd.Series(dtype="datetime64[ns]"),
                             "hour": pd.Series(dtype=float), "count": pd.Series(dtype=int), "harm": pd.Series(dtype=float)})
    _register_lookups(con, harm_weights)
    where, params = where_incidents(filters)
    frame = _with_cells(con, "_patrol_hot_cells",
                        hotspot_cells[["h3", "hotspot_id"]].assign(h3=hotspot_cells["h3"].astype(np.uint64)), f"""
            SELECT c.hotspot_id, CAST(i.occurred_at AS DATE) AS day, hour(i.occurred_at) AS hour, count(*) AS count,
                   sum(COALESCE(w.weight_days, 0)) AS harm
            FROM incidents i JOIN _patrol_hot_cells c ON i.h3_r{filters.res} = c.h3
            LEFT JOIN harm_weights w ON w."group" = i.offence_group
            WHERE {where} GROUP BY 1, 2, 3""", params)
    frame["hotspot_id"] = frame["hotspot_id"].astype(object)
    frame["day"] = pd.to_datetime(frame["day"])
    return frame


def data_version(con) -> int:
    """The id of the latest load: changes whenever a load lands, so cached results keyed on it are
    never stale after an upload."""
    return int(con.execute("SELECT COALESCE(max(load_id), 0) FROM loads").fetchall()[0][0])


def holds_synthetic_sample(con) -> bool:
    """True when the store holds the built-in synthetic sample's incidents (ids HIPS-SYN-...)."""
    rows = con.execute("SELECT count(*) FROM loads WHERE file LIKE '%incidents.csv' AND notes LIKE '%HIPS-SYN%'").fetchall()
    if rows[0][0]:
        return True
    return bool(con.execute(
        "SELECT count(*) FROM (SELECT 1 FROM incidents WHERE incident_id LIKE 'HIPS-SYN-%' LIMIT 1)").fetchall()[0][0])


def sample_incident_count(con) -> int:
    """How many stored incidents are the built-in synthetic sample's (ids HIPS-SYN-...)."""
    return int(con.execute("SELECT count(*) FROM incidents WHERE starts_with(incident_id, 'HIPS-SYN-')").fetchall()[0][0])


def load_rows(con) -> pd.DataFrame:
    """One row per load, newest first (file name, format, kind, counts)."""
    return con.execute("SELECT load_id, file, format, kind, loaded_at, rows_read, added, already_present, rejected "
                       "FROM loads ORDER BY load_id DESC").df()


def reject_rows(con, every_column: bool = False) -> pd.DataFrame:
    """Rejected rows in load and row order: load, file, row, column and reason (every stored column
    with ``every_column``, for the data manager's download)."""
    columns = "*" if every_column else 'load_id, file, "row", "column", reason'
    return con.execute(f'SELECT {columns} FROM rejects ORDER BY load_id, "row"').df()


def last_patrol_day(con):
    """The day of the latest patrol start in the store (a ``date``), or None without patrols."""
    value = con.execute("SELECT max(start) FROM patrols").fetchall()[0][0]
    return None if value is None else value.date()
