"""The Hotspot sets page's pieces: the list of sets, the choice of two lists, and their comparison
(new, kept and dropped hotspots) as a map and a table."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from hotspot_engine.analyse.set_changes import compare, summary
from hotspot_engine.reference.geography import cell_centres, str_to_cell
from hotspot_engine.render import set_map
from hotspot_engine.render.deck import fitted_force_view, view_for
from hotspot_engine.render.text_safety import markdown_plain
from ui.common import legend_html
from ui.viewport import ScreenFit, map_fit, measure_screen

TODAY = "(today)"  # the map's hotspots for the current filters and method
STATUS_WORDS = {"kept": "kept", "new": "new", "dropped": "dropped"}


def draw_listing(listing: pd.DataFrame) -> None:
    shown = listing.assign(adopted_at=listing["adopted_at"].dt.strftime("%Y-%m-%d %H:%M UTC"),
                           window=listing["window_from"].fillna("start") + " to " + listing["window_to"].fillna("end"))
    st.dataframe(shown[["name", "adopted_at", "window", "hotspots", "cells", "method", "adopted_by", "note"]],
                 hide_index=True, width="stretch",
                 column_config={"name": "Set", "adopted_at": "Adopted", "window": "Chosen on", "hotspots": "Hotspots",
                                "cells": "Cells", "method": "Method", "adopted_by": "Adopted by", "note": "Note"})


def choose_pair(names: list[str], present: bool = False) -> tuple[str, str]:
    """(older, newer): by default the second newest set against the newest, or with one set, the set
    against today's hotspots. ``present`` (the wall screen): no controls, the pair chosen at the desk."""
    newer_options = [TODAY] + names
    default = 1 if len(names) > 1 else 0
    if present:
        older, newer = st.session_state.get("_s_cmp_pair", (None, None))
        return (older if older in names else names[min(1, len(names) - 1)],
                newer if newer in newer_options else newer_options[default])
    c1, c2 = st.columns(2)
    older = c1.selectbox("Earlier list", names, index=min(1, len(names) - 1), key="s_cmp_old")
    newer = c2.selectbox("Later list", newer_options, index=default, key="s_cmp_new",
                         format_func=lambda n: "Today's hotspots (the map's method and window)" if n == TODAY else n)
    st.session_state["_s_cmp_pair"] = (older, newer)  # plain state: outlives the widgets on the wall screen
    return older, newer


def draw_comparison(older: pd.DataFrame, newer: pd.DataFrame, older_label: str, newer_label: str,
                    present: bool = False) -> None:
    """The changes as a map (in presentation mode as tall as the screen below it, ui/viewport.py) and
    a table (not on the wall screen)."""
    changes = compare(older, newer)
    st.markdown(markdown_plain(f"{newer_label} against {older_label}: {summary(changes)}."))
    cells = set_map.change_cells(older, newer, changes)
    lat, lon = cell_centres(str_to_cell(cells["h3"])) if len(cells) else ([], [])
    fit = map_fit(1000, 560, page="sets") if present else ScreenFit(1000, 560)
    map_col, side = st.columns([3, 1])
    # The wall screen shows the whole force fitted into the map as this screen draws it (as the Hotspot
    # map does): fitted to the cells, the north, the west and the Isle of Wight were cut off.
    view = fitted_force_view(fit.width_px, fit.height_px) if present else view_for(lat, lon, fit.width_px, fit.height_px)
    map_col.pydeck_chart(set_map.compare_deck(cells, view, (fit.width_px, fit.height_px), present),
                         height=fit.height_px, width="stretch")
    if present:
        measure_screen(page="sets")
    side.markdown(legend_html("Hotspot", [(k.capitalize(), c) for k, c in set_map.STATUS_COLOURS.items()], large=present),
                  unsafe_allow_html=True)
    side.caption("Matched by shared cells: a place whose busiest cell moved keeps its status as kept.")
    table = changes.rename(columns={"status": "Status", "hotspot_number": "No", "hotspot_id": "Id",
                                    "hotspot_name": "Hotspot", "cells": "Cells", "shared_cells": "Shared cells",
                                    "other_number": "Earlier No", "other_name": "Earlier hotspot"})
    if not present:
        st.dataframe(table[["Status", "No", "Id", "Hotspot", "Cells", "Shared cells", "Earlier No", "Earlier hotspot"]],
                     hide_index=True, width="stretch")
