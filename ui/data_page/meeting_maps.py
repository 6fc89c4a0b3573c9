"""Maps for meetings and partners: the hotspot map as an offline HTML file, a PNG and a one-page PDF."""
from __future__ import annotations

import streamlit as st
import streamlit.components.v1 as components

from hotspot_engine.filters import Filters
from ui.cached import cached_meeting_maps
from ui.common import describe, hotspot_window, map_params
from ui.data_page.export_panel import ExportChoice
from ui.errors import page_errors
from ui.sets import current_set, set_ref

VALUE_COLUMNS = {"count": "Incidents", "harm": "Harm (days)", "gi_bin": "Significance (exact test)", "patrols": "Patrols"}


def draw_meeting_maps(filters: Filters, choice: ExportChoice, version: int) -> None:
    st.subheader("Maps for meetings and partners")
    st.caption("The hotspot map as on screen: an interactive HTML file that opens offline from an email (no internet "
               "needed, no tiles unless a basemap is configured), a PNG image and a one-page PDF summary. "
               + ("Partner-safe: counts below the threshold are not drawn." if choice.safe else "Switch on partner-safe "
                  "above before sending outside the police."))
    m1, m2 = st.columns([1, 2])
    value_column = m1.selectbox("Colour cells by", list(VALUE_COLUMNS), format_func=VALUE_COLUMNS.get, key="x_value")
    if not m2.toggle("Make the maps", key="x_maps", help="Draws the HTML map here and offers the three files."):
        return
    params, window_months = map_params()
    hot_filters = hotspot_window(filters, window_months)
    on = set_ref(current_set())
    with page_errors("Data & export: meeting maps"):
        html_page, png, pdf, base = cached_meeting_maps(filters, hot_filters, params, value_column, choice.safe,
                                                        choice.threshold, version, describe(filters), on)
        d1, d2, d3 = st.columns(3)
        d1.download_button("Interactive map (HTML, works offline)", html_page.encode("utf-8"), file_name=base + ".html",
                           mime="text/html", icon=":material/map:", key="x_html")
        d2.download_button("Map image (PNG)", png, file_name=base + ".png", mime="image/png", icon=":material/image:",
                           key="x_png")
        d3.download_button("One-page summary (PDF)", pdf, file_name=base + ".pdf", mime="application/pdf",
                           icon=":material/picture_as_pdf:", key="x_pdf")
        components.html(html_page, height=560)
        st.caption("The same HTML file as the download, shown here; the hotspot table on the Hotspot map page is its "
                   "text alternative.")
