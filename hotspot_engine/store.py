"""The embedded DuckDB store shared by the app and the command line.

Tables: ``incidents``, ``patrols``, ``rejects`` and ``loads``. H3 cells at every supported
resolution are computed once, at load, and stored as UBIGINT. The CSP lookup and the harm weights
are *not* stored with the rows: they are editable data files, joined at query time, so editing
``geodata/district_csp.csv`` or the weight table takes effect without reloading anything.

Every load runs in one transaction: an interrupted load leaves the store as it was.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from .errors import InputError
from .filters import MAX_RES, MIN_RES

DEFAULT_DB = Path(os.environ.get("HOTSPOT_DB", "data/hotspot.duckdb"))
RESOLUTIONS = tuple(range(MIN_RES, MAX_RES + 1))
H3_COLUMNS = tuple(f"h3_r{r}" for r in RESOLUTIONS)

INCIDENT_COLUMNS: dict[str, str] = {
    "incident_id": "VARCHAR PRIMARY KEY",
    "source": "VARCHAR NOT NULL",  # sample | force | police-uk
    "crime_id": "VARCHAR",
    "month": "DATE NOT NULL",  # first day of the month
    "occurred_at": "TIMESTAMP",  # NULL for police.uk (month only)
    "lat": "DOUBLE NOT NULL",
    "lon": "DOUBLE NOT NULL",
    "offence": "VARCHAR",
    "ho_code": "VARCHAR",
    "knife_flag": "BOOLEAN",
    "offence_group": "VARCHAR NOT NULL",
    "sv_category": "VARCHAR",  # offence_group when it is one of the 8 SV groups, else NULL
    "is_proxy": "BOOLEAN NOT NULL",  # classified from police.uk broad types
    "district": "VARCHAR NOT NULL",
    "location": "VARCHAR",
    "lsoa_code": "VARCHAR",
    "lsoa_name": "VARCHAR",
    "falls_within": "VARCHAR",
    "load_id": "INTEGER",
    **{c: "UBIGINT" for c in H3_COLUMNS},
}
PATROL_COLUMNS: dict[str, str] = {
    "patrol_id": "VARCHAR PRIMARY KEY",
    "source": "VARCHAR NOT NULL",  # log | gps
    "start": "TIMESTAMP NOT NULL",
    "end": "TIMESTAMP",
    "minutes": "DOUBLE NOT NULL",
    "hotspot_ref": "VARCHAR",  # the hotspot id the log gave, if any
    "lat": "DOUBLE",
    "lon": "DOUBLE",
    "district": "VARCHAR",
    "unit": "VARCHAR",
    "load_id": "INTEGER",
    **{c: "UBIGINT" for c in H3_COLUMNS},
}
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS incidents ({", ".join(f'"{k}" {v}' for k, v in INCIDENT_COLUMNS.items())});
CREATE TABLE IF NOT EXISTS patrols ({", ".join(f'"{k}" {v}' for k, v in PATROL_COLUMNS.items())});
CREATE SEQUENCE IF NOT EXISTS load_ids START 1;
CREATE TABLE IF NOT EXISTS loads (
    load_id INTEGER PRIMARY KEY, file VARCHAR, sha256 VARCHAR, format VARCHAR, kind VARCHAR,
    loaded_at TIMESTAMP DEFAULT current_timestamp, rows_read BIGINT, added BIGINT,
    already_present BIGINT, rejected BIGINT, notes VARCHAR);
CREATE TABLE IF NOT EXISTS rejects (
    load_id INTEGER, file VARCHAR, "row" BIGINT, "column" VARCHAR, reason VARCHAR, raw VARCHAR);
"""


@dataclass
class LoadSummary:
    """What happened to every row of one file: rows_read = added + already_present + rejected."""

    file: str
    format: str
    rows_read: int
    added: int
    already_present: int
    rejected: int
    reject_reasons: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(self.reject_reasons.items(), key=lambda kv: -kv[1]))
        text = (
            f"{self.file} [{self.format}]: read {self.rows_read}, added {self.added}, "
            f"already present {self.already_present}, rejected {self.rejected}"
        )
        return text + (f" ({reasons})" if reasons else "")

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.added + self.already_present + self.rejected


