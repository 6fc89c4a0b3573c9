"""Adopted hotspot sets: the one list of hotspots a partnership publishes, patrols and is judged on.

:func:`adopt` stores whatever :class:`~hotspot_engine.analyse.hotspots.HotspotResult` the selection
returned (its hotspot cells, ids, names and the numbers the map shows), with the window, filters,
parameters, who adopted it and when. :func:`load` reads it back exactly; nothing about a set is
recomputed, so a hotspot number on an April briefing still names the same place in June whatever was
loaded or changed since (issue 26 found Impact's #1 a different place from the map's #1, and Patrols'
plan changing with the page's history).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, is_dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from hotspot_engine.errors import InputError
from hotspot_engine.filters import Filters
from hotspot_engine.store import sets as store

#: What :func:`list_sets` returns, newest first.
LIST_COLUMNS = ["name", "adopted_at", "window_from", "window_to", "hotspots", "cells", "method", "adopted_by", "note"]
CELL_COLUMNS = ["h3", "hotspot_id", "hotspot_number", "hotspot_name", "district", "csp", "lat", "lon"]
HOTSPOT_COLUMNS = ["hotspot_id", "hotspot_number", "hotspot_name", "cells", "district", "csp", "lat", "lon"]
MAX_NAME = 80


@dataclass(frozen=True)
class AdoptedSet:
    """One adopted set as stored. ``cells``: one row per hotspot cell (CELL_COLUMNS; ``h3`` as text,
    ``hotspot_number`` 1..n as on the map); ``window_from``/``window_to``: the months the hotspots
    were chosen on ('YYYY-MM'); ``adopted_at``: UTC, naive."""

    name: str
    adopted_at: datetime
    adopted_by: str
    note: str
    method: str
    params: dict
    filters: Filters
    window_from: str | None
    window_to: str | None
    cells: pd.DataFrame

    def hotspots(self) -> pd.DataFrame:
        """One row per hotspot, by number: id, number, name, cells, district, CSP, centre."""
        if self.cells.empty:
            return pd.DataFrame(columns=HOTSPOT_COLUMNS)
        grouped = self.cells.groupby("hotspot_number", sort=True)
        out = grouped.agg(hotspot_id=("hotspot_id", "first"), hotspot_name=("hotspot_name", "first"),
                          cells=("h3", "size"), district=("district", "first"), csp=("csp", "first"),
                          lat=("lat", "mean"), lon=("lon", "mean")).reset_index()
        return out[HOTSPOT_COLUMNS]

    def cell_ids(self) -> np.ndarray:
        """The set's cells as uint64 H3 ids (what the store's queries take)."""
        from hotspot_engine.reference.geography import str_to_cell

        return str_to_cell(self.cells["h3"]) if len(self.cells) else np.array([], dtype=np.uint64)

    def window(self) -> str:
        return f"{self.window_from or 'start'} to {self.window_to or 'end'}"


def _check_name(name: str) -> str:
    text = str(name or "").strip()
    if not text:
        raise InputError("set name: empty; give the set a name")
    if len(text) > MAX_NAME or any(ord(ch) < 32 for ch in text):
        raise InputError(f"set name: at most {MAX_NAME} characters, no control characters")
    return text


def _params_json(params: dict) -> str:
    plain = asdict(params) if is_dataclass(params) and not isinstance(params, type) else dict(params or {})
    return json.dumps(plain, sort_keys=True, default=str)


def _filters_json(filters: Filters) -> str:
    return json.dumps({f.name: (list(v) if isinstance(v := getattr(filters, f.name), tuple) else v)
                       for f in fields(Filters)}, sort_keys=True)


def _filters_from_json(text: str | None) -> Filters:
    data = json.loads(text or "{}")
    known = {f.name for f in fields(Filters)}
    values: dict = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known}
    return Filters(**values)


def set_cells_from_result(result) -> pd.DataFrame:
    """The hotspot cells of a HotspotResult as a set stores them: CELL_COLUMNS, numbered 1..n in the
    order of the result's hotspot ranks (the numbers the map shows)."""
    from hotspot_engine.reference.geography import str_to_cell

    hot = result.cells[result.cells["is_hotspot"].fillna(False).astype(bool)]
    hot = hot[hot["hotspot_id"].notna()]
    if hot.empty:
        return pd.DataFrame(columns=CELL_COLUMNS)
    rank = pd.to_numeric(hot.get("hotspot_rank", pd.Series(np.nan, index=hot.index)), errors="coerce")
    first_seen = pd.Series(np.arange(len(hot)), index=hot.index).groupby(hot["hotspot_id"]).transform("min")
    order = pd.DataFrame({"rank": rank.fillna(np.inf).to_numpy(), "seen": first_seen.to_numpy()},
                         index=hot["hotspot_id"].to_numpy()).groupby(level=0).min().sort_values(["rank", "seen"])
    number = {hid: k + 1 for k, hid in enumerate(order.index)}
    ids = str_to_cell(hot["h3"].astype(str))
    import h3.api.basic_int as h3i

    centres = np.array([h3i.cell_to_latlng(int(c)) for c in ids]) if len(ids) else np.zeros((0, 2))
    cells = pd.DataFrame({
        "h3": hot["h3"].astype(str).to_numpy(), "hotspot_id": hot["hotspot_id"].astype(str).to_numpy(),
        "hotspot_number": [number[h] for h in hot["hotspot_id"]],
        "hotspot_name": hot["hotspot_name"].astype(object).to_numpy(),
        "district": hot["district"].astype(object).to_numpy() if "district" in hot else None,
        "csp": hot["csp"].astype(object).to_numpy() if "csp" in hot else None,
        "lat": centres[:, 0], "lon": centres[:, 1],
    })
    return cells.sort_values(["hotspot_number", "h3"]).reset_index(drop=True)


