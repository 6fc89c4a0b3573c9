"""Trial schedules in the store: one row per adopted schedule in ``trial_schedules``, one row per
hotspot-day in ``trial_schedule_days``.

A schedule is a decision a user adopts (like a hotspot set): written once in one transaction, read
back exactly, never remade from today's data or code. The design (seed, blocks, washout) and the
power figures shown when it was adopted are kept as JSON text beside it, so the protocol can be
printed again as it was.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from hotspot_engine.store.transaction import transaction

DDL = """
CREATE TABLE IF NOT EXISTS trial_schedules (
    name VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, created_by VARCHAR, set_name VARCHAR NOT NULL,
    start DATE NOT NULL, days INTEGER NOT NULL, design VARCHAR, power VARCHAR, note VARCHAR);
CREATE TABLE IF NOT EXISTS trial_schedule_days (
    schedule_name VARCHAR NOT NULL, hotspot_id VARCHAR NOT NULL, hotspot_name VARCHAR, date DATE NOT NULL,
    arm VARCHAR NOT NULL, washout BOOLEAN NOT NULL);
"""
SCHEDULE_COLUMNS = ["name", "created_at", "created_by", "set_name", "start", "days", "design", "power", "note"]
DAY_COLUMNS = ["hotspot_id", "hotspot_name", "date", "arm", "washout"]


def has_tables(con) -> bool:
    """False on a read-only store made before trials existed."""
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'trial_schedules'").fetchall()[0][0])


def exists(con, name: str) -> bool:
    return has_tables(con) and bool(con.execute(
        "SELECT count(*) FROM trial_schedules WHERE name = ?", [name]).fetchall()[0][0])


def write_schedule(con, row: dict, days: pd.DataFrame, replace: bool) -> None:
    """Write one schedule and its days in one transaction (deleting a same-named one if ``replace``)."""
    _trial_days = days[DAY_COLUMNS].assign(schedule_name=row["name"])[["schedule_name", *DAY_COLUMNS]]  # noqa: F841
    with transaction(con):
        if replace:
            con.execute("DELETE FROM trial_schedule_days WHERE schedule_name = ?", [row["name"]])
            con.execute("DELETE FROM trial_schedules WHERE name = ?", [row["name"]])
        con.execute(f"INSERT INTO trial_schedules ({', '.join(SCHEDULE_COLUMNS)}) "
                    f"VALUES ({', '.join('?' * len(SCHEDULE_COLUMNS))})", [row[c] for c in SCHEDULE_COLUMNS])
        con.execute("INSERT INTO trial_schedule_days SELECT * FROM _trial_days")


def delete_created_by(con, who: str) -> int:
    """Delete every schedule stored by ``who`` (and its days) in one transaction; returns how many."""
    if not has_tables(con):
        return 0
    names = [r[0] for r in con.execute("SELECT name FROM trial_schedules WHERE created_by = ?", [who]).fetchall()]
    with transaction(con):
        for name in names:
            con.execute("DELETE FROM trial_schedule_days WHERE schedule_name = ?", [name])
        con.execute("DELETE FROM trial_schedules WHERE created_by = ?", [who])
    return len(names)


def schedule_rows(con) -> pd.DataFrame:
    """Every schedule's row, newest first."""
    if not has_tables(con):
        return pd.DataFrame(columns=SCHEDULE_COLUMNS)
    return con.execute(f"SELECT {', '.join(SCHEDULE_COLUMNS)} FROM trial_schedules "
                       "ORDER BY created_at DESC, name").df()


def schedule_row(con, name: str | None) -> dict | None:
    """One schedule's row (the newest when ``name`` is None), or None."""
    rows = schedule_rows(con)
    if name is not None:
        rows = rows[rows["name"] == name]
    return rows.iloc[0].to_dict() if len(rows) else None


def schedule_days(con, name: str) -> pd.DataFrame:
    return con.execute(f"SELECT {', '.join(DAY_COLUMNS)} FROM trial_schedule_days WHERE schedule_name = ? "
                       "ORDER BY hotspot_id, date", [name]).df()


def timed_incidents(con, where: str, params: list, res: int, cells: pd.DataFrame) -> pd.DataFrame:
    """hotspot_id, occurred_at of the incidents with a time inside the given cells (h3 uint64,
    hotspot_id), for residual deterrence; ``where``/``params`` from ``query.where_incidents``."""
    con.register("_trial_cells", cells[["h3", "hotspot_id"]].assign(h3=cells["h3"].astype(np.uint64)))
    try:
        return con.execute(f"""
            SELECT c.hotspot_id, i.occurred_at FROM incidents i JOIN _trial_cells c ON i.h3_r{res} = c.h3
            WHERE {where} AND i.occurred_at IS NOT NULL ORDER BY i.occurred_at""", params).df()
    finally:
        con.unregister("_trial_cells")


def last_dated_day(con):
    """The last day any stored incident carries a date (None when none has one)."""
    value = con.execute("SELECT CAST(max(occurred_at) AS DATE) FROM incidents").fetchall()[0][0]
    return value
