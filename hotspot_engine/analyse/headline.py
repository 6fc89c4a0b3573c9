"""The annual report's headline figures, computed live for any filter set.

"Serious violence down 4.8% (-241) force-wide; 2,934 patrols in 19 hotspots; serious violence in
the hotspots down 17%": the latest complete financial year (April-March) against the one before,
with the hotspots identified on the year before (the 12 months before the patrols started), so the
comparison is not flattered by picking hotspots on the year being evaluated.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hotspot_engine.filters import Filters
from hotspot_engine.store.query import extent, financial_year, fy_label, monthly_counts, where_incidents


@dataclass(frozen=True)
class Headline:
    fy_before: str  # '2022-23'
    fy_after: str  # '2023-24'
    sv_before: int
    sv_after: int
    hotspots: int
    hotspot_cells: int
    patrols_after: int
    patrol_minutes_after: float
    hotspot_sv_before: int
    hotspot_sv_after: int
    notes: list[str] = field(default_factory=list)

    @property
    def sv_change(self) -> int:
        return self.sv_after - self.sv_before

    @property
    def sv_change_pct(self) -> float:
        return pct_change(self.sv_before, self.sv_after)

    @property
    def hotspot_change_pct(self) -> float:
        return pct_change(self.hotspot_sv_before, self.hotspot_sv_after)


def pct_change(before: float, after: float) -> float:
    return float("nan") if before == 0 else (after / before - 1.0) * 100.0


def latest_complete_fy(last_month: str) -> int:
    """Start year of the latest financial year whose March is in the data."""
    year, month = map(int, last_month.split("-"))
    return year - 1 if month >= 3 else year - 2


def headline(con, filters: Filters, params=None, harm_weights=None, exclusions_path=None) -> Headline | None:
    """Headline figures for the filters' places and offences (their dates are ignored: the figures are
    always the latest complete financial year against the previous one). None without two years."""
    from hotspot_engine.analyse.hotspots import HotspotParams, find_hotspots

    ext = extent(con)
    if ext.last_month is None or ext.first_month is None:
        return None
    after_year = latest_complete_fy(ext.last_month)
    before = financial_year(after_year - 1)
    after = financial_year(after_year)
    if ext.first_month > before[0]:
        return None
    base = filters.with_(date_from=None, date_to=None)
    sv = base if (base.offences or base.sv_only) else base.with_(sv_only=True)
    totals = {}
    for key, (first, last) in (("before", before), ("after", after)):
        frame = monthly_counts(con, sv.with_(date_from=first, date_to=last))
        totals[key] = int(frame["count"].sum()) if len(frame) else 0
    result = find_hotspots(con, sv.with_(date_from=before[0], date_to=before[1]), params or HotspotParams(),
                           harm_weights=harm_weights, exclusions_path=exclusions_path)
    hot_cells = result.cells.loc[result.cells["is_hotspot"].astype(bool), "h3"]
    from hotspot_engine.reference.geography import str_to_cell

    hot_ids = str_to_cell(hot_cells) if len(hot_cells) else np.array([], dtype=np.uint64)
    in_hot = {}
    for key, (first, last) in (("before", before), ("after", after)):
        in_hot[key] = _count_in_cells(con, sv.with_(date_from=first, date_to=last), hot_ids)
    patrols, minutes = _patrols_in_cells(con, base.with_(date_from=after[0], date_to=after[1]), hot_ids)
    return Headline(
        fy_before=fy_label(after_year - 1), fy_after=fy_label(after_year),
        sv_before=totals["before"], sv_after=totals["after"],
        hotspots=int(len(result.areas)), hotspot_cells=int(len(hot_ids)),
        patrols_after=patrols, patrol_minutes_after=minutes,
        hotspot_sv_before=in_hot["before"], hotspot_sv_after=in_hot["after"], notes=list(result.notes),
    )


def _count_in_cells(con, filters: Filters, cells: np.ndarray) -> int:
    if cells.size == 0:
        return 0
    where, params = where_incidents(filters)
    con.register("_hot_cells", pd.DataFrame({"h3": cells.astype(np.uint64)}))
    try:
        row = con.execute(
            f"SELECT count(*) FROM incidents i WHERE {where} AND i.h3_r{filters.res} IN (SELECT h3 FROM _hot_cells)",
            params).fetchall()[0]
    finally:
        con.unregister("_hot_cells")
    return int(row[0])


def _patrols_in_cells(con, filters: Filters, cells: np.ndarray) -> tuple[int, float]:
    """Hotspot patrols in the year after, counted as the annual report counted them: patrols logged
    against a hotspot (a ``hotspot_ref``), plus unlogged ones whose position falls in a hotspot
    cell (GPS). A logged patrol whose position lies just outside the measured area still counts
    here; the Patrols page's dosage goes by position (analyse/dosage.py)."""
    from hotspot_engine.store.query import where_patrols

    if cells.size == 0:
        return 0, 0.0
    where, params = where_patrols(filters)
    con.register("_hot_cells", pd.DataFrame({"h3": cells.astype(np.uint64)}))
    try:
        row = con.execute(
            f"SELECT count(*), COALESCE(sum(p.minutes), 0) FROM patrols p WHERE {where} "
            f"AND (COALESCE(trim(p.hotspot_ref), '') <> '' OR p.h3_r{filters.res} IN (SELECT h3 FROM _hot_cells))",
            params).fetchall()[0]
    finally:
        con.unregister("_hot_cells")
    return int(row[0]), float(row[1])
