"""Hotspot sets: the lists the partnership adopted, and what changed between two of them (or between
a set and today's hotspots): new, kept and dropped places, on a map and in a table."""
from __future__ import annotations

import streamlit as st

from ui.cached import cached_hotspots, cached_set, cached_set_list, data_version, sets_version, window_label
from ui.common import hotspot_window, map_params, page_setup, presentation
from ui.errors import page_errors
from ui.sets_page.compare import TODAY, choose_pair, draw_comparison, draw_listing

filters = page_setup("Hotspot sets")
version = data_version()
listing = cached_set_list(sets_version())
if listing.empty:
    st.info("No hotspot set is adopted yet: adopt today's hotspots on the Hotspot map (a data manager's action).")
    st.stop()

present = presentation()
if not present:  # the wall screen shows the comparison's map, fitted to the screen (issue 27)
    st.subheader("Adopted sets")
    draw_listing(listing)
    st.subheader("What changed")
older_name, newer_name = choose_pair([str(n) for n in listing["name"]], present)
older = cached_set(older_name, sets_version())
with page_errors("Hotspot sets: comparison", stop=True):
    if newer_name == TODAY:
        params, window_months = map_params()
        window = hotspot_window(filters, window_months).with_(res=older.filters.res)
        result = cached_hotspots(window, params, version)
        hot = result.cells[result.cells["is_hotspot"].astype(bool)].dropna(subset=["hotspot_id"])
        newer = hot.assign(hotspot_number=hot["hotspot_rank"])[["h3", "hotspot_id", "hotspot_number", "hotspot_name"]]
        newer_label, newer_res = f"Today's hotspots ({window_label(window.date_from, window.date_to, version, window)})", window.res
    else:
        later = cached_set(newer_name, sets_version())
        newer, newer_label, newer_res = later.cells, newer_name, later.filters.res
    if older.filters.res != newer_res:
        st.info("The two lists are at different H3 resolutions: their cells cannot be matched.")
        st.stop()
    draw_comparison(older.cells, newer, older_name, newer_label, present)
