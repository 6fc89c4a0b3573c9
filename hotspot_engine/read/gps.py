"""GPS pings to patrol visits.

A visit is a run of consecutive pings from one callsign that stay in the same H3 cell, with no gap
between pings longer than a threshold. Its minutes are the time from the first to the last ping, so
a single ping gives a visit of 0 minutes: presence is recorded, time is not invented.

These per-cell runs are what the store keeps (a cell is a fixed place; hotspot areas change with
the period and method). Dosage joins a callsign's consecutive runs inside one hotspot AREA into one
visit (:func:`hotspot_engine.analyse.dosage.merge_area_visits`): cut per cell, a 16-minute walk
through a 3-cell hotspot counted as visits of 5, 5 and 4 minutes.

Pure: a frame of pings in, a frame of visits out; no store, no files.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

DEFAULT_GAP_MINUTES = 5.0
DEFAULT_RES = 9

VISIT_COLUMNS = ["patrol_id", "source", "start", "end", "minutes", "hotspot_ref", "lat", "lon", "district", "unit", "pings"]


def pings_to_visits(
    pings: pd.DataFrame, gap_minutes: float = DEFAULT_GAP_MINUTES, res: int = DEFAULT_RES
) -> pd.DataFrame:
    """Turn pings (callsign, timestamp, lat, lon[, district]) into visits.

    Returns one row per visit with ``VISIT_COLUMNS``: ``patrol_id`` is
    ``gps-<callsign>-<start ISO>``, ``source`` is ``gps``, ``lat``/``lon`` are the centre of the
    visit's cell at ``res`` (so the visit maps back to exactly that cell), ``unit`` the callsign,
    ``pings`` how many pings the visit holds. ``district`` is taken from the first ping when the
    input carries one. Pings must already be valid (finite coordinates, parsed timestamps).
    """
    from hotspot_engine.reference.geography import cell_centres, cells_for_points

    if pings.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in VISIT_COLUMNS})
    frame = pd.DataFrame(
        {
            "callsign": pings["callsign"].astype(str).to_numpy(),
            "timestamp": pd.to_datetime(pings["timestamp"]).to_numpy(),
            "cell": cells_for_points(pings["lat"].to_numpy(float), pings["lon"].to_numpy(float), res),
            "district": pings["district"].to_numpy(object) if "district" in pings else np.full(len(pings), None, object),
        }
    )
    frame = frame.sort_values(["callsign", "timestamp"], kind="stable").reset_index(drop=True)
    same_unit = frame["callsign"].eq(frame["callsign"].shift())
    same_cell = frame["cell"].eq(frame["cell"].shift())
    gap = frame["timestamp"].diff() <= pd.Timedelta(minutes=gap_minutes)
    visit = (~(same_unit & same_cell & gap)).cumsum()
    grouped = frame.groupby(visit, sort=True)
    visits = grouped.agg(
        unit=("callsign", "first"),
        start=("timestamp", "min"),
        end=("timestamp", "max"),
        cell=("cell", "first"),
        district=("district", "first"),
        pings=("timestamp", "size"),
    ).reset_index(drop=True)
    lat, lon = cell_centres(visits["cell"].to_numpy(np.uint64))
    visits["lat"] = np.asarray(lat, dtype=float)
    visits["lon"] = np.asarray(lon, dtype=float)
    visits["minutes"] = (visits["end"] - visits["start"]).dt.total_seconds() / 60.0
    visits["patrol_id"] = "gps-" + visits["unit"].astype(str) + "-" + visits["start"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    visits["source"] = "gps"
    visits["hotspot_ref"] = None
    return visits[VISIT_COLUMNS]
