"""Do the hotspots predict? The hold-out check under the Hotspot map: the same method chosen on a
window of the same length that ends a few months earlier, scored on those months, beside ranking
cells by count over the same area (Chainey, Tompson & Uhlig 2008's hit rate and PAI)."""
from __future__ import annotations

import streamlit as st

from hotspot_engine.filters import Filters
from ui.cached import cached_holdout
from ui.errors import page_errors

SELECTION_LABELS = {"hotspots (default test)": "The hotspots"}
TABLE_CONFIG = {
    "selection": "Chosen cells", "cells": st.column_config.NumberColumn("Cells", format="%d"),
    "area_km2": st.column_config.NumberColumn("Area (km²)", format="%.1f"),
    "area_share": st.column_config.NumberColumn("Share of area", format="percent"),
    "incidents_caught": st.column_config.NumberColumn("Incidents caught", format="%d"),
    "hit_rate": st.column_config.NumberColumn("Hit rate", format="percent"),
    "pai": st.column_config.NumberColumn("PAI", format="%.1f", help="Hit rate ÷ share of area"),
}


def draw_holdout(window: Filters, params, version: int) -> None:
    st.subheader("Do these hotspots predict?")
    months = st.selectbox("Score on the last", [3, 2, 1, 6], key="m_holdout_months",
                          format_func=lambda m: f"{m} month{'s' if m > 1 else ''} of the window",
                          help="The hotspots are chosen again on a window of the same length that ends before "
                               "these months, and scored on them: a check the choice never saw.")
    with page_errors("Hotspot map: hold-out check"):
        _, holdout = cached_holdout(window, params, int(months), version)
        if holdout.test_incidents == 0 or holdout.table["cells"].iloc[0] == 0:
            st.info(holdout.summary)
            return
        st.markdown(holdout.summary)
        ratio = holdout.pai_ratio()
        if ratio is not None:
            st.caption(f"The hotspots' PAI is {ratio:.2f} times that of ranking cells by count at the same area "
                       "(1 or more: at least as good as the plain ranking).")
        table = holdout.table.assign(selection=holdout.table["selection"].replace(SELECTION_LABELS))
        st.dataframe(table, hide_index=True, width="stretch", column_config=TABLE_CONFIG)
        for note in holdout.notes:
            st.caption(note)
