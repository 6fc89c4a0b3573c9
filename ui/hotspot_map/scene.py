"""Everything the Hotspot map's drawing needs, gathered once per run: the filters and hotspot
window, the hotspot result and outlines, the optional space-time patterns, the view and the base."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from hotspot_engine.analyse.patterns import period_of
from hotspot_engine.filters import Filters, months_between
from hotspot_engine.reference.geography import cell_centres, str_to_cell
from hotspot_engine.render import deck as maps
from hotspot_engine.service.sets import AdoptedSet
from hotspot_engine.settings import Settings
from ui.cached import (
    cached_area_outlines,
    cached_hotspots,
    cached_patterns,
    cached_set_areas,
    cached_set_outlines,
    data_version,
    extent,
)
from ui.common import hotspot_window
from ui.errors import page_errors
from ui.hotspot_map.controls import MapChoices
from ui.sets import current_set, set_ref
from ui.viewport import ScreenFit, map_fit

MIN_PATTERN_PERIODS = 3  # with two financial years every 'trend' is one step: too few to call a pattern


#: The map's width in pixels at a 1920 px window (normal, presentation): views and labels are fitted to it.
#: In presentation mode the browser's own measure replaces it (ui/viewport.py) once it has answered.
MAP_WIDTH, MAP_WIDTH_PRESENT = 1050, 1300
HEIGHT, HEIGHT_PRESENT = 640, 780


@dataclass(frozen=True)
class MapScene:
    filters: Filters
    window: Filters  # the hotspot window inside the selected range
    choices: MapChoices
    colour_by: str  # the choice, or 'count' when patterns cannot be drawn
    cells: pd.DataFrame
    areas: pd.DataFrame
    next_ranked: pd.DataFrame  # significant places after the hotspots
    outlines: dict
    notes: list
    patterns: pd.DataFrame | None
    view: dict
    map_style: object
    present: bool
    height: int
    basemap_attribution: str | None  # None: the offline base
    version: int
    adopted: AdoptedSet | None = None  # the adopted set drawn beside today's hotspots
    set_outlines: dict | None = None
    patrol_data: bool = True  # False: the store holds no patrols (no patrol colouring or columns)
    set_areas: pd.DataFrame | None = None  # the set's hotspots: the numbers on the map when a set is shown
    width: int = MAP_WIDTH  # the map's width in pixels (presentation: as the browser measured it)
    #: months each cell's force holds (HotspotResult.exposure; None: every cell holds every month)
    exposure: np.ndarray | None = None

    @property
    def label_areas(self) -> pd.DataFrame:
        """The areas whose numbers the map shows: the adopted set's (the numbers every page uses) when
        one is shown, else today's ranking."""
        return self.set_areas if self.set_areas is not None else self.areas

    @property
    def viewport_px(self) -> tuple[int, int]:
        """The map's size in pixels as drawn (labels are placed for it)."""
        return self.width, self.height


def _patterns(filters: Filters, measure: str, version: int) -> pd.DataFrame | None:
    """The space-time patterns, or None (with a note) when the range holds too few financial years."""
    months_in_range = months_between(filters.date_from, filters.date_to) if filters.date_from and filters.date_to else []
    years = sorted(set(period_of(pd.Series(months_in_range, dtype=str), "fy"))) if months_in_range else []
    if len(years) < MIN_PATTERN_PERIODS:
        st.info(f"Space-time patterns need at least {MIN_PATTERN_PERIODS} financial years in the selected months "
                f"(there {'is' if len(years) == 1 else 'are'} {len(years)}): the cells are coloured by count instead.")
        return None
    with page_errors("Hotspot map: space-time patterns"):
        return cached_patterns(filters, measure, version)
    return None


def _view(filters: Filters, cells: pd.DataFrame, present: bool, width: int, height: int) -> dict:
    if filters.csps or filters.districts:
        # Fit the map to the selected places (their whole study area, not only the busy cells).
        lat, lon = cell_centres(str_to_cell(cells["h3"]))
        return maps.view_for(lat, lon, width_px=width, height_px=height)
    if present:
        # The wall screen: the whole force area fitted into the map as this screen draws it, so nothing
        # is cut off at 1280x720 or 1920x1080 (issue 27).
        return maps.fitted_force_view(width, height)
    view = maps.force_view()
    if view == maps.FORCE_VIEW:  # HIPS: the view its pages have always opened at
        return dict(view, zoom=8.55)
    return view


def build_scene(filters: Filters, choices: MapChoices, version: int, present: bool, settings: Settings) -> MapScene:
    """The hotspots of the window (the page stops with a message when they cannot be found)."""
    window = hotspot_window(filters, choices.window_months)
    with page_errors("Hotspot map: hotspots", stop=True):
        result = cached_hotspots(window, choices.params, version)
        outlines = cached_area_outlines(window, choices.params, version)
    patterns = _patterns(filters, choices.params.measure, version) if choices.colour_by == "pattern" else None
    fit = map_fit(MAP_WIDTH_PRESENT, HEIGHT_PRESENT) if present else ScreenFit(MAP_WIDTH, HEIGHT)
    width, height = fit.width_px, fit.height_px
    map_style = (maps.basemap_style(settings.basemap_url, settings.basemap_attribution) if settings.basemap_url
                 else maps.OFFLINE_STYLE_DARK if present else maps.OFFLINE_STYLE)
    adopted = current_set()
    patrol_data = extent(data_version()).patrols > 0
    colour_by = choices.colour_by if choices.colour_by != "pattern" or patterns is not None else "count"
    return MapScene(filters, window, choices, "count" if colour_by == "patrols" and not patrol_data else colour_by,
                    result.cells, result.areas, result.next_ranked, outlines, list(result.notes), patterns,
                    _view(filters, result.cells, present, width, height), map_style, present, height,
                    settings.basemap_attribution if settings.basemap_url else None, version, adopted,
                    cached_set_outlines(set_ref(adopted)) if adopted is not None else None, patrol_data,
                    cached_set_areas(set_ref(adopted)) if adopted is not None else None, width,
                    exposure=result.exposure)
