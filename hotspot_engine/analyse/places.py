"""Hotspot areas a patrol can cover, and names an officer recognises.

Areas (:func:`micro_places`): significant cells are grown into areas from their peaks, busiest cell
first (seeded region growing, as a watershed): a cell joins the neighbouring area with the busiest
peak while that area stays within ``max_area_km2``, and otherwise starts an area of its own. Merging
every touching significant cell instead (connected components) turned central Southampton into
one 160-cell, 15.5 km2 "hotspot" on a real police.uk year; hotspot policing works on micro-places
of 100-250 m (Weisburd), and a patrol walks across a few res-9 cells (0.105 km2 each) in minutes,
so the default cap is 1 km2: at most 9-10 res-9 cells. Optionally (``min_share_of_peak``) a cell
joins an area only with at least that share of its peak's count.

Names (:func:`area_names`): police.uk snaps every incident to an anonymous point named "On or near
<street>" or after a generic place type (Parking Area, Supermarket...). An area is named after the
street carrying most of its incidents (the two leading streets when neither carries half), after
the district; a generic place type never stands alone but may qualify the street it sits on
("Above Bar Street (shopping area)"). An area with no street of its own borrows the commonest street
of the cells around it ("Parking Area near Station Road").
"""
from __future__ import annotations

import h3.api.basic_int as h3i
import numpy as np
import pandas as pd

from hotspot_engine.reference import geography

#: police.uk's generic snap-point types (DOMAIN.md): never a hotspot name on their own.
GENERIC_PLACES = frozenset({
    "parking area", "supermarket", "petrol station", "shopping area", "sports/recreation area", "nightclub",
    "hospital", "park/open space", "bus/coach station", "further/higher educational building",
    "theatre/concert hall", "police station", "ferry terminal", "conference/exhibition centre",
    "motorway service area", "airport/airfield", "railway station", "prison", "pedestrian subway",
})
#: A second street joins the name when the leading one carries less than this share of the area's
#: street-located incidents and the second carries at least half as many as the first.
SPREAD_SHARE = 0.5


#: police.uk publishes possessives title-cased as "Jacob'S Street", "St Mary'S Court" (real Hampshire
#: months, audit item 11): an apostrophe-S ending a word after a small letter goes back to "'s"
#: ("O'Sullivan" and capitals such as "ST JAMES'S" are left).
#: store/query.py's SQL for the briefing's streets uses the same pattern.
POSSESSIVE_S = r"(?<=[a-z])(['\u2019])S\b"


def tidy_place(text: pd.Series) -> pd.Series:
    """Location text as a place name: police.uk's "On or near " prefix dropped, "'S " as "'s "."""
    text = text.astype(object).where(text.notna(), "").astype(str).str.strip()
    text = text.str.replace(r"(?i)^on or near\s+", "", regex=True).str.strip()
    return text.str.replace(POSSESSIVE_S, r"\1s", regex=True)


def is_generic(place: pd.Series) -> pd.Series:
    """True where a place name (without "On or near ") is a generic snap-point type."""
    return place.str.strip().str.lower().isin(GENERIC_PLACES)


def micro_places(h3: np.ndarray, chosen: np.ndarray, priority: np.ndarray, max_area_km2: float,
                 values: np.ndarray | None = None, min_share_of_peak: float = 0.0) -> np.ndarray:
    """Area label (0, 1, ...) of every chosen cell, -1 elsewhere.

    ``h3``: uint64 cells; ``chosen``: which may form areas; ``priority``: cells are taken in
    descending order (ties: the caller's order), so an area's first cell is its peak. A chosen cell
    joins the neighbouring area with the highest-priority peak that still has room for it (its
    total cell area stays within ``max_area_km2``) and whose peak's value it reaches at least
    ``min_share_of_peak`` of (``values``, the measure per cell), else starts a new area."""
    label = np.full(h3.size, -1, dtype=np.int64)
    picked = np.flatnonzero(chosen)
    if picked.size == 0:
        return label
    cells = h3[picked].astype(np.uint64)
    km2 = h3i.cell_area(int(cells[0]), "km^2")  # cells of one resolution differ by a few per cent
    capacity = max(1, int(np.floor(max_area_km2 / km2 + 1e-9)))
    i, j = geography.ring_neighbours(cells, 1)
    by_cell = np.argsort(i, kind="stable")
    # Plain Python lists: the loop below visits every chosen cell once (thousands on a busy year),
    # and list indexing is several times faster than numpy scalar indexing there.
    starts = np.searchsorted(i[by_cell], np.arange(cells.size + 1)).tolist()
    others = j[by_cell].tolist()
    order = np.argsort(-np.asarray(priority, dtype=float)[picked], kind="stable").tolist()
    value = (np.zeros(cells.size) if values is None else np.asarray(values, dtype=float)[picked]).tolist()
    local = [-1] * cells.size
    size: list[int] = []
    peak_value: list[float] = []
    for position in order:
        best = -1
        for other in others[starts[position]:starts[position + 1]]:
            area = local[other]
            # Areas are numbered in order of their peaks, so the lowest number has the busiest peak.
            if (area >= 0 and size[area] < capacity and value[position] >= min_share_of_peak * peak_value[area]
                    and (best < 0 or area < best)):
                best = area
        if best < 0:
            best = len(size)
            size.append(0)
            peak_value.append(value[position])
        local[position] = best
        size[best] += 1
    label[picked] = local
    return label


