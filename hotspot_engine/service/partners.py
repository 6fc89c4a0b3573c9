"""What front ends ask about partner data, one function each (store -> analyse), issue 21.

Every function takes an open store connection and a :class:`~hotspot_engine.filters.Filters`;
the Streamlit page and the command line call these and nothing below them.

On-screen suppression follows each layer's sharing level: ``open`` layers are shown exactly;
``partnership`` layers are shown exactly to partnership users on screen and have small counts
suppressed in partner-safe exports; ``restricted`` layers are shown on screen as partner-safe exports
show them: counts below the settings' ``partner_safe_threshold`` hidden, the rest rounded to it.

Why rounded, and why the score and funnel ratio come from the shown counts (issue 25): with exact
counts beside a total, one hidden cell was the total less the shown ones. The totals were on screen
through other figures: a ranking score is a cell's count over the layer's total, and the funnel's
expected count is the police count times the force-wide ratio, which gives the partner total.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hotspot_engine.analyse import partners as analysis
from hotspot_engine.filters import Filters
from hotspot_engine.store import partner_query

SCREEN_SUPPRESSED = ("restricted",)


def layers(con) -> pd.DataFrame:
    """The partner layers in the store: source, kind, owner, sharing, rows, first, last."""
    from hotspot_engine.write.export import partner_layers_from_store

    return pd.DataFrame(partner_layers_from_store(con),
                        columns=["source", "kind", "owner", "sharing", "rows", "first", "last"])


def screen_layers(layers_frame: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The layer list as the screen shows it: a restricted layer's row count is its total (one row an
    event), which against its rounded cells would narrow the hidden ones, so it is shown as the
    screen shows counts (below ``threshold`` hidden, the rest rounded; :func:`analysis.banded`)."""
    out = layers_frame.copy()
    hidden = out["sharing"].map(hides_small_counts).to_numpy(dtype=bool)
    rows = out["rows"].to_numpy(dtype=float)
    if hidden.any() and threshold:
        rows[hidden], _ = analysis.banded(rows[hidden], threshold)
    out["rows"] = rows
    return out


def hides_small_counts(sharing: str) -> bool:
    return sharing in SCREEN_SUPPRESSED


@dataclass
class PartnerFunnel:
    """The funnel for one layer over a window, ready to draw: ``result`` (analyse.partners.FunnelResult),
    the window used, the layer's metadata and whether small counts must be hidden on screen."""

    result: analysis.FunnelResult
    filters: Filters
    layer: dict
    hide_small: bool
    notes: list[str] = field(default_factory=list)


def funnel(con, source: str, filters: Filters) -> PartnerFunnel:
    from hotspot_engine.reference.geography import districts_for
    from hotspot_engine.service.quality import force_gaps

    counts, window = partner_query.lsoa_comparison(con, source, filters)
    layer = partner_query.layer_of(con, source)
    # The ratio is force-wide over every force of the store: a force's unstored police months are no
    # data, so its LSOAs' partner counts leave those months out too (not police zeros against them).
    gaps = force_gaps(con, window)
    notes = []
    if len(gaps.gaps):
        counts = partner_query.without_gaps(con, source, counts, gaps.gaps)
        notes.append(f"{', '.join(sorted(gaps.months))}: police data do not cover every month of {window.period()}, "
                     "so the partner counts of its LSOAs count only the months its police data cover.")
    result = analysis.funnel(counts, districts=districts_for(filters.districts, filters.csps))
    return PartnerFunnel(result, window, layer, hides_small_counts(layer["sharing"]), notes + list(result.notes))


def screen_funnel(compared: PartnerFunnel, threshold: int) -> PartnerFunnel:
    """The funnel as the screen shows it. A restricted layer's LSOA counts are banded
    (:func:`~hotspot_engine.analyse.partners.banded`); the force-wide ratio shown is the banded
    partner total over the police total, and each LSOA's expected count and ratio, and the limits'
    expected counts, follow from it and from the shown count, so no figure on screen gives the exact
    total back; z and tail probabilities (monotone in the exact count) are blanked. Flags stay those
    of the exact counts. Other layers are returned as they are."""
    from dataclasses import replace

    if not compared.hide_small:
        return compared
    table = compared.result.table.copy()
    police = float(table["police_count"].sum())
    total, _ = analysis.banded(np.array([table["partner_count"].sum()], dtype=float), threshold)
    ratio = float(np.nan_to_num(total[0])) / police if police else compared.result.ratio
    table["partner_count"] = _with_secondary(analysis.banded(table["partner_count"].to_numpy(dtype=float), threshold))
    table["expected"] = table["police_count"].to_numpy(dtype=float) * ratio
    with np.errstate(divide="ignore", invalid="ignore"):
        table["ratio"] = np.where(table["expected"] > 0, table["partner_count"] / table["expected"], np.nan)
    table[[c for c in ("funnel_z", "p_higher", "p_lower") if c in table]] = np.nan
    limits = compared.result.limits.copy()
    limits["expected"] = limits["police_count"] * ratio
    for side in ("lower", "upper"):
        with np.errstate(divide="ignore", invalid="ignore"):
            limits[f"{side}_ratio"] = (limits[side] / limits["expected"]).replace([np.inf, -np.inf], np.nan)
    exact_note = analysis.ratio_note(compared.result.ratio)

    def shown(notes: list[str]) -> list[str]:
        return [analysis.ratio_note(ratio) if note == exact_note else note for note in notes]

    return replace(compared, notes=shown(compared.notes),
                   result=replace(compared.result, table=table, ratio=ratio, limits=limits, notes=shown(compared.result.notes)))


