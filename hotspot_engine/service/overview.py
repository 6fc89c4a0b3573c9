"""The Overview's figures for whatever months the store holds (see
:mod:`hotspot_engine.analyse.periods` for the three cases), overall and inside the adopted set."""
from __future__ import annotations

from dataclasses import replace

from hotspot_engine.analyse.periods import PeriodFigures, compare_periods
from hotspot_engine.filters import Filters, months_between, shift_month
from hotspot_engine.service.quality import held_months, no_data_words
from hotspot_engine.service.sets import AdoptedSet, set_window
from hotspot_engine.store import query


def overview_periods(con, filters: Filters, adopted: AdoptedSet | None = None
                     ) -> tuple[PeriodFigures | None, PeriodFigures | None]:
    """The Overview's comparison for whatever months the store holds (the filters' places and
    offences; serious violence when none is chosen): (PeriodFigures of every incident, and of
    those inside the adopted set's cells over the set's window when a set is given, else None).

    The set's figure is counted over :func:`~hotspot_engine.service.sets.set_window`, the window
    every page and output uses for the set; its ``line`` says which months those are.

    The overall figure counts only the months every police force of the places holds
    (:func:`~hotspot_engine.service.quality.held_months`): on Cleveland 2021 + Durham 2021-10..12 the
    whole area's mean a month mixed Cleveland's twelve months with Durham's three (Durham's nine
    unstored months read as its zeros), and its comparisons a rise that was Durham's data arriving."""
    ext = query.extent(con)
    if ext.first_month is None or ext.last_month is None:
        return None, None
    base = filters.with_(date_from=None, date_to=None)
    sv = base if (base.offences or base.sv_only) else base.with_(sv_only=True)
    stored = query.stored_months(con)
    overall = _overall(con, sv, ext.first_month, ext.last_month, stored)
    if adopted is None:
        return overall, None
    inside = query.cell_month_counts(con, sv.with_(res=adopted.filters.res))
    inside = inside[inside["h3"].isin(set(adopted.cell_ids().tolist()))]
    monthly = inside.groupby("month", as_index=False)["count"].sum()
    window = set_window(adopted, ext.last_month, stored)
    # The set's places are judged on the months every force of its own districts holds.
    stored = _set_months(con, sv, adopted, stored)
    monthly = monthly[monthly["month"].astype(str).isin(stored)]
    first, last = window.date_from or ext.first_month, window.date_to or ext.last_month
    figures = compare_periods(monthly, first, last, stored)
    before = (shift_month(first, -12), shift_month(last, -12))
    if not set(months_between(*before)) <= stored:  # a set is judged against its places a year before
        return overall, replace(figures, line=f"Counted over {window.label}; the same months a year before are not "
                                                "all stored, so no comparison.")
    earlier = int(monthly.loc[monthly["month"].astype(str).between(*before), "count"].sum())
    return overall, replace(figures, case="same-months", previous=before, count_previous=earlier,
                            line=f"Counted over {window.label}; against the same places {before[0]} to {before[1]}.")


def _overall(con, sv: Filters, first: str, last: str, stored: set[str]) -> PeriodFigures:
    """The places' figures over the months all their forces hold (the store's months with one force)."""
    monthly = query.monthly_counts(con, sv)
    held = held_months(con, sv)
    if held == stored:
        return compare_periods(monthly, first, last, stored)
    figures = compare_periods(monthly[monthly["month"].astype(str).isin(held)], first, last, held,
                              "held by every police force of these places")
    return replace(figures, line=figures.line + f" A month that one police force of these places {no_data_words(sv)} is "
                   "left out of these figures: there it would count that force's places as having no incidents.")


def _set_months(con, sv: Filters, adopted: AdoptedSet, stored: set[str]) -> set[str]:
    """The stored months every police force of the set's districts holds (the store's months with one force)."""
    districts = tuple(sorted(set(adopted.cells["district"].dropna().astype(str)))) if "district" in adopted.cells else ()
    return held_months(con, sv.with_(districts=districts, csps=())) if districts else stored