def area_names(area_cells: list[np.ndarray], districts: list[str], locations: pd.DataFrame | None) -> list[str]:
    """'<district> - <street>' for each area (its cells as uint64 arrays), unique in list order
    (so pass areas in rank order: the higher-ranked area keeps the plainer name).

    ``locations``: h3 (uint64), location (police.uk text or a force address), n (incidents),
    one row per (cell, location) in the window, for every cell (the neighbours lend a street to an
    area without one)."""
    places = _PlaceIndex(locations)
    leading = places.totals_by_area(area_cells)
    labels = [_label(cells, places, totals, street_total)
              for cells, totals, street_total in zip(area_cells, leading, places.street_totals)]
    names = [f"{district} - {label}" for district, label in zip(districts, labels)]
    return _unique(names, area_cells, places)


class _PlaceIndex:
    """Incidents per place name for any set of cells: the (cell, location) rows sorted by cell, so
    an area's rows are a few slices (hundreds of areas are named on every hotspot run)."""

    def __init__(self, locations: pd.DataFrame | None) -> None:
        self.street_totals: list[float] = []
        if locations is None or not len(locations):
            self.h3 = np.zeros(0, dtype=np.uint64)
            self.place: list[str] = []
            self.generic: list[bool] = []
            self.n: list[float] = []
            self.names = pd.Index([], dtype=object)
            self.name_code = np.zeros(0, dtype=np.int64)
            self.generic_array = np.zeros(0, dtype=bool)
            self.n_array = np.zeros(0)
            return
        # Thousands of (cell, location) rows share far fewer distinct texts: clean each text once.
        codes, texts = pd.factorize(locations["location"], use_na_sentinel=True)
        unique = tidy_place(pd.Series(np.asarray(texts, dtype=object), dtype=object))
        names = np.append(unique.to_numpy(dtype=object), "")  # the last slot: rows without a location
        generic = np.append(is_generic(unique).to_numpy(dtype=bool), False)
        codes = np.where(codes < 0, len(unique), codes)
        h3 = _uint64(locations["h3"])
        order = np.argsort(h3, kind="stable")
        self.h3 = h3[order]
        self.place = names[codes[order]].tolist()
        self.generic = generic[codes[order]].tolist()
        self.n = pd.to_numeric(locations["n"]).to_numpy(dtype=float)[order].tolist()
        # The same rows as arrays, each place as the rank of its cleaned name in text order.
        name_rank, self.names = pd.factorize(pd.Series(names, dtype=object), sort=True)
        self.name_code = name_rank[codes[order]]
        self.generic_array = generic[codes[order]]
        self.n_array = np.asarray(self.n, dtype=float)

    def totals(self, cells) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """(streets, generic places) of the cells, each as (name, incidents), most first, ties by name."""
        cells = np.asarray(cells, dtype=np.uint64)
        lo = np.searchsorted(self.h3, cells, side="left")
        hi = np.searchsorted(self.h3, cells, side="right")
        streets: dict[str, float] = {}
        generics: dict[str, float] = {}
        for a, b in zip(lo.tolist(), hi.tolist()):
            for k in range(a, b):
                if self.place[k]:
                    target = generics if self.generic[k] else streets
                    target[self.place[k]] = target.get(self.place[k], 0.0) + self.n[k]
        return _ordered(streets), _ordered(generics)

    def totals_by_area(self, area_cells: list[np.ndarray]) -> list[tuple[list[tuple[str, float]], list[tuple[str, float]]]]:
        """The two leading streets and two leading generic places of every area, as
        :meth:`totals` orders them, at once: the rows of all areas' cells are gathered with one
        search, summed per (area, place) with one bincount and ordered with one sort (hundreds of
        areas are named on a busy year)."""
        empty: list[tuple[list[tuple[str, float]], list[tuple[str, float]]]] = [([], []) for _ in area_cells]
        self.street_totals = [0.0] * len(area_cells)  # every street's incidents per area (the spread rule)
        if not area_cells or self.h3.size == 0:
            return empty
        cells = np.concatenate([np.asarray(c, dtype=np.uint64) for c in area_cells])
        area = np.repeat(np.arange(len(area_cells)), [len(c) for c in area_cells])
        lo = np.searchsorted(self.h3, cells, side="left")
        hi = np.searchsorted(self.h3, cells, side="right")
        lengths = hi - lo
        if lengths.sum() == 0:
            return empty
        rows = np.repeat(lo - np.r_[0, np.cumsum(lengths)[:-1]], lengths) + np.arange(lengths.sum())
        row_area = np.repeat(area, lengths)
        n_names = max(len(self.names), 1)
        key = row_area * n_names + self.name_code[rows]
        keys, inverse = np.unique(key, return_inverse=True)
        sums = np.bincount(inverse, weights=self.n_array[rows])
        key_area, key_name = keys // n_names, keys % n_names
        is_generic = np.zeros(n_names, dtype=bool)
        is_generic[self.name_code[rows]] = self.generic_array[rows]
        order = np.lexsort((key_name, -sums, is_generic[key_name], key_area))
        # A label needs the two leading streets and the leading generic place of each area: keep the
        # first two of each (area, kind) group.
        group = key_area[order] * 2 + is_generic[key_name[order]]
        starts = np.r_[0, np.flatnonzero(group[1:] != group[:-1]) + 1]
        position = np.arange(order.size) - np.repeat(starts, np.diff(np.r_[starts, order.size]))
        street = ~is_generic[key_name]
        self.street_totals = np.bincount(key_area[street], weights=sums[street], minlength=len(area_cells)).tolist()
        order = order[position < 2]
        names = np.asarray(self.names, dtype=object)
        for k in order.tolist():
            name = names[key_name[k]]
            if name:
                empty[key_area[k]][1 if is_generic[key_name[k]] else 0].append((name, float(sums[k])))
        return empty