def _with_secondary(banded: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Banded counts with one more hidden when exactly one is: the smallest shown count (secondary
    suppression). With a lone hidden count, the rounded total less the rounded shown ones pinned it in
    5 of 3,000 views of 2-7 LSOAs (benchmarks/bench_partner_safe_recovery.py); two hidden, one of them
    at least the threshold, leave it open."""
    values, hidden = banded
    if hidden.sum() == 1 and np.isfinite(values).sum() >= 1:
        values = values.copy()
        values[int(np.nanargmin(values))] = np.nan
    return values


def lsoa_shapes(codes: list[str]):
    """GeoDataFrame of the 2011 LSOA polygons among ``codes`` (2021-only codes have none here)."""
    from hotspot_engine.reference.geography import lsoas

    frame = lsoas()
    return frame[frame["lsoa_code"].isin(codes)][["lsoa_code", "lsoa_name", "district", "geometry"]]


def _as_cells(values: pd.Series) -> np.ndarray:
    """H3 ids as uint64 whether given as integers or as hex strings (hotspot results use hex)."""
    from hotspot_engine.reference.geography import str_to_cell

    if pd.api.types.is_integer_dtype(values.dtype):
        return values.to_numpy(dtype=np.uint64)
    return str_to_cell(values.astype(str).tolist())


def hotspot_partner_table(con, hotspot_cells: pd.DataFrame, filters: Filters, threshold: int) -> pd.DataFrame:
    """What partners know about each hotspot, one row per hotspot_id and one ``<source>_count``
    column per layer: area counts in the LSOAs the hotspot touches, events and places inside its
    cells, over the filters' months. Restricted layers have counts below ``threshold`` blanked."""
    cells = hotspot_cells[hotspot_cells["hotspot_id"].notna()][["h3", "hotspot_id"]]
    cells = cells.assign(h3=_as_cells(cells["h3"]))
    touched = partner_query.cell_lsoas(con, cells["h3"].to_numpy(), filters)
    table = analysis.hotspot_partner_counts(cells, touched, partner_query.area_totals(con, filters),
                                            partner_query.point_cells(con, filters.res, filters))
    return _screen_safe(con, table, threshold)


def _restricted(con) -> list[str]:
    meta = layers(con)
    return meta.loc[meta["sharing"].map(hides_small_counts), "source"].tolist()


def _screen_safe(con, table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    hidden = [f"{s}_count" for s in _restricted(con) if f"{s}_count" in table]
    return analysis.suppress_small(table, hidden, threshold) if hidden and threshold else table


def combined_ranking(con, cells: pd.DataFrame, filters: Filters, weights: dict[str, float],
                     threshold: int | None = None) -> pd.DataFrame:
    """Study-area cells ranked by a weighted sum of police harm and partner counts (``weights``:
    ``"police"`` and layer names). Area layers are shared equally among the cells whose centre
    lies in each LSOA; events and places count in their own cell. With ``threshold``, restricted
    layers are ranked and returned with their per-cell counts as shown (under it hidden, counted as
    0; the rest rounded to it), so a score reveals nothing the table does not show."""
    from hotspot_engine.reference.geography import cell_to_str

    cells = cells.assign(h3=_as_cells(cells["h3"]))
    points = partner_query.point_cells(con, filters.res, filters)
    areas = partner_query.area_totals(con, filters)
    parts = [points[["source", "h3", "count"]].astype({"h3": np.uint64})]
    if not areas.empty:
        placed = partner_query.cell_of_lsoa(cells["h3"].to_numpy())
        parts.append(analysis.spread_area_counts(areas, placed))
    partner_cells = pd.concat(parts, ignore_index=True)
    wanted = [k for k, v in weights.items() if k != "police" and v > 0]
    partner_cells = partner_cells[partner_cells["source"].isin(wanted)]
    shown_only = {name: int(threshold) for name in _restricted(con)} if threshold else None
    ranked = analysis.combined_ranking(cells, partner_cells, weights, shown_only=shown_only)
    return ranked.assign(h3=cell_to_str(ranked["h3"].to_numpy(dtype=np.uint64)))


def map_points(con, layer: dict, filters: Filters, threshold: int) -> pd.DataFrame:
    """A point layer for the map: lat, lon, label, detail. A layer whose sharing level hides small
    counts is not drawn point by point: its points are counted per H3 cell and only cells with at
    least ``threshold`` are drawn, at the cell's centre."""
    from hotspot_engine.reference.geography import cell_centres

    points = partner_query.layer_points(con, layer["source"], layer["kind"], filters)
    if not hides_small_counts(layer["sharing"]) or points.empty:
        return points[["lat", "lon", "label", "detail"]]
    counts = points.groupby("h3").size()
    shown, small = analysis.banded(counts.to_numpy(dtype=float), threshold)
    lat, lon = cell_centres(counts.index.to_numpy(dtype=np.uint64)[~small])
    return pd.DataFrame({"lat": lat, "lon": lon,
                         "label": [f"about {n:,.0f} {layer['source']} in this cell" for n in shown[~small]],
                         "detail": f"{layer['sharing']} layer: counts rounded to {threshold}s; cells with fewer "
                                   f"than {threshold} are not shown"})


def with_partner_columns(con, result, filters: Filters):
    """A hotspot result whose areas table carries one ``<source>_count`` column per partner layer
    (see :func:`hotspot_partner_table`; exact counts: partner-safe exports suppress them). The result
    is returned unchanged when the store holds no partner layer or no hotspot area."""
    from dataclasses import replace

    if layers(con).empty or result.areas is None or result.areas.empty:
        return result
    table = hotspot_partner_table(con, result.cells, filters, threshold=0)
    areas = result.areas.merge(table.drop(columns=["suppressed"], errors="ignore"), on="hotspot_id", how="left")
    return replace(result, areas=areas)
