"""The months the Patrols page measures over, and the line that says which.

With an adopted set and the sidebar on every stored month (its default), the page counts the set's
hotspots over the set's window (:func:`hotspot_engine.service.sets.set_window`), as the Overview,
patrol-plan, the meeting outputs and the briefing do: before, with no patrol data there was no
first patrol to start from, and the real store's #1 showed 53 incidents over 2018-03..2024-04 where
the other outputs showed 45 or counted 2023-05..2024-04 (audit 2026-12-07 item 2). Months chosen in
the sidebar are the user's: the page uses them (up to the end of the set's year, whose later months
belong to another programme) and says beside the figures that they are not the set's window.
"""
from __future__ import annotations

from hotspot_engine.filters import Filters
from hotspot_engine.service.sets import AdoptedSet, set_window
from ui.cached import cached_stored_months, data_version, extent
from ui.common import set_year_end


def patrol_period(adopted: AdoptedSet | None, filters: Filters, wall: bool = False) -> tuple[Filters, str]:
    """(the filters over the months measured, one line naming those months and why; ``wall``: a short
    line for the wall screen, whose figures must fit without scrolling)."""
    version = data_version()
    ext = extent(version)
    if adopted is None:
        return filters, f"Figures over the months chosen in the sidebar, {filters.date_from} to {filters.date_to}."
    window = set_window(adopted, ext.last_month, cached_stored_months(version))
    whole = (filters.date_from, filters.date_to) == (ext.first_month, ext.last_month)
    if whole and window.date_from and window.date_to:
        if wall:
            return (filters.with_(date_from=window.date_from, date_to=window.date_to),
                    f"Figures {window.date_from} to {window.date_to}: the set's window, as on every page.")
        return (filters.with_(date_from=window.date_from, date_to=window.date_to),
                f"Figures over the set's window, as on every page and output: {window.label}. Choose months in the "
                "sidebar to see others.")
    year_end = set_year_end(adopted, filters.date_to)
    dosed = (filters.with_(date_to=year_end) if year_end and filters.date_from and filters.date_from <= year_end
             < filters.date_to else filters)
    if wall:
        return dosed, f"Figures {dosed.date_from} to {dosed.date_to}: the months chosen, not the set's window."
    later = "" if dosed is filters else " (later months belong to another programme: choose its set in the sidebar)"
    return dosed, (f"Figures over the months chosen in the sidebar, {dosed.date_from} to {dosed.date_to}{later}; "
                   f"not the set's window ({window.label}), which the other pages and outputs use.")