def _ordered(totals: dict[str, float]) -> list[tuple[str, float]]:
    return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))


def _uint64(values) -> np.ndarray:
    series = pd.Series(values)
    if series.dtype.kind in "iuf":
        return series.fillna(0).to_numpy().astype(np.uint64)
    return np.array([int(str(s), 16) for s in series], dtype=np.uint64)


def _label(cells: np.ndarray, places: _PlaceIndex,
           totals: tuple[list[tuple[str, float]], list[tuple[str, float]]] | None = None,
           street_total: float | None = None) -> str:
    streets, generics = totals if totals is not None else places.totals(cells)
    if not streets:
        near = _nearby_street(cells, places)
        if not generics:
            return f"near {near}" if near else "unnamed place"
        kind = generics[0][0]
        return f"{kind} near {near}" if near else f"{kind} (no street recorded nearby)"
    (first, n_first) = streets[0]
    label = first
    street_total = street_total if street_total is not None else sum(n for _, n in streets)
    if len(streets) > 1 and n_first < SPREAD_SHARE * street_total and streets[1][1] >= 0.5 * n_first:
        label = f"{first} / {streets[1][0]}"
    if generics and generics[0][1] >= n_first:
        label = f"{label} ({generics[0][0].lower()})"
    return label


def _nearby_street(cells: np.ndarray, places: _PlaceIndex, rings: int = 2) -> str | None:
    """Commonest street in the cells around an area (ring 1, then ring 2)."""
    inside = {int(c) for c in cells}
    for k in range(1, rings + 1):
        around = {int(n) for c in cells for n in h3i.grid_disk(int(c), k)} - inside
        streets, _ = places.totals(np.fromiter(around, dtype=np.uint64, count=len(around)))
        if streets:
            return streets[0][0]
    return None


def _unique(names: list[str], area_cells: list[np.ndarray], places: _PlaceIndex) -> list[str]:
    """A repeated name takes the area's next street not already in it; failing that, a number."""
    seen: set[str] = set()
    out = []
    for name, cells in zip(names, area_cells):
        if name in seen:
            for street, _ in places.totals(cells)[0]:
                candidate = f"{name} / {street}"
                if street not in name and candidate not in seen:
                    name = candidate
                    break
        base, k = name, 2
        while name in seen:
            name, k = f"{base} ({k})", k + 1
        seen.add(name)
        out.append(name)
    return out


__all__ = ["GENERIC_PLACES", "is_generic", "micro_places", "area_names"]
