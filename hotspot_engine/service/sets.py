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
from dataclasses import replace as with_changes
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from hotspot_engine.errors import InputError
from hotspot_engine.filters import Filters
from hotspot_engine.store import sets as store

#: What :func:`list_sets` returns, newest first.
LIST_COLUMNS = ["name", "adopted_at", "window_from", "window_to", "hotspots", "cells", "method", "adopted_by", "note"]
CELL_COLUMNS = ["h3", "hotspot_id", "hotspot_number", "hotspot_name", "district", "csp", "lat", "lon", "significant",
                "hotspot_predicted"]
HOTSPOT_COLUMNS = ["hotspot_id", "hotspot_number", "hotspot_name", "cells", "district", "csp", "lat", "lon",
                   "significant", "predicted"]
MAX_NAME = 80


@dataclass(frozen=True)
class AdoptedSet:
    """One adopted set as stored. ``cells``: one row per hotspot cell (CELL_COLUMNS; ``h3`` as text,
    ``hotspot_number`` 1..n as on the map); ``window_from``/``window_to``: the months the hotspots
    were chosen on ('YYYY-MM'); ``adopted_at``: UTC, naive. ``cells["significant"]`` (pandas
    "boolean"): the cell's hotspot stood out from its surroundings beyond chance when adopted, <NA>
    where the set was adopted before this was recorded; ``significance``: what that test meant then
    (None: not recorded). ``cells["hotspot_predicted"]``: the cell's hotspot's predicted rate a month
    as the map showed it when adopted (hotspots.area_predicted), NaN where not recorded (an older
    set, or a method that predicts nothing)."""

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
    significance: str | None = None

    def hotspots(self) -> pd.DataFrame:
        """One row per hotspot, by number: id, number, name, cells, district, CSP, centre,
        ``significant`` ("boolean", <NA>: not recorded) and ``predicted`` (NaN: not recorded)."""
        if self.cells.empty:
            return pd.DataFrame(columns=HOTSPOT_COLUMNS)
        grouped = self.cells.groupby("hotspot_number", sort=True)
        out = grouped.agg(hotspot_id=("hotspot_id", "first"), hotspot_name=("hotspot_name", "first"),
                          cells=("h3", "size"), district=("district", "first"), csp=("csp", "first"),
                          lat=("lat", "mean"), lon=("lon", "mean"),
                          predicted=("hotspot_predicted", "first")).reset_index()
        flags = self.cells.get("significant", pd.Series(pd.NA, index=self.cells.index, dtype="boolean"))
        recorded = flags.notna().groupby(self.cells["hotspot_number"]).all()
        beyond = flags.fillna(False).astype(bool).groupby(self.cells["hotspot_number"]).any()
        out["significant"] = pd.array([b if r else pd.NA for b, r in zip(beyond.reindex(out["hotspot_number"]),
                                                                           recorded.reindex(out["hotspot_number"]))],
                                      dtype="boolean")
        return out[HOTSPOT_COLUMNS]

    def chance_line(self, short: bool = False, places: Filters | None = None) -> str:
        """One line: how many of the set's hotspots stand out from their surroundings beyond chance
        (or that it was not recorded when the set was adopted); ``short`` for the wall screen.
        ``places``: only the hotspots in those filters' districts and CSPs (:func:`within`), as the
        Overview's headline counts them: with four CSPs chosen it read "11 hotspots" beside "6 of 19
        stand out" ('' when none is there)."""
        from hotspot_engine.render.context import chance_line

        if places is not None and (places.districts or places.csps):
            keep = _in_places(self, places)
            return with_changes(self, cells=self.cells[keep]).chance_line(short) if keep.any() else ""
        return chance_line(self.hotspots()["significant"], recorded_when="the set was adopted", short=short)

    def predicted(self) -> dict[str, float | None]:
        """hotspot_id -> its predicted rate a month as adopted, for a set ranked by prediction; None
        where the set was adopted before the rate was stored ("not recorded", never 0). Empty for
        other methods, which rank by count and predict nothing."""
        if self.method != "predict":
            return {}
        hotspots = self.hotspots()
        return {str(h): (float(v) if pd.notna(v) else None) for h, v in zip(hotspots["hotspot_id"], hotspots["predicted"])}

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
    if len(text) > MAX_NAME or any(ord(ch) < 32 for ch in text) or text.startswith("("):
        # "(" is kept for the app's own choices ("(none)": today's hotspots).
        raise InputError(f"set name: at most {MAX_NAME} characters, no control characters, not starting with '('")
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
    from hotspot_engine.analyse.hotspots import area_predicted
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
    areas = getattr(result, "areas", None)  # the sample trial's planted set has cells only
    rates = (pd.Series(area_predicted(areas, result.cells)["predicted"].to_numpy(), index=areas["hotspot_id"].to_numpy())
             if areas is not None and len(areas) and "hotspot_id" in areas else pd.Series(dtype=float))
    import h3.api.basic_int as h3i

    centres = np.array([h3i.cell_to_latlng(int(c)) for c in ids]) if len(ids) else np.zeros((0, 2))
    cells = pd.DataFrame({
        "h3": hot["h3"].astype(str).to_numpy(), "hotspot_id": hot["hotspot_id"].astype(str).to_numpy(),
        "hotspot_number": [number[h] for h in hot["hotspot_id"]],
        "hotspot_name": hot["hotspot_name"].astype(object).to_numpy(),
        "district": hot["district"].astype(object).to_numpy() if "district" in hot else None,
        "csp": hot["csp"].astype(object).to_numpy() if "csp" in hot else None,
        "lat": centres[:, 0], "lon": centres[:, 1],
        # The hotspot's place stood out from its surroundings beyond chance (analyse.hotspots): kept so
        # that outputs made on the set months later can still say how many do (audit 2026-12-07 item 4).
        "significant": pd.array(hot["significant"].astype(object).where(hot["significant"].notna(), None).to_numpy()
                                if "significant" in hot else [pd.NA] * len(hot), dtype="boolean"),
        # The rate the map and the briefing showed beside the count, kept so the set's briefings show it
        # too without recomputing it on data loaded since.
        "hotspot_predicted": hot["hotspot_id"].map(rates[~rates.index.duplicated()]).to_numpy(dtype=float),
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
        "significance": _significance_text() if cells["significant"].notna().any() else None,
    }
    store.write_set(con, row, cells, replace)
    adopted = load(con, name)
    assert adopted is not None
    return adopted


def _significance_text() -> str:
    from hotspot_engine.analyse.predict import SIGNIFICANT_TEXT

    return SIGNIFICANT_TEXT


def version(con) -> str:
    """Changes whenever a set is adopted or replaced: what the app's cached set calls key on."""
    return store.version(con)


#: The built-in sample's set: its 19 hotspots for 2023-24, chosen on 2022-23 (the year before its
#: patrols), as the partnership's report chose them; adopted at the app's first start.
SAMPLE_SET = "Sample 2023-24"
SAMPLE_WINDOW = Filters(date_from="2022-04", date_to="2023-03", sv_only=True)
SAMPLE_ADOPTER = "built-in sample"


def adopt_sample_set(con) -> AdoptedSet | None:
    """Adopt the sample's 19 hotspots for 2023-24 (the app's first start on the sample), so every page
    shows the programme; None when the store already holds it, or a set the sample did not adopt (the
    sample's trial set, adopted just before at first start, does not count)."""
    from hotspot_engine.service.analyses import hotspots

    listed = list_sets(con)
    if (listed["name"] == SAMPLE_SET).any() or (listed["adopted_by"] != SAMPLE_ADOPTER).any():
        return None
    result = hotspots(con, SAMPLE_WINDOW)
    return adopt(con, SAMPLE_SET, result, SAMPLE_WINDOW, asdict(result.params), SAMPLE_WINDOW, SAMPLE_ADOPTER,
                 "The synthetic sample's hotspots for 2023-24, chosen on 2022-23 (the year before its patrols).")


def remove_sample_sets(con) -> int:
    """Delete the sample's own set (when the sample's rows are removed, its places go too)."""
    return store.delete_adopted_by(con, SAMPLE_ADOPTER)


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
    cells["significant"] = cells["significant"].astype("boolean")
    cells["hotspot_predicted"] = cells["hotspot_predicted"].astype(float)
    adopted_at = pd.Timestamp(row["adopted_at"]).to_pydatetime()
    return AdoptedSet(
        name=str(row["name"]), adopted_at=adopted_at, adopted_by=str(row["adopted_by"] or ""),
        note=str(row["note"] or ""), method=str(row["method"] or ""), params=json.loads(row["params"] or "{}"),
        filters=_filters_from_json(row["filters"]), window_from=row["window_from"] or None,
        window_to=row["window_to"] or None, cells=cells[CELL_COLUMNS].reset_index(drop=True),
        significance=None if pd.isna(row.get("significance")) else str(row["significance"]))


# -- the set as the rest of the engine takes hotspots ------------------------------------------------

def _params_of(adopted: AdoptedSet):
    """The set's HotspotParams, or the defaults when a newer method's parameters do not fit them
    (the params stay recorded on the set either way)."""
    from hotspot_engine.analyse.hotspots import HotspotParams

    known = {f.name for f in fields(HotspotParams)}
    try:
        return HotspotParams(**{k: v for k, v in adopted.params.items() if k in known})
    except (InputError, TypeError, ValueError):
        return HotspotParams()


def as_result(adopted: AdoptedSet, counts: pd.DataFrame | None = None):
    """The set as a HotspotResult, so that the patrol report, plan, briefing, exports and maps take it
    where they took today's selection: ``cells`` holds only the set's cells (``is_hotspot`` true,
    ``hotspot_rank`` = the set's number), ``areas`` one row per hotspot. ``counts`` (h3 as text,
    count, harm) fills the incident figures; without it they are 0."""
    from hotspot_engine.analyse.hotspots import HotspotResult

    # The stored rate stays out of the cells (and so out of every export layer), as in a fresh selection.
    cells = adopted.cells.drop(columns=["hotspot_predicted"])
    figures = counts.set_index("h3") if counts is not None and len(counts) else pd.DataFrame(columns=["count", "harm"])
    for column in ("count", "harm"):
        cells[column] = figures[column].reindex(cells["h3"]).fillna(0).to_numpy(dtype=float) if column in figures else 0.0
    cells["count"] = cells["count"].astype(np.int64)
    cells = cells.assign(is_hotspot=True, next_ranked=False, hotspot_rank=cells["hotspot_number"].astype("Int64"),
                         area_rank=cells["hotspot_number"].astype("Int64"), area_name=cells["hotspot_name"],
                         patrols=0, patrol_minutes=0.0, excluded=False, exclusion_reason="")
    hotspots = adopted.hotspots()
    sums = cells.groupby("hotspot_number")[["count", "harm"]].sum()
    members = cells.groupby("hotspot_number")["h3"].apply(list)
    areas = pd.DataFrame({
        "hotspot_rank": hotspots["hotspot_number"].to_numpy(), "hotspot_id": hotspots["hotspot_id"].to_numpy(),
        "hotspot_name": hotspots["hotspot_name"].to_numpy(), "csp": hotspots["csp"].to_numpy(),
        "district": hotspots["district"].to_numpy(), "n_cells": hotspots["cells"].to_numpy(),
        "count": sums["count"].reindex(hotspots["hotspot_number"]).to_numpy(),
        "harm": sums["harm"].reindex(hotspots["hotspot_number"]).to_numpy(),
        "patrols": 0, "patrol_minutes": 0.0, "peak_cell": members.reindex(hotspots["hotspot_number"]).str[0].to_numpy(),
        "cells": members.reindex(hotspots["hotspot_number"]).to_numpy(),
        "lat": hotspots["lat"].to_numpy(), "lon": hotspots["lon"].to_numpy(),
        "hotspot_number": hotspots["hotspot_number"].to_numpy(),
        "significant": hotspots["significant"].to_numpy(),
    })
    notes = [f"Hotspots: the adopted set '{adopted.name}' ({len(areas)} hotspots, {len(cells)} cells), chosen on "
             f"{adopted.window()} and adopted {adopted.adopted_at:%Y-%m-%d}; not recomputed."]
    return HotspotResult(cells.reset_index(drop=True), areas, _params_of(adopted), notes)


def hot_cells(adopted: AdoptedSet) -> pd.DataFrame:
    """h3 (uint64), hotspot_id, hotspot_name, hotspot_number: the set's cells as Impact takes them."""
    return pd.DataFrame({"h3": adopted.cell_ids(), "hotspot_id": adopted.cells["hotspot_id"].to_numpy(),
                         "hotspot_name": adopted.cells["hotspot_name"].to_numpy(),
                         "hotspot_number": adopted.cells["hotspot_number"].to_numpy()})


@dataclass(frozen=True)
class SetWindow:
    """The months every page and output counts a set's incidents over, and the words that say so."""

    date_from: str | None
    date_to: str | None
    label: str


def set_window(adopted: AdoptedSet, last_month: str | None, stored: set[str] | None = None) -> SetWindow:
    """One window for the set's figures on every page and output: the year it was chosen for (the 12
    months after the months it was chosen on, as the sample's "2023-24" set chosen on 2022-23, and as
    DOMAIN.md has a partnership judged on its list for that period), up to the store's last month;
    while the store holds none of that year yet (a set adopted on the latest months), the months it
    was chosen on. ``stored``: the store's months, to say how many of the window's it holds.

    Before (audit 2026-12-07 item 2), the real store's #1 had 53 incidents on Patrols (the sidebar's
    2018-03..2024-04), 175 in all hotspots on the Overview and patrol-plan (2023-05..2024-04) and 45
    on the meeting PDF and briefing (the months chosen on), none of them stated beside the figure."""
    from hotspot_engine.filters import months_between, shift_month

    if not adopted.window_to or not last_month:
        return SetWindow(adopted.window_from, adopted.window_to, f"{adopted.window()}, the months the set was chosen on")
    year = (shift_month(adopted.window_to, 1), shift_month(adopted.window_to, 12))
    if last_month >= year[0]:
        first, last = year[0], min(year[1], last_month)
        label = f"{first} to {last}, the year the set was chosen for" + (
            "" if last == year[1] else f" so far (it runs to {year[1]})")
    else:
        first, last = adopted.window_from or adopted.window_to, adopted.window_to
        label = (f"{first} to {last}, the months the set was chosen on (none of the year it was chosen for, "
                 f"{year[0]} to {year[1]}, is stored yet)")
    if stored is not None:
        window = months_between(first, last)
        held = len(set(window) & stored)
        label += f"; {held} of its {len(window)} months stored" if held < len(window) else ""
    return SetWindow(first, last, label)


def store_set_window(con, adopted: AdoptedSet) -> SetWindow:
    """:func:`set_window` for the store's months."""
    from hotspot_engine.store import query

    return set_window(adopted, query.extent(con).last_month, query.stored_months(con))


def counting_filters(adopted: AdoptedSet, filters: Filters | None = None) -> Filters:
    """The filters to count incidents in the set's cells with: the set's own places, offences and
    resolution (its cells are at that resolution), with ``filters``' months when given."""
    base = adopted.filters
    months = (filters.date_from, filters.date_to) if filters is not None else (adopted.window_from, adopted.window_to)
    sv = base if (base.offences or base.sv_only) else base.with_(sv_only=True)
    return sv.with_(date_from=months[0], date_to=months[1])


def set_result(con, adopted: AdoptedSet, harm_weights=None, months: Filters | None = None):
    """:func:`as_result` with each cell's incidents over the set's places and offences and over the
    set's window (:func:`set_window`, the same on every page and output), or over ``months``' months
    when it gives any (an export asked for 2024-03..04 had written the set window's counts under that
    label). The result's second note says which months the counts cover."""
    from hotspot_engine.reference.geography import cell_to_str
    from hotspot_engine.store import query

    if months is not None and (months.date_from or months.date_to):
        label = f"{months.date_from or 'the first month'} to {months.date_to or 'the last month'}"
    else:
        window = store_set_window(con, adopted)
        months, label = Filters(date_from=window.date_from, date_to=window.date_to), window.label
    counts = query.cell_counts(con, counting_filters(adopted, months), harm_weights)
    counts = counts[counts["h3"].notna()]
    counts = pd.DataFrame({"h3": cell_to_str(counts["h3"].to_numpy(dtype=np.uint64)),
                           "count": counts["count"].to_numpy(), "harm": counts["harm"].to_numpy()})
    result = as_result(adopted, counts)
    result.notes.append(f"Incident counts (count, harm) cover {label}.")
    return result


def within(adopted: AdoptedSet, filters: Filters) -> AdoptedSet:
    """The set's hotspots in the filters' places (by each hotspot's district, so a hotspot is kept or
    left whole), numbers and names unchanged: Southampton's hotspots of a force-wide set keep their
    force-wide numbers. InputError when none is there."""
    if not (filters.districts or filters.csps):
        return adopted
    keep = _in_places(adopted, filters)
    if not keep.any():
        raise InputError(f"set {adopted.name}: none of its hotspots is in the chosen places")
    return with_changes(adopted, cells=adopted.cells[keep].reset_index(drop=True))


def _in_places(adopted: AdoptedSet, filters: Filters) -> pd.Series:
    """Which of the set's cells lie in the filters' districts and CSPs (by the cell's district)."""
    from hotspot_engine.reference.geography import districts_for

    return adopted.cells["district"].isin(districts_for(filters.districts, filters.csps))


def on_set(filters: Filters, adopted: AdoptedSet) -> Filters:
    """The filters at the set's resolution (its cells are at that resolution)."""
    return filters.with_(res=adopted.filters.res)


def patrol_report(con, filters: Filters, adopted: AdoptedSet, target=None, actions=None, harm_weights=None):
    """The patrol report for the filters' period on the set's hotspots (never recomputed)."""
    from hotspot_engine.analyse.patrols import DosageTarget
    from hotspot_engine.service import analyses

    adopted = within(adopted, filters)
    result = set_result(con, adopted, harm_weights)
    report = analyses.patrol_report(con, on_set(filters, adopted), target or DosageTarget(), actions,
                                    harm_weights=harm_weights, hotspots=result)
    report.predicted = adopted.predicted()  # as adopted: the set's cells carry no prediction to recompute from
    report.notes.append(result.notes[0])
    return report


def patrol_plan(con, filters: Filters, adopted: AdoptedSet, seed: int = 0, target=None, **plan_options):
    """The set's patrol report for the filters and the suggested plan for the week after."""
    from hotspot_engine.analyse.patrols import suggest_plan

    report = patrol_report(con, filters, adopted, target)
    return report, suggest_plan(report, seed=seed, **plan_options)


def export_layers(con, filters: Filters, names: list[str], adopted: AdoptedSet, harm_weights=None):
    """Export layers on the set: ``hotspot_cells``/``hotspot_areas`` are the set's cells and hotspots
    (``is_hotspot`` true, ids, numbers, names); ``patrols`` rows carry the set hotspot they fell in."""
    from hotspot_engine.service.exports import export_layers as layers
    from hotspot_engine.write import export

    adopted = within(adopted, filters)
    result = set_result(con, adopted, harm_weights, filters)
    bundle = layers(con, on_set(filters, adopted), [n for n in names if n != "patrols"], hotspots=result,
                    harm_weights=harm_weights)
    if "patrols" in names:
        from hotspot_engine.store import query

        rows = query.patrol_rows(con, on_set(filters, adopted))
        bundle.layers["patrols"] = export.patrols_layer(tag_hotspots(rows, adopted))
        bundle.notes.append(result.notes[0])
    return bundle


def tag_hotspots(rows: pd.DataFrame, adopted: AdoptedSet) -> pd.DataFrame:
    """Patrol rows with the set's hotspot id, number and name of the cell they fell in (or the hotspot
    the log named), empty elsewhere."""
    from hotspot_engine.reference.geography import cell_to_str

    text = pd.Series(cell_to_str(rows["h3"].fillna(0).to_numpy(dtype=np.uint64)) if len(rows) else [], dtype=object,
                     index=rows.index)
    by_cell = adopted.cells.drop_duplicates("h3").set_index("h3")
    by_id = adopted.hotspots().set_index("hotspot_id")
    hotspot_id = text.map(by_cell["hotspot_id"])
    named = rows["hotspot_ref"].astype(object).where(rows["hotspot_ref"].isin(by_id.index))
    hotspot_id = hotspot_id.where(hotspot_id.notna(), named)
    return rows.assign(hotspot_id=hotspot_id, hotspot_number=hotspot_id.map(by_id["hotspot_number"]).astype("Int64"),
                       hotspot_name=hotspot_id.map(by_id["hotspot_name"]))

