"""Hotspot: serious-violence hotspots, patrol dosage and impact for the HIPS Violence Reduction Partnership.

Run:  streamlit run app.py   (opens on the built-in synthetic sample when the store is empty)
"""
from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="Hotspot · serious violence", page_icon="🔥", layout="wide",
                   initial_sidebar_state="expanded")

from pages.common import settings, sidebar_filters  # noqa: E402  (set_page_config must come first)

PAGES = [
    st.Page("pages/overview.py", title="Overview", icon="📊", url_path="overview", default=True),
    st.Page("pages/hotspot_map.py", title="Hotspot map", icon="🗺️", url_path="map"),
    st.Page("pages/patrols.py", title="Patrols", icon="🚓", url_path="patrols"),
    st.Page("pages/impact.py", title="Impact", icon="📉", url_path="impact"),
    st.Page("pages/data_export.py", title="Data & export", icon="💾", url_path="data"),
]

if settings().auth_required and not getattr(st.user, "is_logged_in", False):
    st.title("Hotspot")
    st.write("Sign in to see serious-violence data.")
    st.button("Sign in", on_click=st.login, type="primary")
    st.stop()

page = st.navigation(PAGES)
sidebar_filters()
page.run()
