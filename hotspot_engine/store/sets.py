"""Adopted hotspot sets in the store: one row per set in ``hotspot_sets``, one row per hotspot cell in
``hotspot_set_cells``.

A set is a record of a decision, not a cache: it is written once, in one transaction, and never
updated (``--replace`` deletes the old rows and writes new ones in the same transaction). Nothing is
recomputed on read: the cells, ids, numbers and names come back exactly as they were adopted, whatever
data or method the store holds since. Filters and parameters are kept as JSON text so that a newer
method with other parameters still reads old sets.
"""
from __future__ import annotations

import pandas as pd

from hotspot_engine.store.transaction import transaction

DDL = """
CREATE TABLE IF NOT EXISTS hotspot_sets (
    name VARCHAR NOT NULL, adopted_at TIMESTAMP NOT NULL, adopted_by VARCHAR, note VARCHAR,
    method VARCHAR, params VARCHAR, filters VARCHAR, window_from VARCHAR, window_to VARCHAR,
    res INTEGER, hotspots INTEGER, cells INTEGER);
CREATE TABLE IF NOT EXISTS hotspot_set_cells (
    set_name VARCHAR NOT NULL, h3 VARCHAR NOT NULL, hotspot_id VARCHAR NOT NULL, hotspot_number INTEGER NOT NULL,
    hotspot_name VARCHAR, district VARCHAR, csp VARCHAR, lat DOUBLE, lon DOUBLE);
ALTER TABLE hotspot_sets ADD COLUMN IF NOT EXISTS significance VARCHAR;
ALTER TABLE hotspot_set_cells ADD COLUMN IF NOT EXISTS significant BOOLEAN;
ALTER TABLE hotspot_set_cells ADD COLUMN IF NOT EXISTS hotspot_predicted DOUBLE;
"""
# ``significance`` (what the chance test meant when the set was adopted) and ``significant`` (each
# cell's hotspot stood out from its surroundings beyond chance) came after the first sets: a store
# made before holds NULL there, which reads as "not recorded", never as "not significant". A store
# opened read-only is not migrated, so reads ask only for the columns it has (``_present``).
# ``hotspot_predicted`` (the hotspot's predicted rate a month when adopted, repeated on each of its
# cells; the set keeps no per-hotspot table) came later still: NULL reads as "not recorded", never 0,
# and is never recomputed on read (the briefings of a set showed no rate at all before).
SET_COLUMNS = ["name", "adopted_at", "adopted_by", "note", "method", "params", "filters", "window_from",
               "window_to", "res", "hotspots", "cells", "significance"]
CELL_COLUMNS = ["h3", "hotspot_id", "hotspot_number", "hotspot_name", "district", "csp", "lat", "lon", "significant",
                "hotspot_predicted"]
LATER_COLUMNS = {"hotspot_sets": ("significance",), "hotspot_set_cells": ("significant", "hotspot_predicted")}


def _present(con, table: str, columns: list[str]) -> str:
    """``columns`` as a SELECT list, with NULL for a later column the store does not have yet."""
    later = [c for c in LATER_COLUMNS[table] if c in columns]
    have = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                                      [table]).fetchall()} if later else set()
    return ", ".join(c if c not in later or c in have else f"NULL AS {c}" for c in columns)


def has_tables(con) -> bool:
    """False on a read-only store made before sets existed (opening it read-write adds the tables)."""
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'hotspot_sets'").fetchall()[0][0])


def exists(con, name: str) -> bool:
    return has_tables(con) and bool(con.execute(
        "SELECT count(*) FROM hotspot_sets WHERE name = ?", [name]).fetchall()[0][0])


def write_set(con, row: dict, cells: pd.DataFrame, replace: bool) -> None:
    """Write one set (``row``: the SET_COLUMNS values; ``cells``: CELL_COLUMNS) in one transaction,
    first deleting a set of the same name when ``replace``."""
    _set_cells = cells.reindex(columns=CELL_COLUMNS).assign(set_name=row["name"])[["set_name", *CELL_COLUMNS]]  # noqa: F841
    with transaction(con):
        if replace:
            con.execute("DELETE FROM hotspot_set_cells WHERE set_name = ?", [row["name"]])
            con.execute("DELETE FROM hotspot_sets WHERE name = ?", [row["name"]])
        con.execute(f"INSERT INTO hotspot_sets ({', '.join(SET_COLUMNS)}) VALUES ({', '.join('?' * len(SET_COLUMNS))})",
                    [row.get(c) for c in SET_COLUMNS])
        con.execute(f"INSERT INTO hotspot_set_cells (set_name, {', '.join(CELL_COLUMNS)}) SELECT * FROM _set_cells")


def set_rows(con) -> pd.DataFrame:
    """Every set's row, newest first (ties: by name)."""
    if not has_tables(con):
        return pd.DataFrame(columns=SET_COLUMNS)
    return con.execute(f"SELECT {_present(con, 'hotspot_sets', SET_COLUMNS)} FROM hotspot_sets "
                       "ORDER BY adopted_at DESC, name").df()


def set_row(con, name: str | None) -> dict | None:
    """One set's row (the newest when ``name`` is None), or None."""
    if not has_tables(con):
        return None
    sql = f"SELECT {_present(con, 'hotspot_sets', SET_COLUMNS)} FROM hotspot_sets"
    frame = (con.execute(sql + " WHERE name = ?", [name]) if name is not None
             else con.execute(sql + " ORDER BY adopted_at DESC, name LIMIT 1")).df()
    return frame.iloc[0].to_dict() if len(frame) else None


def set_cells(con, name: str) -> pd.DataFrame:
    """The set's cells, by hotspot number then cell."""
    return con.execute(f"SELECT {_present(con, 'hotspot_set_cells', CELL_COLUMNS)} FROM hotspot_set_cells WHERE set_name = ? "
                       "ORDER BY hotspot_number, h3", [name]).df()


def version(con) -> str:
    """Changes whenever a set is adopted or replaced (cached pages key on it)."""
    if not has_tables(con):
        return "0"
    count, latest, digest = con.execute(
        "SELECT count(*), max(adopted_at), hash(string_agg(name || '|' || CAST(adopted_at AS VARCHAR) || '|' || "
        "CAST(cells AS VARCHAR) || '|' || COALESCE(note, ''), ',' ORDER BY name)) FROM hotspot_sets").fetchall()[0]
    return f"{count}|{latest}|{digest}"


def delete_adopted_by(con, adopted_by: str) -> int:
    """Delete the sets adopted by ``adopted_by`` (only the built-in sample's own set is ever deleted)."""
    if not has_tables(con):
        return 0
    names = [r[0] for r in con.execute("SELECT name FROM hotspot_sets WHERE adopted_by = ?", [adopted_by]).fetchall()]
    with transaction(con):
        for name in names:
            con.execute("DELETE FROM hotspot_set_cells WHERE set_name = ?", [name])
            con.execute("DELETE FROM hotspot_sets WHERE name = ?", [name])
    return len(names)
