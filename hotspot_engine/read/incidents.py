"""Force incident extracts (CSV, Parquet, XLSX) to incident rows.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from hotspot_engine.errors import InputError
from hotspot_engine.read.cells import (
    _booleans,
    _clean_text,
    _columns_note,
    _datetimes,
    _month_starts,
    _nothing,
    _plausible_dates,
    _Rejects,
    _split,
    _text,
)
from hotspot_engine.read.coordinates import _coordinates, _districts_and_cells
from hotspot_engine.read.detect import _pick_all
from hotspot_engine.read.raw import RawTable


def _classify_unique(mapping, ho: pd.Series | None, offence: pd.Series | None, knife: pd.Series | None) -> np.ndarray:
    """OffenceMap.classify on each distinct (code, text, knife) combination only: a million rows
    hold a few hundred combinations, and the text rules are regular expressions."""
    n = len(ho) if ho is not None else len(offence)  # type: ignore[arg-type]
    parts = {
        "ho": (ho if ho is not None else _nothing(n)).reset_index(drop=True),
        "offence": (offence if offence is not None else _nothing(n)).reset_index(drop=True),
        "knife": (knife.fillna(False).astype(bool) if knife is not None else pd.Series(np.zeros(n, bool))).reset_index(drop=True),
    }
    # One integer key per combination from per-column codes; factorising each column is fast.
    key = np.zeros(n, dtype=np.int64)
    for col in ("ho", "offence", "knife"):
        col_codes, col_uniques = pd.factorize(parts[col], use_na_sentinel=False)
        key = key * (len(col_uniques) + 1) + col_codes
    _, first, codes = np.unique(key, return_index=True, return_inverse=True)
    distinct = pd.DataFrame({c: parts[c].iloc[first].reset_index(drop=True) for c in parts})
    groups = mapping.classify(
        distinct["ho"].astype(object) if ho is not None else None,
        distinct["offence"].astype(object) if offence is not None else None,
        distinct["knife"].astype(bool) if knife is not None else None,
    ).to_numpy(object)
    return groups[codes.ravel()]


def _parse_force(raw: RawTable, name: str, offence_map) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    from hotspot_engine.reference.offences import SV_GROUPS, load_offence_map

    frame, notes = raw.frame, list(raw.notes)
    cols = [str(c) for c in frame.columns]
    n = len(frame)
    cols_used = _pick_all(cols, ("id", "date", "lat", "lon", "easting", "northing", "ho_code", "offence", "knife",
                                 "district", "location", "lsoa_code", "lsoa_name", "falls_within"))
    if not cols_used["id"]:
        raise InputError(f"{name}: no id column (looked for incident_id, crime_id, id, reference ...)")
    if not cols_used["date"]:
        raise InputError(f"{name}: no date column (looked for occurred_at, date, datetime, offence_date ...)")
    if not ((cols_used["lat"] and cols_used["lon"]) or (cols_used["easting"] and cols_used["northing"])):
        raise InputError(f"{name}: no location columns (need lat/lon or easting/northing)")
    if not (cols_used["ho_code"] or cols_used["offence"]):
        raise InputError(f"{name}: no offence column (need ho_code and/or offence)")
    notes.append(_columns_note(cols_used))
    rej = _Rejects(n)
    ids = _text(frame[cols_used["id"]]).reset_index(drop=True)
    rej.add(ids.isna().to_numpy(), cols_used["id"], "no id")
    when, blank, bad = _datetimes(frame[cols_used["date"]], cols_used["date"], notes)
    # A bare 'YYYY-MM' is a month without a day: kept, with no occurrence time.
    month_only = np.zeros(n, dtype=bool)
    month_values = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    if bad.any():
        idx = np.flatnonzero(bad)
        months, _, mbad = _month_starts(frame[cols_used["date"]].iloc[idx])
        good = ~mbad & months.notna().to_numpy()
        month_only[idx[good]] = True
        month_values[idx[good]] = months.to_numpy()[good]
        bad[idx[good]] = False
    _plausible_dates(when, blank, bad, rej, cols_used["date"])
    occurred = when.copy()
    month = pd.Series(when.to_numpy(dtype="datetime64[ns]").astype("datetime64[M]").astype("datetime64[ns]"))
    if month_only.any():
        month = month.where(~pd.Series(month_only), pd.Series(month_values))
        _plausible_dates(month, np.zeros(n, bool), np.zeros(n, bool), rej, cols_used["date"], bad_reason="bad month")
        notes.append(f"{int(month_only.sum()):,} rows give a month only (YYYY-MM): no occurrence time")
    lat, lon = _coordinates(frame, cols_used, rej, notes)
    district, cells = _districts_and_cells(lat, lon, rej, cols_used["lat"] or cols_used["easting"])
    formula = [0]
    ho = _clean_text(frame[cols_used["ho_code"]] if cols_used["ho_code"] else None, n, formula)
    offence = _clean_text(frame[cols_used["offence"]] if cols_used["offence"] else None, n, formula)
    knife = None
    if cols_used["knife"]:
        knife, unknown = _booleans(frame[cols_used["knife"]])
        if unknown:
            notes.append(f"{cols_used['knife']}: {unknown:,} values not read as yes/no; left blank")
    groups = _classify_unique(load_offence_map(offence_map), ho if cols_used["ho_code"] else None,
                              offence if cols_used["offence"] else None, knife)
    if cols_used["district"]:
        given = _text(frame[cols_used["district"]]).reset_index(drop=True).astype(object).to_numpy()
        has = rej.ok & ~pd.isna(given)
        if has.any():
            differ = int((pd.Series(given[has]).str.lower().to_numpy() != pd.Series(district[has]).str.lower().to_numpy()).sum())
            notes.append(f"district: computed from coordinates; '{cols_used['district']}' differs on {differ:,} of "
                         f"{int(has.sum()):,} rows")
    group_series = pd.Series(groups, dtype=object)
    rows = pd.DataFrame({
        "incident_id": ids,
        "source": "force",
        "crime_id": ids,
        "month": month.to_numpy(),
        "occurred_at": occurred.to_numpy(),
        "lat": lat,
        "lon": lon,
        "offence": offence,
        "ho_code": ho,
        "knife_flag": knife if knife is not None else pd.array([pd.NA] * n, dtype="boolean"),
        "offence_group": group_series,
        "sv_category": group_series.where(group_series.isin(SV_GROUPS), None),
        "is_proxy": False,
        "district": pd.Series(district, dtype=object),
        "location": _clean_text(frame[cols_used["location"]] if cols_used["location"] else None, n, formula),
        "lsoa_code": _clean_text(frame[cols_used["lsoa_code"]] if cols_used["lsoa_code"] else None, n, formula),
        "lsoa_name": _clean_text(frame[cols_used["lsoa_name"]] if cols_used["lsoa_name"] else None, n, formula),
        "falls_within": _clean_text(frame[cols_used["falls_within"]] if cols_used["falls_within"] else None, n, formula),
        "h3_r9": cells,
    })
    return _split(rows, raw, rej, notes, formula)
