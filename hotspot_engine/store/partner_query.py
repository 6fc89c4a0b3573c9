"""Partner layers read from the store: the thin SQL side of :mod:`hotspot_engine.analyse.partners`.

Police counts per LSOA use the LSOA code each police row carries when it is one the product knows
(a 2011 code of the 14 districts, or a 2021 code police.uk gives with a name in the 14 districts);
rows without one are placed in a 2011 LSOA by point-in-polygon.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from hotspot_engine.errors import InputError
from hotspot_engine.filters import Filters
from hotspot_engine.reference.geography import csp_lookup, districts_for

SHARING_ORDER = ("open", "partnership", "restricted")


def partner_layers(con) -> pd.DataFrame:
    """One row per stored partner layer: source, kind (areas|events|places), owner, sharing (the
    most restricted level among its rows), rows, first and last month ('' for places)."""
    parts = []
    for kind, when in (("areas", "month"), ("events", "month"), ("places", None)):
        span = (f"strftime(min({when}), '%Y-%m'), strftime(max({when}), '%Y-%m')" if when else "'', ''")
        rows = con.execute(
            f"SELECT source, string_agg(DISTINCT owner, ', ' ORDER BY owner), "
            f"max(CASE sharing WHEN 'restricted' THEN 2 WHEN 'partnership' THEN 1 ELSE 0 END), count(*), {span} "
            f"FROM partner_{kind} GROUP BY source ORDER BY source").fetchall()
        parts += [{"source": r[0], "kind": kind, "owner": r[1], "sharing": SHARING_ORDER[int(r[2])], "rows": int(r[3]),
                   "first": r[4] or "", "last": r[5] or ""} for r in rows]
    return pd.DataFrame(parts, columns=["source", "kind", "owner", "sharing", "rows", "first", "last"])


def layer_of(con, source: str) -> dict:
    layers = partner_layers(con)
    hit = layers[layers["source"] == source]
    if hit.empty:
        known = ", ".join(layers["source"]) or "none loaded"
        raise InputError(f"--source: no partner layer named '{source}' (layers: {known})")
    return hit.iloc[0].to_dict()


def _window(con, filters: Filters, source: str, table: str) -> Filters:
    """The months to compare: the months the partner layer covers, within the filters' window (police
    months the partner data does not cover would only lower the ratio everywhere)."""
    first, last = con.execute(f"SELECT strftime(min(month), '%Y-%m'), strftime(max(month), '%Y-%m') FROM {table} "
                              "WHERE source = ?", [source]).fetchall()[0]
    start = max(filter(None, (filters.date_from, first)))
    end = min(filter(None, (filters.date_to, last)))
    if start > end:
        raise InputError(f"partners: '{source}' has no data from {filters.date_from or 'the start'} to "
                         f"{filters.date_to or 'the end'} (it covers {first} to {last})")
    return _police_held(con, filters.with_(date_from=start, date_to=end))


def _police_held(con, filters: Filters) -> Filters:
    """The window cut to its last unbroken run of months the store holds police data for: a partner
    month with no police month beside it is no evidence of a higher partner ratio (the sample's A&E
    2022-04..2024-03 beside the real police months 2024-01..03 compared 24 months with 3)."""
    from hotspot_engine.filters import months_between, shift_month
    from hotspot_engine.store.query import stored_months

    held = stored_months(con)
    months = [m for m in months_between(str(filters.date_from), str(filters.date_to)) if m in held]
    if not months:
        raise InputError("partners: the store holds no police data in the months the partner layer covers")
    first = months[-1]
    while shift_month(first, -1) in months:
        first = shift_month(first, -1)
    return filters.with_(date_from=first, date_to=months[-1])


def _known_codes(con) -> pd.DataFrame:
    from hotspot_engine.read.partners import known_lsoa_districts

    known = known_lsoa_districts(con)
    return pd.DataFrame({"lsoa_code": list(known), "district": list(known.values())})


def _lsoa_of_points(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """2011 LSOA code per point (None outside every LSOA), by point-in-polygon."""
    import shapely

    from hotspot_engine.reference.geography import lsoas

    frame = lsoas()
    out = np.full(lat.size, None, dtype=object)
    if lat.size:
        tree = shapely.STRtree(frame.geometry.to_numpy())
        point_idx, poly_idx = tree.query(shapely.points(lon, lat), predicate="within")
        out[point_idx] = frame["lsoa_code"].to_numpy()[poly_idx]
    return out


def police_lsoa_counts(con, filters: Filters, known: pd.DataFrame) -> pd.Series:
    """Police-recorded violence per LSOA code in the filters' months (the filters' offences when
    given, else the violence groups of analyse.partners.POLICE_VIOLENCE_GROUPS)."""
    from hotspot_engine.analyse.partners import POLICE_VIOLENCE_GROUPS
    from hotspot_engine.store.query import where_incidents

    where, params = where_incidents(filters.with_(districts=(), csps=()))
    if not filters.offences and not filters.sv_only:
        where += " AND i.offence_group IN (SELECT unnest(?))"
        params.append(list(POLICE_VIOLENCE_GROUPS))
    con.register("_known_lsoas", known[["lsoa_code"]])
    try:
        coded = con.execute(
            f"SELECT upper(i.lsoa_code) AS lsoa_code, count(*) AS n FROM incidents i WHERE {where} "
            "AND upper(i.lsoa_code) IN (SELECT lsoa_code FROM _known_lsoas) GROUP BY 1", params).df()
        uncoded = con.execute(
            f"SELECT i.lat, i.lon FROM incidents i WHERE {where} AND (i.lsoa_code IS NULL OR upper(i.lsoa_code) "
            "NOT IN (SELECT lsoa_code FROM _known_lsoas))", params).fetchnumpy()
    finally:
        con.unregister("_known_lsoas")
    placed = pd.Series(_lsoa_of_points(np.asarray(uncoded["lat"], float), np.asarray(uncoded["lon"], float)))
    counts = coded.set_index("lsoa_code")["n"].astype(np.int64)
    return counts.add(placed.dropna().value_counts().astype(np.int64), fill_value=0).astype(np.int64)


def partner_lsoa_counts(con, source: str, kind: str, filters: Filters) -> pd.Series:
    """The layer's count per LSOA code over the filters' months: area counts summed, events placed
    in LSOAs by point-in-polygon."""
    params = [source, f"{filters.date_from}-01", f"{filters.date_to}-01"]
    if kind == "areas":
        frame = con.execute("SELECT lsoa_code, sum(count) AS n FROM partner_areas WHERE source = ? AND month >= ? "
                            "AND month <= ? GROUP BY 1", params).df()
        return frame.set_index("lsoa_code")["n"].astype(np.int64)
    if kind == "events":
        points = con.execute("SELECT lat, lon FROM partner_events WHERE source = ? AND month >= ? AND month <= ?",
                             params).fetchnumpy()
        placed = pd.Series(_lsoa_of_points(np.asarray(points["lat"], float), np.asarray(points["lon"], float)))
        return placed.dropna().value_counts().astype(np.int64)
    raise InputError(f"--source: '{source}' is a layer of places, not counts; choose an area or event layer")


def _units() -> dict[str, str]:
    from hotspot_engine.reference import area as area_pack
    from hotspot_engine.reference.geography import GEODATA_DIR

    return area_pack.comparison_units(GEODATA_DIR)


def _in_units(counts: pd.Series, units: dict[str, str]) -> pd.Series:
    """Counts per LSOA code summed per comparison unit (:func:`area.comparison_units`)."""
    if counts.empty:
        return counts
    keys = pd.Index([units.get(str(c), str(c)) for c in counts.index])
    return counts.groupby(keys).sum().astype(np.int64)


def _unit_districts(known: pd.DataFrame, units: dict[str, str]) -> pd.DataFrame:
    """``known`` with every comparison unit its codes map to (a merged 2021 code police data may not
    carry yet) given the district of the codes it stands for."""
    extra = pd.DataFrame({"lsoa_code": [units[c] for c in known["lsoa_code"] if c in units],
                          "district": [d for c, d in zip(known["lsoa_code"], known["district"]) if c in units]})
    return pd.concat([known, extra], ignore_index=True).drop_duplicates("lsoa_code")


def lsoa_comparison(con, source: str, filters: Filters) -> tuple[pd.DataFrame, Filters]:
    """Per LSOA of the whole force area (the funnel's ratio is force-wide): lsoa_code, district,
    csp, partner_count, police_count; and the filters with the window actually used (the district
    and CSP filters then choose which LSOAs the funnel table shows)."""
    layer = layer_of(con, source)
    filters = _window(con, filters, source, f"partner_{layer['kind']}")
    known = _known_codes(con)
    # Both vintages count in one unit (a split 2011 LSOA keeps its police counts after 2023).
    units = _units()
    police = _in_units(police_lsoa_counts(con, filters, known), units)
    partner = _in_units(partner_lsoa_counts(con, source, layer["kind"], filters), units)
    from hotspot_engine.reference.geography import lsoas

    # Every LSOA of the districts, plus the 2021 codes either side actually uses, in their units.
    codes = {units.get(c, c) for c in lsoas()["lsoa_code"]} | set(police.index) | set(partner.index)
    known = _unit_districts(known, units)
    table = known[known["lsoa_code"].isin(codes)].copy()
    table = table.merge(csp_lookup()[["district", "csp"]], on="district", how="left")
    table["partner_count"] = table["lsoa_code"].map(partner).fillna(0).astype(np.int64)
    table["police_count"] = table["lsoa_code"].map(police).fillna(0).astype(np.int64)
    return table.sort_values("lsoa_code").reset_index(drop=True), filters


def without_gaps(con, source: str, table: pd.DataFrame, gaps: pd.DataFrame) -> pd.DataFrame:
    """``table`` (:func:`lsoa_comparison`'s) with each LSOA's partner count less its months that its
    district's police force holds no data for while another force does (``gaps``: district, month):
    a year of A&E counts against three months of Durham's police counts read as a partner ratio four
    times the force's in every Durham LSOA."""
    layer = layer_of(con, source)
    units = _units()
    out = table.copy()
    for month, rows in gaps.groupby("month"):
        lost = _in_units(partner_lsoa_counts(con, source, layer["kind"], Filters(date_from=month, date_to=month)), units)
        inside = out["district"].isin(set(rows["district"])).to_numpy()
        out.loc[inside, "partner_count"] -= out.loc[inside, "lsoa_code"].map(lost).fillna(0).astype(np.int64)
    return out


def point_cells(con, res: int, filters: Filters) -> pd.DataFrame:
    """Events (in the filters' months) and places per cell at ``res``: source, kind, h3, count."""
    params = [f"{filters.date_from}-01" if filters.date_from else "1900-01-01",
              f"{filters.date_to}-01" if filters.date_to else "2999-12-01"]
    events = con.execute(f"SELECT source, 'events' AS kind, h3_r{res} AS h3, count(*) AS count FROM partner_events "
                         "WHERE month >= ? AND month <= ? GROUP BY 1, 2, 3", params).df()
    places = con.execute(f"SELECT source, 'places' AS kind, h3_r{res} AS h3, count(*) AS count FROM partner_places "
                         "GROUP BY 1, 2, 3").df()
    return pd.concat([events, places], ignore_index=True)


def area_totals(con, filters: Filters) -> pd.DataFrame:
    """Every area layer's total per LSOA over the filters' months: source, lsoa_code, count."""
    params = [f"{filters.date_from}-01" if filters.date_from else "1900-01-01",
              f"{filters.date_to}-01" if filters.date_to else "2999-12-01"]
    return con.execute("SELECT source, lsoa_code, sum(count) AS count FROM partner_areas WHERE month >= ? AND "
                       "month <= ? GROUP BY 1, 2", params).df()


def cell_lsoas(con, cells: np.ndarray, filters: Filters) -> pd.DataFrame:
    """h3, lsoa_code for the LSOAs each cell touches: 2011 LSOAs whose polygon meets the cell,
    plus the LSOA codes police rows inside the cell carry (the 2021 codes geodata lacks)."""
    import shapely

    from hotspot_engine.reference.geography import cell_polygons, lsoas

    cells = np.asarray(cells, dtype=np.uint64)
    if cells.size == 0:
        return pd.DataFrame({"h3": pd.Series(dtype=np.uint64), "lsoa_code": pd.Series(dtype=object)})
    frame = lsoas()
    tree = shapely.STRtree(frame.geometry.to_numpy())
    cell_idx, poly_idx = tree.query(cell_polygons(cells).to_numpy(), predicate="intersects")
    geometric = pd.DataFrame({"h3": cells[cell_idx], "lsoa_code": frame["lsoa_code"].to_numpy()[poly_idx]})
    con.register("_cells", pd.DataFrame({"h3": cells}))
    try:
        coded = con.execute(f"SELECT DISTINCT i.h3_r{filters.res} AS h3, upper(i.lsoa_code) AS lsoa_code FROM incidents i "
                            f"WHERE i.lsoa_code IS NOT NULL AND i.h3_r{filters.res} IN (SELECT h3 FROM _cells)").df()
    finally:
        con.unregister("_cells")
    return pd.concat([geometric, coded], ignore_index=True).drop_duplicates().reset_index(drop=True)


def cell_of_lsoa(cells: np.ndarray) -> pd.DataFrame:
    """h3, lsoa_code: the 2011 LSOA holding each cell's centre (cells whose centre is in none are
    left out)."""
    from hotspot_engine.reference.geography import cell_centres

    cells = np.asarray(cells, dtype=np.uint64)
    lat, lon = cell_centres(cells)
    code = _lsoa_of_points(np.asarray(lat, float), np.asarray(lon, float))
    keep = ~pd.isna(code)
    return pd.DataFrame({"h3": cells[keep], "lsoa_code": code[keep]})


def layer_points(con, source: str, kind: str, filters: Filters) -> pd.DataFrame:
    """One layer's points in the selected districts: lat, lon, h3 (at filters.res), label, detail.
    Events are those in the filters' months; places are all the layer's places."""
    selected = districts_for(filters.districts, filters.csps)
    if kind == "events":
        params = [source, selected, f"{filters.date_from}-01" if filters.date_from else "1900-01-01",
                  f"{filters.date_to}-01" if filters.date_to else "2999-12-01"]
        return con.execute(
            f"SELECT lat, lon, h3_r{filters.res} AS h3, COALESCE(category, 'event') AS label, "
            "strftime(COALESCE(occurred_at, month), '%Y-%m-%d') AS detail FROM partner_events "
            "WHERE source = ? AND district IN (SELECT unnest(?)) AND month >= ? AND month <= ?", params).df()
    return con.execute(
        f"SELECT lat, lon, h3_r{filters.res} AS h3, COALESCE(name, 'place') AS label, "
        "concat_ws(', ', kind, CASE WHEN closing_time IS NULL THEN NULL ELSE 'closes ' || closing_time END) AS detail "
        "FROM partner_places WHERE source = ? AND district IN (SELECT unnest(?))", [source, selected]).df()
