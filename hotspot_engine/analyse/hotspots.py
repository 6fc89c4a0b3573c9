"""Hotspot identification over the H3 study area: score every cell, select hot cells, merge them
into named hotspot areas.

:func:`score_cells` is pure (frames in, :class:`HotspotResult` out); :func:`hotspot_engine.service.hotspots`
is the thin wrapper that queries the store with a :class:`~hotspot_engine.filters.Filters`.

Selection methods in use in UK forces (see DOMAIN.md):

* ``gistar``: cells with a positive Gi* z whose Benjamini-Hochberg adjusted p is below ``alpha``
  (and with at least one incident: a cell is only hot through its neighbours is not patrollable);
* ``top-n``: the ``top`` cells with the most count or harm (ties: more of the other measure first,
  then the lower H3 id, so the choice is deterministic);
* ``harm-share``: the fewest cells holding ``harm_share`` of the harm.

Cells whose most common location matches the exclusion list (``data/exclusions.csv``: police
stations, custody suites...) are never selected, and are flagged with the reason.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hotspot_engine.analyse.gistar import fdr_bh, gi_bins, gistar
from hotspot_engine.errors import InputError
from hotspot_engine.reference import geography
from hotspot_engine.reference.filecache import read_once_per_version
from hotspot_engine.reference.lookup_csv import read_lookup_csv
from hotspot_engine.resources import DATA_DIR  # noqa: E402

METHODS = ("gistar", "top-n", "harm-share")
MEASURES = ("count", "harm")
#: Below this mean count per study cell the normal approximation behind Gi* z-scores is poor.
SPARSE_MEAN_COUNT = 1.0
#: The look-back window used when the filters give no start month (UK practice: the last 12 months).
DEFAULT_WINDOW_MONTHS = 12
LOCATION_PREFIX = "On or near "


@dataclass(frozen=True)
class HotspotParams:
    """How hot cells are chosen. ``k`` is the Gi* ring size; ``permutations`` > 0 replaces the
    analytical p by the conditional-permutation pseudo p in ``gi_p``."""

    method: str = "gistar"
    measure: str = "count"
    top: int = 19
    harm_share: float = 0.5
    alpha: float = 0.05
    k: int = 1
    permutations: int = 0
    seed: int = 0
    #: Gi* areas holding fewer incidents than this in the window are not reported: Gi* flags a cell
    #: with one or two incidents when its neighbours are busy, and such a place is no patrol target.
    min_area_count: int = 5

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InputError(f"method: expected one of {', '.join(METHODS)}, got '{self.method}'")
        if self.measure not in MEASURES:
            raise InputError(f"measure: expected one of {', '.join(MEASURES)}, got '{self.measure}'")
        if int(self.top) < 1:
            raise InputError(f"top: must be at least 1, got {self.top}")
        if not 0 < float(self.harm_share) <= 1:
            raise InputError(f"harm share: must be in (0, 1], got {self.harm_share}")
        if not 0 < float(self.alpha) < 1:
            raise InputError(f"alpha: must be between 0 and 1, got {self.alpha}")
        if not 1 <= int(self.k) <= 5:
            raise InputError(f"k: ring size must be between 1 and 5, got {self.k}")
        if int(self.permutations) < 0:
            raise InputError(f"permutations: must be 0 or more, got {self.permutations}")
        if int(self.min_area_count) < 0:
            raise InputError(f"minimum area count: must be 0 or more, got {self.min_area_count}")

    def describe(self) -> str:
        if self.method == "gistar":
            inference = f", {self.permutations} permutations" if self.permutations else ""
            return (f"Gi* of {self.measure} (ring {self.k}{inference}): cells with z > 0, FDR-adjusted p < {self.alpha} "
                    f"and at least one incident, in areas of at least {self.min_area_count} incidents")
        if self.method == "top-n":
            return f"top {self.top} cells by {self.measure}"
        return f"fewest cells holding {self.harm_share:.0%} of harm"


@dataclass
class HotspotResult:
    """``cells``: one row per study-area cell (columns in :data:`CELL_COLUMNS`); ``areas``: one row
    per hotspot area, ranked by the measure (columns in :data:`AREA_COLUMNS`); ``notes``: what was
    chosen and what to be careful about, in plain sentences."""

    cells: pd.DataFrame
    areas: pd.DataFrame
    params: HotspotParams
    notes: list[str] = field(default_factory=list)


CELL_COLUMNS = [
    "h3", "district", "csp", "lat", "lon", "count", "harm", "gi_z", "gi_p", "gi_p_fdr", "gi_bin",
    "p_norm", "p_sim", "is_hotspot", "hotspot_id", "hotspot_name", "hotspot_rank", "patrols",
    "patrol_minutes", "top_location", "excluded", "exclusion_reason",
]
AREA_COLUMNS = [
    "hotspot_rank", "hotspot_id", "hotspot_name", "csp", "district", "n_cells", "count", "harm",
    "patrols", "patrol_minutes", "top_location", "max_gi_z", "peak_cell", "cells", "lat", "lon",
]


# --------------------------------------------------------------------------------------------
# Exclusions
# --------------------------------------------------------------------------------------------
def load_exclusions(path: str | Path | None = None) -> pd.DataFrame:
    """The editable exclusion list: columns pattern, reason. Lines starting with '#' are comments.
    Patterns match the cell's most common location text, case-insensitively, as plain substrings."""
    return _read_exclusions(Path(path) if path else DATA_DIR / "exclusions.csv")


