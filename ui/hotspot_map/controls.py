"""The Hotspot map's controls: method, measure, colouring, hotspot window and whole-window or
month-by-month cells. Presentation mode hides them: the map keeps the settings made before."""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from hotspot_engine.analyse.hotspots import HotspotParams
from ui.cached import data_version, extent
from ui.common import map_params

METHOD_LABELS = {"predict": "Predicted places (default)", "gistar": "Significant places (exact test)", "top-n": "Top N cells",
                 "harm-share": "Fewest cells holding x% of harm"}
COLOUR_LABELS = {"count": "Count", "harm": "Harm", "gi_bin": "Significance (exact test)", "pattern": "Space-time pattern",
                 "patrols": "Patrols"}
MODE_LABELS = {"window": "Whole window", "months": "Month by month (playback)"}


@dataclass(frozen=True)
class MapChoices:
    params: HotspotParams
    window_months: int  # 0: the whole selected range
    colour_by: str
    mode: str  # 'window' or 'months'
    show_patrols: bool
    show_lsoas: bool


def _saved_choices() -> MapChoices:
    params, window = map_params()
    state = st.session_state
    return MapChoices(params, window, state.get("m_colour", "count"), state.get("m_mode", "window"),
                      bool(state.get("m_patrols", False)), bool(state.get("m_lsoa", False)))


def map_controls(present: bool) -> MapChoices:
    """The controls in one bordered row (or, in presentation mode, the choices made before)."""
    if present:
        return _saved_choices()
    with st.container(border=True):
        st.session_state.setdefault("m_top", 19)
        st.session_state.setdefault("m_share", 0.5)
        method = st.session_state.get("m_method", "predict")
        widths = [1.4, 0.8, 1, 1, 1.2, 1.2] if method in ("top-n", "harm-share") else [1.4, 1, 1, 1.2, 1.2]
        cols = iter(st.columns(widths, vertical_alignment="bottom"))
        method = next(cols).selectbox(
            "Method", list(METHOD_LABELS), format_func=METHOD_LABELS.get, key="m_method",
            help="Predicted places: the cells with the highest predicted rate next period (each cell's rate shrunk "
                 "towards its surroundings and its other offences), adjacent ones grouped into places; the 19 places holding the highest "
                 "predictions are the hotspots. Significant places: each cell and its six neighbours tested against the area's average rate "
                 "(exact negative-binomial tail, false discovery rate 5% over all cells), grown into places of at "
                 "most 1 km²; the 19 busiest are the hotspots. Top N: the busiest cells. Harm share: the fewest "
                 "cells holding the chosen share of harm.")
        top = st.session_state.get("m_top", 19)
        share = st.session_state.get("m_share", 0.5)
        if method == "top-n":
            top = next(cols).number_input("Top N cells", 1, 500, key="m_top")
        elif method == "harm-share":
            share = next(cols).slider("Harm share", 0.1, 0.9, step=0.05, key="m_share")
        measure = next(cols).selectbox("Measure", ["count", "harm"], key="m_measure",
                                       format_func={"count": "Incidents", "harm": "Harm (days)"}.get,
                                       help="Harm weights each offence by days of custody (Cambridge Crime Harm Index style).")
        # Without patrol data a patrol colouring is a blank map with a 0-1 legend: not offered.
        colours = [k for k in COLOUR_LABELS if k != "patrols" or extent(data_version()).patrols]
        if st.session_state.get("m_colour") not in colours:
            st.session_state["m_colour"] = "count"
        colour_by = next(cols).selectbox("Colour cells by", colours, key="m_colour", format_func=COLOUR_LABELS.get,
                                         help=None if "patrols" in colours else
                                         "Patrols: no patrol data is loaded (Data & export loads patrol logs and GPS).")
        window = next(cols).selectbox("Hotspot window", [12, 6, 3, 0], key="m_window",
                                      format_func=lambda m: f"Last {m} months of the range" if m else "Whole selected range",
                                      help="Hotspots are found on this window; the playback steps through the whole range.")
        mode = next(cols).selectbox("Cells show", list(MODE_LABELS), format_func=MODE_LABELS.get, key="m_mode",
                                    help="Month by month: a slider with a play button steps through the months of the range.")
    return MapChoices(HotspotParams(method=method, measure=measure, top=int(top), harm_share=float(share)), window,
                      colour_by, mode, bool(st.session_state.get("m_patrols", False)),
                      bool(st.session_state.get("m_lsoa", False)))
