"""What moved between two lists of hotspots: kept, new and dropped places.

Hotspots are matched by the cells they share, not by id: an id names the area's peak cell, and a
place whose peak moves one cell along the street gets a new id while the team patrols the same
street. A hotspot of the newer list that shares at least one cell with a hotspot of the older list is
*kept* (the match with most shared cells is named); one that shares none is *new*; a hotspot of the
older list that no newer hotspot touches is *dropped*. Both lists must be at the same H3 resolution
(cells of different resolutions never match): :func:`compare` says so instead of reporting every
place as moved.
"""
from __future__ import annotations

import pandas as pd

COLUMNS = ["status", "hotspot_id", "hotspot_number", "hotspot_name", "cells", "shared_cells", "other_id",
           "other_number", "other_name"]
STATUS_ORDER = {"kept": 0, "new": 1, "dropped": 2}


def _per_hotspot(cells: pd.DataFrame) -> pd.DataFrame:
    return (cells.groupby("hotspot_id", sort=False)
            .agg(hotspot_number=("hotspot_number", "first"), hotspot_name=("hotspot_name", "first"),
                 cells=("h3", "nunique"))
            .reset_index())


def compare(older: pd.DataFrame, newer: pd.DataFrame) -> pd.DataFrame:
    """One row per hotspot of either list (COLUMNS). ``older``/``newer``: one row per hotspot cell with
    h3 (text), hotspot_id, hotspot_number, hotspot_name. Kept and new rows describe the newer list's
    hotspot (``other_*``: the older hotspot it overlaps most); dropped rows the older list's."""
    pairs = newer[["h3", "hotspot_id"]].merge(older[["h3", "hotspot_id"]], on="h3", suffixes=("", "_old"))
    shared = pairs.groupby(["hotspot_id", "hotspot_id_old"]).size().rename("shared").reset_index()
    best = shared.sort_values(["shared", "hotspot_id_old"], ascending=[False, True]).drop_duplicates("hotspot_id")
    old, new = _per_hotspot(older), _per_hotspot(newer)
    named = old.set_index("hotspot_id")
    rows = new.merge(best, on="hotspot_id", how="left")
    out = pd.DataFrame({
        "status": ["kept" if pd.notna(o) else "new" for o in rows["hotspot_id_old"]],
        "hotspot_id": rows["hotspot_id"], "hotspot_number": rows["hotspot_number"],
        "hotspot_name": rows["hotspot_name"], "cells": rows["cells"],
        "shared_cells": rows["shared"].fillna(0).astype(int),
        "other_id": rows["hotspot_id_old"],
        "other_number": rows["hotspot_id_old"].map(named["hotspot_number"]),
        "other_name": rows["hotspot_id_old"].map(named["hotspot_name"]),
    })
    gone = old[~old["hotspot_id"].isin(shared["hotspot_id_old"])]
    dropped = pd.DataFrame({"status": "dropped", "hotspot_id": gone["hotspot_id"],
                            "hotspot_number": gone["hotspot_number"], "hotspot_name": gone["hotspot_name"],
                            "cells": gone["cells"], "shared_cells": 0, "other_id": None, "other_number": None,
                            "other_name": None})
    both = pd.concat([out, dropped], ignore_index=True) if len(dropped) else out
    both["other_number"] = pd.to_numeric(both["other_number"], errors="coerce").astype("Int64")
    both["hotspot_number"] = pd.to_numeric(both["hotspot_number"], errors="coerce").astype("Int64")
    order = both["status"].map(STATUS_ORDER)
    return both.assign(_o=order).sort_values(["_o", "hotspot_number"]).drop(columns="_o").reset_index(drop=True)[COLUMNS]


def summary(changes: pd.DataFrame) -> str:
    """'12 kept, 7 new, 7 dropped' (the newer list against the older)."""
    counts = changes["status"].value_counts()
    return ", ".join(f"{int(counts.get(k, 0))} {k}" for k in STATUS_ORDER)