@read_once_per_version
def _read_exclusions(path: Path) -> pd.DataFrame:
    header, lines = read_lookup_csv(path, "the exclusion list")
    if not {"pattern", "reason"} <= {name.lower() for name in header}:
        raise InputError(f"{path.name}: the exclusion list needs columns pattern, reason")
    rows = []
    for line_no, row in lines:
        row = {key.lower(): value for key, value in row.items()}
        if not row.get("pattern"):
            raise InputError(f"{path.name}: row {line_no}, column pattern: empty")
        rows.append((row["pattern"], row.get("reason") or f"excluded place: {row['pattern']}"))
    return pd.DataFrame(rows, columns=["pattern", "reason"], dtype=object)


def place_name(location: pd.Series) -> pd.Series:
    """Location text without police.uk's "On or near " prefix (the snap point's own name)."""
    text = location.astype(object).where(location.notna(), "").astype(str).str.strip()
    return text.str.replace(r"(?i)^on or near\s+", "", regex=True)


def match_exclusions(location: pd.Series, exclusions: pd.DataFrame | None) -> pd.Series:
    """Reason per row ('' where nothing matches); the first matching pattern wins."""
    if exclusions is None or exclusions.empty or location.empty:
        return pd.Series("", index=location.index, dtype=object)
    # Tens of thousands of study cells share a few thousand place names (most have none): match
    # each distinct name once.
    codes, names = pd.factorize(location, use_na_sentinel=True)
    text = [name.lower() for name in place_name(pd.Series(names, dtype=object))]
    per_name = np.full(len(names) + 1, "", dtype=object)  # the last slot: cells without a location
    patterns = [(str(p).lower(), why) for p, why in zip(exclusions["pattern"], exclusions["reason"])]
    for k, name in enumerate(text):
        per_name[k] = next((why for pattern, why in patterns if pattern in name), "")
    return pd.Series(per_name[np.where(codes < 0, len(names), codes)], index=location.index, dtype=object)


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------
def _cell_frame(study_cells: pd.DataFrame, counts: pd.DataFrame, patrols: pd.DataFrame | None,
                top_locations: pd.DataFrame | None, notes: list[str]) -> pd.DataFrame:
    """Every study cell with its count, harm, patrols and top location (zeros where none)."""
    cells = study_cells[["h3", "district", "csp"]].copy()
    cells["h3"] = _as_uint64(cells["h3"])
    ids = cells["h3"].to_numpy()
    if not (ids.size < 2 or bool(np.all(ids[1:] > ids[:-1]))):  # a study area comes sorted and unique
        cells = cells.drop_duplicates("h3").sort_values("h3")
    cells = cells.reset_index(drop=True)
    index = pd.Index(cells["h3"].to_numpy())

    counts = counts if counts is not None else pd.DataFrame(columns=["h3", "count", "harm"])
    keys = _as_uint64(counts["h3"]) if len(counts) else np.zeros(0, dtype=np.uint64)
    pos = index.get_indexer(keys)
    inside = pos >= 0
    for column in ("count", "harm"):
        values = pd.to_numeric(counts[column], errors="coerce").fillna(0).to_numpy(dtype=float) if len(counts) else np.zeros(0)
        cells[column] = np.bincount(pos[inside], weights=values[inside], minlength=len(cells))
        if column == "count":
            dropped = float(values[~inside].sum())
    if dropped:
        notes.append(f"{dropped:,.0f} incidents fall in cells outside the study area (missing coordinates, or a "
                     "cell whose centre lies in an unselected district) and are not counted.")

    for column in ("patrols", "patrol_minutes"):
        cells[column] = 0.0
    if patrols is not None and len(patrols):
        ppos = index.get_indexer(_as_uint64(patrols["h3"]))
        ok = ppos >= 0
        for column in ("patrols", "patrol_minutes"):
            values = pd.to_numeric(patrols[column], errors="coerce").fillna(0).to_numpy(dtype=float)
            cells[column] = np.bincount(ppos[ok], weights=values[ok], minlength=len(cells))
    cells["patrols"] = cells["patrols"].round().astype(np.int64)
    cells["count"] = cells["count"].round().astype(np.int64)

    cells["top_location"] = pd.Series([None] * len(cells), dtype=object)
    cells["top_location_n"] = 0
    if top_locations is not None and len(top_locations):
        tops = top_locations.copy()
        tops["h3"] = _as_uint64(tops["h3"])
        tops = tops.sort_values(["h3", "n", "location"], ascending=[True, False, True]).drop_duplicates("h3")
        tpos = index.get_indexer(tops["h3"].to_numpy())
        ok = tpos >= 0
        cells.loc[tpos[ok], "top_location"] = tops["location"].to_numpy(dtype=object)[ok]
        cells.loc[tpos[ok], "top_location_n"] = tops["n"].to_numpy()[ok]
    return cells


