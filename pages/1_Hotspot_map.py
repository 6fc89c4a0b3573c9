"""Hotspot map: H3 cells over the offline base, hotspot outlines and names, a ranked hotspot table."""
from __future__ import annotations

import streamlit as st

from hotspot_engine import maps
from hotspot_engine.geography import ATTRIBUTION, cell_centres, str_to_cell
from hotspot_engine.hotspots import HotspotParams
from ui.common import (page_setup, cached_hotspots, data_version, legend_html, look_back,
                          presentation, settings, show_error)

filters = page_setup("Hotspot map")
version = data_version()

METHOD_LABELS = {"gistar": "Gi* (significant clusters)", "top-n": "Top N cells", "harm-share": "Fewest cells holding x% of harm"}
with st.container(border=not presentation()):
    c1, c2, c3, c4 = st.columns([1.3, 1, 1, 1])
    method = c1.selectbox("Method", list(METHOD_LABELS), format_func=METHOD_LABELS.get, key="m_method",
                          help="Gi*: Getis-Ord Gi* with ring-1 binary weights, Benjamini-Hochberg FDR. "
                               "Top N: the busiest cells. Harm share: the fewest cells holding the chosen share of harm.")
    measure = c2.selectbox("Measure", ["count", "harm"], key="m_measure",
                           help="Harm weights each offence by days of custody (Cambridge Crime Harm Index style).")
    colour_by = c3.selectbox("Colour cells by", ["count", "harm", "gi_bin", "patrols"], key="m_colour",
                             format_func={"count": "Count", "harm": "Harm", "gi_bin": "Gi* confidence bin",
                                          "patrols": "Patrols"}.get)
    window = c4.selectbox("Look-back window", [12, 6, 3, 0], key="m_window",
                          format_func=lambda m: f"Last {m} months of the range" if m else "Whole selected range")
    c5, c6, c7 = st.columns([1.3, 1, 2])
    top = c5.number_input("Top N cells", 1, 500, 19, key="m_top", disabled=method != "top-n")
    share = c6.slider("Harm share", 0.1, 0.9, 0.5, 0.05, key="m_share", disabled=method != "harm-share")
    show_patrols = c7.toggle("Patrol dosage columns", key="m_patrols",
                             help="Extruded columns: patrols per cell over the same window.")

params = HotspotParams(method=method, measure=measure, top=int(top), harm_share=float(share))
window_filters = look_back(filters, window) if window else filters
try:
    result = cached_hotspots(window_filters, params, version)
except Exception as exc:
    show_error(exc)
    st.stop()

cells = result.cells
areas = result.areas
lat, lon = cell_centres(str_to_cell(cells["h3"]))
view = maps.view_for(lat, lon) if (filters.csps or filters.districts) else {"latitude": 50.98, "longitude": -1.25, "zoom": 8.4}
s = settings()
map_style = s.basemap_url or (maps.OFFLINE_STYLE_DARK if presentation() else maps.OFFLINE_STYLE)
deck, legend = maps.build_deck(
    cells, colour_by=colour_by, areas=areas, area_outlines=maps.areas_outline_geojson(cells),
    patrols=cells if show_patrols else None, view=view, map_style=map_style, presentation=presentation(),
)
map_col, side_col = st.columns([3, 1.15])
with map_col:
    st.pydeck_chart(deck, height=760 if presentation() else 620, width="stretch")
    st.caption("Boundaries: " + ATTRIBUTION
               + (f" Basemap: {s.basemap_attribution}" if s.basemap_url else " Offline base: district outlines and town labels."))
with side_col:
    legend_title = {"gi_bin": "Gi* confidence (FDR-adjusted)", "count": "Incidents per cell", "harm": "Harm (days) per cell",
                    "patrols": "Patrols per cell"}[colour_by]
    st.markdown(legend_html(legend_title, legend.entries, large=presentation()), unsafe_allow_html=True)
    st.markdown(
        f"<div style='margin-top:10px'><b>{len(areas)}</b> hotspot areas · <b>{int(cells['is_hotspot'].sum())}</b> cells"
        f" · {window_filters.date_from} to {window_filters.date_to}</div>", unsafe_allow_html=True)
    for note in result.notes:
        if "unreliable" in note or "small" in note.lower():
            st.warning(note)

st.subheader("Hotspots, ranked")
if areas.empty:
    st.info("No cell qualifies as a hotspot with these filters and this method.")
else:
    table = areas[[c for c in ("hotspot_name", "hotspot_id", "csp", "district", "n_cells", "count", "harm", "patrols",
                               "patrol_minutes") if c in areas.columns]].copy()
    table.insert(0, "no", range(1, len(table) + 1))
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"no": st.column_config.NumberColumn("No.", help="The number on the map"),
                                "hotspot_name": "Hotspot", "hotspot_id": "Id", "n_cells": "Cells",
                                "count": st.column_config.NumberColumn("Incidents", format="%d"),
                                "harm": st.column_config.NumberColumn("Harm (days)", format="%d"),
                                "patrol_minutes": st.column_config.NumberColumn("Patrol minutes", format="%d")})
with st.expander("Method and notes"):
    for note in result.notes:
        st.write("• " + note)
with st.expander("All scored cells (text alternative to the map)"):
    shown = cells[(cells["count"] > 0) | cells["is_hotspot"]].sort_values("gi_z", ascending=False)
    st.dataframe(shown, hide_index=True, width="stretch")
