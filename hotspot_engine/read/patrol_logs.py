"""Patrol logs and GPS pings to patrol rows.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from hotspot_engine.errors import InputError
from hotspot_engine.read.cells import (
    _clean_text,
    _columns_note,
    _content_ids,
    _datetimes,
    _finish_rejects,
    _numbers,
    _plausible_dates,
    _Rejects,
    _split,
    _text,
)
from hotspot_engine.read.coordinates import _coordinates, _districts
from hotspot_engine.read.detect import _pick, _pick_all
from hotspot_engine.read.raw import RawTable

MAX_PATROL_MINUTES = 24 * 60


def _is_h3_cell(value: object) -> bool:
    import h3

    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{15,16}", value):
        return False
    try:
        return bool(h3.is_valid_cell(value))
    except (ValueError, OverflowError, TypeError):
        return False


def _parse_patrols(raw: RawTable, name: str) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    frame, notes = raw.frame, list(raw.notes)
    cols = [str(c) for c in frame.columns]
    n = len(frame)
    cols_used = _pick_all(cols, ("patrol_id", "start", "end", "duration", "hotspot", "h3", "lat", "lon", "easting",
                                 "northing", "unit"))
    if not cols_used["start"]:
        raise InputError(f"{name}: patrol log without a start column")
    if not (cols_used["end"] or cols_used["duration"]):
        raise InputError(f"{name}: patrol log needs an end or a duration_minutes column")
    notes.append(_columns_note(cols_used))
    rej = _Rejects(n)
    formula = [0]
    if cols_used["patrol_id"]:
        ids = _text(frame[cols_used["patrol_id"]]).reset_index(drop=True)
        rej.add(ids.isna().to_numpy(), cols_used["patrol_id"], "no id")
    else:
        ids = None
    start, end, minutes = _patrol_times(frame, cols_used, rej, notes)
    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    has_coords = (cols_used["lat"] and cols_used["lon"]) or (cols_used["easting"] and cols_used["northing"])
    coord_rej = _Rejects(n)
    if has_coords:
        lat, lon = _coordinates(frame, cols_used, coord_rej, notes)
        lat = np.where(coord_rej.ok, lat, np.nan)
        lon = np.where(coord_rej.ok, lon, np.nan)
    hotspot = _clean_text(frame[cols_used["hotspot"]] if cols_used["hotspot"] else None, n, formula)
    if cols_used["h3"]:
        _places_from_h3(frame[cols_used["h3"]], cols_used["h3"], lat, lon, hotspot, rej)
    no_place = np.isnan(lat) & pd.isna(hotspot).to_numpy()
    # Say why a row has no place: bad coordinates when they were the only place given.
    reason_rows = no_place & ~coord_rej.ok & (coord_rej.reason != "no coordinates")
    rej.set(reason_rows, coord_rej.reason, coord_rej.column)
    rej.add(no_place, cols_used["lat"] or cols_used["h3"] or cols_used["hotspot"], "no place")
    district = np.full(n, None, dtype=object)
    located = rej.ok & np.isfinite(lat)
    if located.any():
        from hotspot_engine.reference.geography import assign_districts

        district[located] = assign_districts(lat[located], lon[located])
        rej.add(located & pd.isna(district), cols_used["lat"] or cols_used["h3"], "outside area")
    if ids is None:
        # No id column: a deterministic id from the content makes reloading idempotent.
        parts = [start.astype(str), pd.Series(minutes).astype(str), pd.Series(lat).round(6).astype(str),
                 pd.Series(lon).round(6).astype(str), pd.Series(hotspot, dtype=object).astype(str)]
        ids = pd.Series(_content_ids("log", parts, n), dtype=object)
        notes.append("no patrol_id column: ids derived from the row content")
    rows = pd.DataFrame({
        "patrol_id": ids.astype(object).to_numpy(),
        "source": "log",
        "start": start.to_numpy(),
        "end": end.to_numpy(),
        "minutes": minutes,
        "hotspot_ref": hotspot.to_numpy(),
        "lat": lat,
        "lon": lon,
        "district": district,
        "unit": _clean_text(frame[cols_used["unit"]] if cols_used["unit"] else None, n, formula).to_numpy(),
    })
    return _split(rows, raw, rej, notes, formula)


def _patrol_times(frame: pd.DataFrame, cols_used: dict[str, str | None], rej: _Rejects, notes: list[str]
                  ) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """(start, end, minutes) per row from start and end or duration columns; bad rows rejected."""
    n = len(frame)
    start_col = str(cols_used["start"])
    start, blank, bad = _datetimes(frame[start_col], start_col, notes)
    _plausible_dates(start, blank, bad, rej, start_col, "no start")
    minutes = np.full(n, np.nan)
    end = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    duration_col = cols_used["end"] or cols_used["duration"]
    if cols_used["end"]:
        end, eblank, ebad = _datetimes(frame[cols_used["end"]], cols_used["end"], notes)
        _plausible_dates(end, np.zeros(n, bool), ebad, rej, cols_used["end"])
        usable = rej.ok & end.notna().to_numpy() & start.notna().to_numpy()
        # Only plausible dates are subtracted: far-apart timestamps overflow nanosecond arithmetic.
        minutes[usable] = (end[usable] - start[usable]).dt.total_seconds().to_numpy(dtype=float) / 60.0
    if cols_used["duration"]:
        dur, dur_bad = _numbers(frame[cols_used["duration"]])
        rej.add(dur_bad & np.isnan(minutes), cols_used["duration"], "unparseable number")
        fill = np.isnan(minutes) & np.isfinite(dur)
        minutes[fill] = dur[fill]
    rej.add(np.isnan(minutes), duration_col, "no duration")
    with np.errstate(invalid="ignore"):
        rej.add((minutes < 0) | (minutes > MAX_PATROL_MINUTES) | np.isinf(minutes), duration_col, "bad duration")
    if cols_used["duration"]:
        fill &= rej.ok  # durations now bounded, so start + duration cannot overflow
        if fill.any():
            end = end.copy()
            end[fill] = start[fill] + pd.to_timedelta(minutes[fill], unit="min")
    return start, end, minutes


def _places_from_h3(column: pd.Series, label: str, lat: np.ndarray, lon: np.ndarray, hotspot: pd.Series,
                    rej: _Rejects) -> None:
    """Fill lat/lon in place from valid H3 cells where no coordinates were given; a bad cell is a
    reject only when no hotspot names the place instead."""
    import h3

    n = len(column)
    cells = _text(column).reset_index(drop=True).str.lower()
    need = np.isnan(lat) & cells.notna().to_numpy()
    if need.any():
        uniq = pd.unique(cells[need].astype(object))
        valid = {c: h3.cell_to_latlng(c) for c in uniq if _is_h3_cell(c)}
        values = cells[need].astype(object).map(valid)
        got = values.notna().to_numpy()
        idx = np.flatnonzero(need)
        lat[idx[got]] = [v[0] for v in values[got]]
        lon[idx[got]] = [v[1] for v in values[got]]
        rej.add(np.isin(np.arange(n), idx[~got]) & pd.isna(hotspot).to_numpy(), label, "bad h3 cell")


def _parse_gps(raw: RawTable, name: str, gap_minutes: float) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    from hotspot_engine.read.gps import pings_to_visits

    frame, notes = raw.frame, list(raw.notes)
    cols = [str(c) for c in frame.columns]
    n = len(frame)
    cols_used = {"callsign": _pick(cols, "callsign"), "timestamp": _pick(cols, "timestamp"),
                 "lat": _pick(cols, "lat"), "lon": _pick(cols, "lon")}
    missing = [k for k, v in cols_used.items() if not v]
    if missing:
        raise InputError(f"{name}: GPS pings need column(s) {', '.join(missing)}")
    time_col = str(cols_used["timestamp"])
    notes.append(_columns_note(cols_used))
    rej = _Rejects(n)
    callsign = _text(frame[cols_used["callsign"]]).reset_index(drop=True)
    rej.add(callsign.isna().to_numpy(), cols_used["callsign"], "no callsign")
    when, blank, bad = _datetimes(frame[time_col], time_col, notes)
    _plausible_dates(when, blank, bad, rej, time_col, "no timestamp")
    lat, lon = _coordinates(frame, cols_used, rej, notes)
    district = _districts(lat, lon, rej, cols_used["lat"])
    ok = rej.ok
    formula = [0]
    pings = pd.DataFrame({"callsign": _clean_text(callsign, n, formula).to_numpy()[ok], "timestamp": when.to_numpy()[ok],
                          "lat": lat[ok], "lon": lon[ok], "district": district[ok]})
    visits = pings_to_visits(pings, gap_minutes=gap_minutes)
    notes.append(f"{int(ok.sum()):,} valid pings became {len(visits):,} visits (gap threshold {gap_minutes:g} min); "
                 f"the counts are pings: a visit counts the pings it was made from")
    rejects = _finish_rejects(raw, rej)
    if formula[0]:
        notes.append(f"{formula[0]:,} callsigns looked like spreadsheet formulas; stored with a leading apostrophe")
    return visits, rejects, notes  # 'pings' per visit: the store keeps the account in pings