def _as_uint64(values) -> np.ndarray:
    """H3 ids as uint64 whether they arrive as integers or hex strings; 0 for missing."""
    series = pd.Series(values)
    if series.dtype.kind in "iuf":
        return series.fillna(0).to_numpy().astype(np.uint64)
    text = series.astype(object).where(series.notna(), "0").astype(str)
    return np.array([int(s, 16) for s in text], dtype=np.uint64)


def _select(cells: pd.DataFrame, params: HotspotParams, eligible: np.ndarray, notes: list[str]) -> np.ndarray:
    measure = cells[params.measure].to_numpy(dtype=float)
    if params.method == "gistar":
        return eligible & (cells["gi_z"].to_numpy() > 0) & (cells["gi_p_fdr"].to_numpy() < params.alpha) & (measure > 0)
    if params.method == "top-n":
        other = "harm" if params.measure == "count" else "count"
        order = np.lexsort((cells["h3"].to_numpy(), -cells[other].to_numpy(dtype=float), -measure))
        order = order[eligible[order] & (measure[order] > 0)]
        chosen = np.zeros(len(cells), dtype=bool)
        chosen[order[: int(params.top)]] = True
        if order.size < params.top:
            notes.append(f"Only {order.size} cells have any {params.measure}: fewer than the {params.top} asked for.")
        return chosen
    harm = cells["harm"].to_numpy(dtype=float)
    if params.measure != "harm":
        notes.append("harm-share selects on harm whatever the measure: the measure only sets the Gi* columns.")
    harm_eligible = np.where(eligible, harm, 0.0)
    total = harm_eligible.sum()
    chosen = np.zeros(len(cells), dtype=bool)
    if total <= 0:
        notes.append("No harm recorded in the window: harm-share selects no cells.")
        return chosen
    order = np.lexsort((cells["h3"].to_numpy(), -cells["count"].to_numpy(dtype=float), -harm_eligible))
    cumulative = np.cumsum(harm_eligible[order])
    needed = int(np.searchsorted(cumulative, params.harm_share * total * (1 - 1e-12))) + 1
    chosen[order[:needed]] = True
    notes.append(f"{needed} of {len(cells):,} cells ({needed / len(cells):.2%} of the area) hold "
                 f"{cumulative[needed - 1] / total:.0%} of the harm outside excluded places.")
    return chosen


