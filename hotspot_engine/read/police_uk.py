"""data.police.uk street CSVs to incident rows.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from hotspot_engine.errors import InputError
from hotspot_engine.read.cells import (
    Occurrences,
    _clean_text,
    _content_ids,
    _month_starts,
    _plausible_dates,
    _Rejects,
    _split,
    _text,
)
from hotspot_engine.read.coordinates import _coordinates, _districts
from hotspot_engine.read.detect import _key, _pick
from hotspot_engine.read.raw import RawTable

#: The columns of a data.police.uk street file that describe a report (Crime ID and the outcome,
#: which changes between releases, left out): an anti-social behaviour row's id is built from them.
POLICE_UK_CONTENT_KEYS = ("month", "reportedby", "fallswithin", "longitude", "latitude", "location", "lsoacode",
                          "lsoaname", "crimetype", "context")


#: data.police.uk's own file names: "2024-06/2024-06-avon-and-somerset-street.csv".
STREET_FILE_NAME = re.compile(r"(?:^|[/\\])\d{4}-\d{2}-([a-z0-9-]+)-street\.csv$", re.IGNORECASE)


def widen_to_file_names(names: Iterable[str]) -> None:
    """Widen the area to the forces data.police.uk's file names give, before the first file loads.
    A national download holds one file per force; widened file by file, the area would be cut 43
    times, each a new study area and interior lookup (a month sorted by force, widened block by
    block, grew it 11 times: 2.66 GB and 18 minutes). Names of no force (btp) are skipped."""
    from hotspot_engine.reference.geography import widen_area

    forces = [m.group(1).replace("-", " ") for name in names if (m := STREET_FILE_NAME.search(str(name)))]
    if forces:
        widen_area(forces)


def _parse_police_uk(raw: RawTable, name: str, seen: Occurrences | None = None
                     ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Rows, rejects and notes of a police.uk street file (or one block of it: ``seen`` then carries
    the anti-social behaviour ids' occurrence counts from block to block)."""
    from hotspot_engine.reference.offences import POLICE_UK_SV_PROXY, POLICE_UK_WIDER, SV_GROUPS

    frame, notes = raw.frame, list(raw.notes)
    cols = list(frame.columns)
    n = len(frame)
    pick = {f: _pick(cols, f) for f in ("id", "lat", "lon", "location", "lsoa_code", "lsoa_name", "falls_within")}
    pick["id"] = _pick(cols, "id") if _key(pick["id"] or "") == "crimeid" else next((c for c in cols if _key(c) == "crimeid"), None)
    month_col = next(c for c in cols if _key(c) == "month")
    type_col = next(c for c in cols if _key(c) == "crimetype")
    if not (pick["lat"] and pick["lon"]):
        raise InputError(f"{name}: data.police.uk file without Latitude/Longitude columns")
    rej = _Rejects(n)
    month, blank, bad = _month_starts(frame[month_col])
    _plausible_dates(month, blank, bad, rej, month_col, "no month", "bad month")
    crime_type = _text(frame[type_col]).reset_index(drop=True)
    lat, lon = _coordinates(frame, {"lat": pick["lat"], "lon": pick["lon"]}, rej, notes)
    if pick["falls_within"]:
        from hotspot_engine.reference.geography import widen_area

        # The store covers the forces its data names: place this file's rows in their districts.
        widen_area(frame[pick["falls_within"]])
    district = _districts(lat, lon, rej, pick["lat"])
    formula = [0]
    crime_id = _text(frame[pick["id"]]).reset_index(drop=True) if pick["id"] else pd.Series([pd.NA] * n, dtype="string")
    # Anti-social behaviour rows have no Crime ID. They get an id from their own content (not the
    # file name), numbered within identical rows, so reloading them adds nothing while identical
    # ASB reports in one month stay distinct.
    no_id = crime_id.isna().to_numpy()
    incident_id = np.array(crime_id.to_numpy(dtype=object, na_value=None), dtype=object, copy=True)
    if no_id.any():
        # The published columns only: a file padded with 100,000 extra columns cost 150 s here, one
        # pandas operation per column (issue 25); on a published file the ids are unchanged.
        content_cols = [c for c in cols if _key(c) in POLICE_UK_CONTENT_KEYS]
        content = frame.iloc[np.flatnonzero(no_id)][content_cols]
        incident_id[no_id] = _content_ids("asb", [_text(content[c]).fillna("") for c in content_cols], int(no_id.sum()), seen)
    groups = crime_type.map({**POLICE_UK_SV_PROXY, **POLICE_UK_WIDER}).fillna("other").astype(str)
    rej.add(crime_type.isna().to_numpy(), type_col, "no crime type")
    rows = pd.DataFrame({
        "incident_id": incident_id,
        "source": "police-uk",
        "crime_id": crime_id.astype(object).where(crime_id.notna(), None).to_numpy(),
        "month": month.to_numpy(),
        "occurred_at": pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]"),
        "lat": lat,
        "lon": lon,
        "offence": _clean_text(frame[type_col], n, formula).to_numpy(),
        "ho_code": None,
        "knife_flag": pd.array([pd.NA] * n, dtype="boolean"),
        "offence_group": groups.to_numpy(),
        "sv_category": groups.where(groups.isin(SV_GROUPS), None).astype(object).to_numpy(),
        "is_proxy": True,
        "district": district,
        "location": _clean_text(frame[pick["location"]] if pick["location"] else None, n, formula).to_numpy(),
        "lsoa_code": _clean_text(frame[pick["lsoa_code"]] if pick["lsoa_code"] else None, n, formula).to_numpy(),
        "lsoa_name": _clean_text(frame[pick["lsoa_name"]] if pick["lsoa_name"] else None, n, formula).to_numpy(),
        "falls_within": _clean_text(frame[pick["falls_within"]] if pick["falls_within"] else None, n, formula).to_numpy(),
    })
    if no_id.any():
        notes.append(f"{int(no_id.sum()):,} rows without Crime ID (anti-social behaviour) given content-based ids")
    notes.append("serious violence here is a labelled proxy: only Robbery and Possession of weapons map onto it")
    if pick["lsoa_name"]:
        _lsoa_check(rows, rej.ok, notes)
    return _split(rows, raw, rej, notes, formula)


def _lsoa_check(rows: pd.DataFrame, ok: np.ndarray, notes: list[str]) -> None:
    """Compare the computed district with the one the LSOA name gives ('Southampton 001A' ->
    Southampton). Accepted rows whose LSOA lies outside the force area count as disagreements."""
    # A regex, not rsplit: with every name missing, rsplit's result loses the string type and .str fails.
    names = pd.Series(rows["lsoa_name"].to_numpy(object)).astype("str").str.replace(r"\s+\S+$", "", regex=True)
    named = names.notna().to_numpy() & ok
    if named.any():
        differ = int((names.to_numpy(object)[named] != rows["district"].to_numpy(object)[named]).sum())
        notes.append(f"district check against LSOA name: {differ:,} of {int(named.sum()):,} rows differ "
                     f"({100 * differ / named.sum():.2f}%)")
