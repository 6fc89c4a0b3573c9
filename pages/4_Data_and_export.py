"""Data & export: what the store holds, upload of new files, rejects, and filtered exports."""
from __future__ import annotations

import streamlit as st

from ui import access
from ui.cached import data_version, extent, quality_report, settings
from ui.common import page_setup, presentation
from ui.data_page.export_panel import draw_export, export_choice
from ui.data_page.meeting_maps import draw_meeting_maps
from ui.data_page.store_panel import draw_holdings, draw_loads, draw_quality, draw_sample_removal, draw_upload
from ui.sets import current_set, draw_set_table

filters = page_setup("Data & export")
version = data_version()
ext = extent(version)
manager = access.can_manage_data(settings())

if presentation():
    # The wall screen shows what the store holds beside the set's hotspots, on one screen; loading,
    # removing and exporting are desk work (issue 27).
    holdings, hotspots = st.columns([2, 3])
    with holdings:
        draw_holdings(ext, across=2)
        draw_quality(quality_report(version), compact=True)
    with hotspots:
        draw_set_table(current_set(), wall=True)
    st.stop()
draw_holdings(ext)
draw_quality(quality_report(version))
draw_upload(manager)
draw_sample_removal(manager)
draw_loads(manager)
draw_set_table(current_set())
choice = export_choice(filters, manager)
draw_export(filters, choice, ext, version, manager)
draw_meeting_maps(filters, choice, version)