def _stable_id(cell: int) -> str:
    """'HS-' + the peak cell's hex id without the padding digits every cell of its resolution
    shares (unused finer digits are all 1-bits: 4 trailing 'f's at res 9). Reversible and stable
    for as long as the same cell is the area's peak."""
    text = format(int(cell), "x")
    padding = 3 * (15 - ((int(cell) >> 52) & 0xF)) // 4
    return "HS-" + (text[:-padding] if padding else text)


def _areas(cells: pd.DataFrame, chosen: np.ndarray, params: HotspotParams) -> tuple[pd.DataFrame, np.ndarray]:
    """Connected components of chosen cells (ring-1 adjacency), named and ranked by the measure;
    also the area rank of every cell (-1 where not chosen). Plain numpy over the few hundred
    chosen cells: this runs on every hotspot query, and grouped pandas calls cost more than the
    work they do at this size."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    picked = np.flatnonzero(chosen)
    if picked.size == 0:
        return pd.DataFrame(columns=AREA_COLUMNS), np.full(len(cells), -1)
    h3 = cells["h3"].to_numpy()[picked].astype(np.uint64)
    i, j = geography.ring_neighbours(h3, 1)
    graph = csr_matrix((np.ones(i.size), (i, j)), shape=(picked.size, picked.size))
    n_areas, label = connected_components(graph, directed=False)

    other = "harm" if params.measure == "count" else "count"
    column = {name: cells[name].to_numpy(dtype=float)[picked]
              for name in ("count", "harm", "patrols", "patrol_minutes", "gi_z", "lat", "lon")}
    # The peak cell (most of the measure, then of the other measure, then lowest id) gives the
    # area its id, district and CSP, so the id survives small changes elsewhere in the area.
    by_peak = np.lexsort((h3, -column[other], -column[params.measure], label))
    peak = by_peak[np.r_[True, label[by_peak][1:] != label[by_peak][:-1]]]  # one per area, by label
    n_cells = np.bincount(label, minlength=n_areas)
    sums = {name: np.bincount(label, weights=column[name], minlength=n_areas)
            for name in ("count", "harm", "patrols", "patrol_minutes", "lat", "lon")}
    max_z = np.full(n_areas, -np.inf)
    np.maximum.at(max_z, label, column["gi_z"])

    by_area = np.lexsort((h3, label))
    ids = geography.cell_to_str(h3[by_area])
    members = np.split(ids, np.cumsum(n_cells)[:-1])
    # Most common place among the area's incidents, approximated by summing the cells' top
    # locations (the store gives one top location per cell).
    place_n: dict[tuple[int, str], float] = {}
    places = place_name(cells["top_location"].iloc[picked])
    for area, place, n in zip(label, places, cells["top_location_n"].to_numpy()[picked]):
        if place:
            place_n[(area, place)] = place_n.get((area, place), 0) + n
    top_place: dict[int, str] = {}
    for (area, place), _n in sorted(place_n.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1])):
        top_place.setdefault(area, place)

    peak_cells = h3[peak]
    peak_text = geography.cell_to_str(peak_cells)
    district = cells["district"].to_numpy(dtype=object)[picked][peak]
    top_location = np.array([top_place.get(a) for a in range(n_areas)], dtype=object)
    areas = pd.DataFrame({
        "component": np.arange(n_areas), "n_cells": n_cells,
        "count": sums["count"].round().astype(np.int64), "harm": sums["harm"],
        "patrols": sums["patrols"].round().astype(np.int64), "patrol_minutes": sums["patrol_minutes"],
        "max_gi_z": max_z, "lat": sums["lat"] / n_cells, "lon": sums["lon"] / n_cells,
        "peak_cell": peak_text, "district": district, "csp": cells["csp"].to_numpy(dtype=object)[picked][peak],
        "top_location": top_location, "cells": [list(m) for m in members],
        "hotspot_id": [_stable_id(c) for c in peak_cells],
        "hotspot_name": [f"{d} - {t if t is not None else p}" for d, t, p in zip(district, top_location, peak_text)],
    })
    measure = areas[params.measure].to_numpy(dtype=float)
    order = np.lexsort((areas["hotspot_id"].to_numpy(dtype=str), -areas[other].to_numpy(dtype=float), -measure))
    areas = areas.iloc[order].reset_index(drop=True)
    areas["hotspot_name"] = _unique_names(areas["hotspot_name"])
    areas["hotspot_rank"] = np.arange(1, n_areas + 1)
    rank_of_area = np.empty(n_areas, dtype=np.int64)
    rank_of_area[areas["component"].to_numpy()] = areas["hotspot_rank"].to_numpy()
    rank_of_cell = np.full(len(cells), -1)
    rank_of_cell[picked] = rank_of_area[label]
    return areas[AREA_COLUMNS], rank_of_cell


def _unique_names(names: pd.Series) -> pd.Series:
    """Two areas on the same street in the same district get ' (2)', ' (3)' in rank order."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return pd.Series(out, index=names.index, dtype=object)


