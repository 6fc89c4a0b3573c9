"""The panel beside the map: legend (colour classes, or the space-time patterns with their
meaning), the hotspot count, the layer toggles, and in presentation mode the headline figures."""
from __future__ import annotations

import html

import streamlit as st

from hotspot_engine.analyse.patterns import PATTERN_LEGEND
from hotspot_engine.render import classes
from ui.cached import cached_headline
from ui.common import headline_metrics, legend_html
from ui.errors import page_errors
from ui.hotspot_map.adopt import draw_set_beside
from ui.hotspot_map.scene import MapScene

#: The titles every map uses (the exported HTML, PNG and PDF maps too).
LEGEND_TITLES = classes.LEGEND_TITLES


def pattern_legend_html(entries, periods: list[str], large: bool = False) -> str:
    """The classes on the map, each with its one-sentence meaning (small type beside the map)."""
    size, sentence_size = ("18px", "16px") if large else ("13px", "12px")
    rows = "".join(
        f'<div style="display:flex;align-items:flex-start;gap:8px;margin:4px 0" data-testid="pattern-legend-row">'
        f'<span style="flex:0 0 18px;height:14px;margin-top:2px;background:rgb{tuple(c)};border:1px solid #555"></span>'
        f'<span><b>{html.escape(label.capitalize())}</b><br/><span style="font-size:{sentence_size};opacity:0.85">'
        f"{html.escape(PATTERN_LEGEND[label])}</span></span></div>"
        for label, c in entries)
    if not entries:
        rows = "<div>No cell shows a hot or cold spot pattern.</div>"
    span = f"Financial years {periods[0]} to {periods[-1]}" if periods else ""
    return (f'<div style="font-size:{size};line-height:1.3"><b>Space-time pattern</b>'
            f'<div style="font-size:{sentence_size}">{html.escape(span)}; cells with no pattern are not drawn.</div>'
            f"{rows}</div>")


def draw_side(scene: MapScene, legend_title: str, entries, period: str) -> None:
    present = scene.present
    if present:
        head = None
        with page_errors("Hotspot map: headline"):
            head = cached_headline(scene.filters, scene.version)
        if head is not None:
            headline_metrics(head, columns=2, compact=True)
    if legend_title == LEGEND_TITLES["pattern"] and scene.patterns is not None:
        st.markdown(pattern_legend_html(entries, scene.patterns.attrs.get("periods", []), large=present),
                    unsafe_allow_html=True)
    else:
        st.markdown(legend_html(legend_title, entries, large=present), unsafe_allow_html=True)
    st.markdown(
        f"<div class='{'hs-large' if present else ''}' style='margin:10px 0;font-size:{'20px' if present else '14px'}'><b>{len(scene.areas)}</b> hotspot areas · "
        f"<b>{int(scene.cells['is_hotspot'].sum())}</b> cells · {html.escape(period)}</div>", unsafe_allow_html=True)
    if not present:
        st.toggle("LSOA outlines", key="m_lsoa", help="Lower-layer super output areas (2011), drawn faintly.")
        if scene.choices.mode == "window":
            st.toggle("Patrol dosage columns", key="m_patrols", disabled=not scene.patrol_data,
                      help="Extruded columns: patrols per cell over the same window." if scene.patrol_data
                      else "No patrol data is loaded: load patrol logs or GPS pings on Data & export.")
    draw_set_beside(scene, present)