def adopt(con, name: str, result, window: Filters, params: dict, filters: Filters, adopted_by: str,
          note: str = "", replace: bool = False) -> AdoptedSet:
    """Store the result's hotspots as the set ``name`` and return it as read back. ``window``: the
    filters whose months the hotspots were chosen on; ``filters``: the places and offences chosen.
    InputError when the name is taken (unless ``replace``) or the result holds no hotspots."""
    name = _check_name(name)
    if store.exists(con, name) and not replace:
        raise InputError("set name: a set with that name exists; choose another name or replace it")
    cells = set_cells_from_result(result)
    if cells.empty:
        raise InputError("adopt: the selection holds no hotspots to adopt")
    plain_params = json.loads(_params_json(params if params else getattr(result, "params", {})))
    row = {
        "name": name, "adopted_at": datetime.now(UTC).replace(tzinfo=None, microsecond=0),
        "adopted_by": str(adopted_by or ""), "note": str(note or ""),
        "method": str(plain_params.get("method") or getattr(getattr(result, "params", None), "method", "") or ""),
        "params": json.dumps(plain_params, sort_keys=True), "filters": _filters_json(filters),
        "window_from": window.date_from, "window_to": window.date_to, "res": int(filters.res),
        "hotspots": int(cells["hotspot_id"].nunique()), "cells": len(cells),
    }
    store.write_set(con, row, cells, replace)
    adopted = load(con, name)
    assert adopted is not None
    return adopted


def list_sets(con) -> pd.DataFrame:
    """Every adopted set, newest first (LIST_COLUMNS)."""
    return store.set_rows(con)[LIST_COLUMNS].reset_index(drop=True)


def load(con, name: str | None = None) -> AdoptedSet | None:
    """The set named ``name`` (None: the latest adopted), or None when no set is adopted. InputError
    naming the set when a named set does not exist."""
    row = store.set_row(con, name)
    if row is None:
        if name is None:
            return None
        raise InputError(f"--set {name}: no such hotspot set; 'sets' lists them")
    cells = store.set_cells(con, row["name"])
    cells["hotspot_number"] = cells["hotspot_number"].astype(int)
    adopted_at = pd.Timestamp(row["adopted_at"]).to_pydatetime()
    return AdoptedSet(
        name=str(row["name"]), adopted_at=adopted_at, adopted_by=str(row["adopted_by"] or ""),
        note=str(row["note"] or ""), method=str(row["method"] or ""), params=json.loads(row["params"] or "{}"),
        filters=_filters_from_json(row["filters"]), window_from=row["window_from"] or None,
        window_to=row["window_to"] or None, cells=cells[CELL_COLUMNS].reset_index(drop=True))