def connect(path: str | Path | None = None, read_only: bool = False):
    """Open (and create) the store. ``:memory:`` gives a throwaway store for tests."""
    import duckdb

    path = str(path or DEFAULT_DB)
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        if read_only and not Path(path).exists():
            raise InputError(f"{Path(path).name}: no store here yet; run 'ingest' or 'sample' first")
    try:
        con = duckdb.connect(path, read_only=read_only)
    except duckdb.IOException as exc:
        message = str(exc).splitlines()[0]
        if "lock" in message.lower():
            raise InputError(f"{Path(path).name}: the store is in use by another process; try again when it finishes") from None
        raise InputError(f"{Path(path).name}: cannot open the store ({message})") from None
    if not read_only:
        con.execute(SCHEMA)
    return con


def with_h3(frame: pd.DataFrame) -> pd.DataFrame:
    """Add h3_r7..h3_r11 from lat/lon: finest resolution once, parents derived (vectorised)."""
    from .geography import cell_parents, cells_for_points

    finest = cells_for_points(frame["lat"].to_numpy(), frame["lon"].to_numpy(), MAX_RES)
    frame = frame.copy()
    frame[f"h3_r{MAX_RES}"] = finest
    valid = finest != 0
    for res in RESOLUTIONS[:-1]:
        col = np.zeros(len(frame), dtype=np.uint64)
        if valid.any():
            col[valid] = cell_parents(finest[valid], res)
        frame[f"h3_r{res}"] = col
    return frame


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _insert_new(con, table: str, key: str, frame: pd.DataFrame, columns: dict[str, str]) -> int:
    """Insert rows whose key is not yet stored; returns how many were added."""
    if frame.empty:
        return 0
    cols = [c for c in columns if c in frame.columns]
    view = frame[cols]
    con.register("_incoming", view)
    try:
        before = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        col_list = ", ".join(f'"{c}"' for c in cols)
        con.execute(
            f"INSERT INTO {table} ({col_list}) SELECT {col_list} FROM _incoming "
            f"WHERE \"{key}\" NOT IN (SELECT \"{key}\" FROM {table}) QUALIFY row_number() OVER (PARTITION BY \"{key}\") = 1"
        )
        after = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    finally:
        con.unregister("_incoming")
    return int(after - before)


def store_rows(
    con,
    kind: str,
    rows: pd.DataFrame,
    rejects: pd.DataFrame,
    file: str,
    fmt: str,
    sha256: str = "",
    notes: list[str] | None = None,
) -> LoadSummary:
    """Write one file's accepted rows and rejects in a single transaction and log the load.

    ``rows`` must already carry lat/lon, district and (for incidents) offence_group; H3 columns are
    added here. ``rejects`` has columns row, column, reason, raw. Duplicates *within* the file and
    rows already stored both count as already present.
    """
    if kind not in ("incidents", "patrols"):
        raise ValueError(kind)
    key, columns = ("incident_id", INCIDENT_COLUMNS) if kind == "incidents" else ("patrol_id", PATROL_COLUMNS)
    if not rows.empty and "lat" in rows and rows["lat"].notna().any():
        rows = with_h3(rows)
    con.execute("BEGIN TRANSACTION")
    try:
        load_id = con.execute("SELECT nextval('load_ids')").fetchall()[0][0]
        rows = rows.assign(load_id=load_id)
        added = _insert_new(con, kind, key, rows, columns)
        if not rejects.empty:
            rj = rejects.assign(load_id=load_id, file=file)[["load_id", "file", "row", "column", "reason", "raw"]]
            con.register("_rejects", rj)
            con.execute('INSERT INTO rejects SELECT * FROM _rejects')
            con.unregister("_rejects")
        summary = LoadSummary(
            file=file,
            format=fmt,
            rows_read=len(rows) + len(rejects),
            added=added,
            already_present=len(rows) - added,
            rejected=len(rejects),
            reject_reasons=rejects["reason"].value_counts().to_dict() if not rejects.empty else {},
            notes=list(notes or []),
        )
        con.execute(
            "INSERT INTO loads (load_id, file, sha256, format, kind, rows_read, added, already_present, rejected, notes) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [load_id, file, sha256, fmt, kind, summary.rows_read, added, summary.already_present, summary.rejected,
             "; ".join(summary.notes)],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return summary


def table_count(con, table: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def iter_tables() -> Iterator[str]:
    yield from ("incidents", "patrols", "loads", "rejects")