def score_cells(study_cells: pd.DataFrame, counts: pd.DataFrame, patrols: pd.DataFrame | None,
                top_locations: pd.DataFrame | None, params: HotspotParams = HotspotParams(),
                exclusions: pd.DataFrame | None = None) -> HotspotResult:
    """Score every study cell and select hotspots.

    study_cells: h3 (uint64 or hex), district, csp, one row per cell of the study area.
    counts: h3, count, harm (cells without incidents may be absent). patrols: h3, patrols,
    patrol_minutes. top_locations: h3, location, n (the most common location text per cell).
    exclusions: pattern, reason (see :func:`load_exclusions`); None excludes nothing.
    """
    notes: list[str] = []
    cells = _cell_frame(study_cells, counts, patrols, top_locations, notes)
    n = len(cells)
    if n == 0:
        raise InputError("study area: no cells for the selected districts")
    lat, lon = geography.cell_centres(cells["h3"].to_numpy())
    cells["lat"], cells["lon"] = lat, lon

    values = cells[params.measure].to_numpy(dtype=float)
    i, j = geography.ring_neighbours(cells["h3"].to_numpy(), int(params.k))
    result = gistar(values, i, j, permutations=int(params.permutations), seed=int(params.seed))
    cells["gi_z"] = result.z
    cells["p_norm"] = result.p_norm
    cells["p_sim"] = result.p_sim if result.p_sim is not None else np.nan
    cells["gi_p"] = result.p_sim if result.p_sim is not None else result.p_norm
    # The one and only multiple-testing correction: BH over every cell of the study area.
    cells["gi_p_fdr"] = fdr_bh(cells["gi_p"].to_numpy())
    cells["gi_bin"] = gi_bins(cells["gi_z"].to_numpy(), cells["gi_p_fdr"].to_numpy())

    reason = match_exclusions(cells["top_location"], exclusions)
    cells["exclusion_reason"] = reason.to_numpy(dtype=object)
    cells["excluded"] = cells["exclusion_reason"] != ""

    total = float(cells["count"].sum())
    notes.insert(0, f"Method: {params.describe()}; {n:,} cells in the study area (zeros included), "
                    f"{total:,.0f} incidents.")
    if params.permutations:
        notes.append(f"gi_p is the conditional-permutation pseudo p ({params.permutations} permutations, seed "
                     f"{params.seed}); p_norm keeps the analytical one.")
        smallest = 2.0 / (params.permutations + 1)
        analytical_hits = int((fdr_bh(result.p_norm) < params.alpha).sum())
        if not (cells["gi_p_fdr"] < params.alpha).any() and analytical_hits:
            # BH needs p_(k) <= alpha * k / n, and a pseudo p never goes below 2 / (permutations + 1).
            notes.append(f"No cell is significant after the FDR correction of the permutation p (smallest possible "
                         f"{smallest:.2g}; the analytical p finds {analytical_hits} cells). Conditional permutation "
                         f"asks whether a cell's neighbours are unusual given its own count, and over {n:,} sparse "
                         "cells few survive the correction: select with the analytical p (permutations 0).")
    mean_count = total / n
    if mean_count < SPARSE_MEAN_COUNT:
        notes.append(f"Gi* unreliable: mean count per cell below {SPARSE_MEAN_COUNT:g} ({mean_count:.2f}); "
                     "the normal approximation behind the z-scores is rough on sparse counts. A coarser "
                     "resolution, a longer window or permutations help.")
    if total == 0:
        notes.append("No incidents in the window: no hotspots.")

    eligible = ~cells["excluded"].to_numpy()
    chosen = _select(cells, params, eligible, notes)
    blocked = cells["excluded"].to_numpy() & _select(cells, params, np.ones(n, dtype=bool), [])
    if blocked.any():
        places = sorted(set(place_name(cells.loc[blocked, "top_location"])))
        notes.append(f"{int(blocked.sum())} cell(s) would have been selected but are excluded places: "
                     + "; ".join(places) + ".")

    areas, rank_of_cell = _areas(cells, chosen, params)
    if params.method == "gistar" and params.min_area_count > 0 and len(areas):
        small = areas.loc[areas["count"] < params.min_area_count, "hotspot_rank"].to_numpy()
        if small.size:
            chosen = chosen & ~np.isin(rank_of_cell, small)
            notes.append(f"{small.size} significant area(s) with fewer than {params.min_area_count} incidents "
                         "were left out (busy neighbours, not a place to patrol).")
            areas, rank_of_cell = _areas(cells, chosen, params)
    cells["is_hotspot"] = chosen
    cells["hotspot_rank"] = rank_of_cell
    by_rank = areas.set_index("hotspot_rank") if len(areas) else None
    cells["hotspot_id"] = pd.Series([None] * n, dtype=object)
    cells["hotspot_name"] = pd.Series([None] * n, dtype=object)
    if by_rank is not None:
        hot = rank_of_cell > 0
        cells.loc[hot, "hotspot_id"] = by_rank["hotspot_id"].reindex(rank_of_cell[hot]).to_numpy()
        cells.loc[hot, "hotspot_name"] = by_rank["hotspot_name"].reindex(rank_of_cell[hot]).to_numpy()
    notes.append(f"{int(chosen.sum())} hot cells merged into {len(areas)} hotspot area(s).")
    # Hotspot cells first by rank, then by the measure, then by id. Sorted on the numbers: the ids
    # of one resolution have one length, so numeric order is their text order, and sorting tens of
    # thousands of strings is the slow way to the same answer.
    unranked = np.iinfo(np.int64).max
    order = np.lexsort((cells["h3"].to_numpy(), -cells[params.measure].to_numpy(dtype=float),
                        np.where(rank_of_cell > 0, rank_of_cell, unranked)))
    cells = cells.iloc[order].reset_index(drop=True)
    cells["hotspot_rank"] = cells["hotspot_rank"].where(cells["hotspot_rank"] > 0).astype("Int64")
    cells["h3"] = geography.cell_to_str(cells["h3"].to_numpy())
    return HotspotResult(cells[CELL_COLUMNS], areas.reset_index(drop=True), params, notes)


__all__ = [
    "HotspotParams", "HotspotResult", "CELL_COLUMNS", "AREA_COLUMNS", "METHODS", "MEASURES",
    "score_cells", "load_exclusions", "match_exclusions", "place_name", "DEFAULT_WINDOW_MONTHS",
]
