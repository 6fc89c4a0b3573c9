"""Do the hotspots predict? The hold-out check under the Hotspot map: the same method chosen on a
window of the same length that ends a few months earlier, scored on those months, beside ranking
cells by count and a 150 m kernel density surface over the same area (Chainey, Tompson & Uhlig
2008's hit rate and PAI; PEI, RRI, an interval over months, and the hit-rate curve from 1% to 10%
of the area)."""
from __future__ import annotations

import streamlit as st

from hotspot_engine.filters import Filters
from hotspot_engine.render.text_safety import markdown_plain
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
    "pai_low": st.column_config.NumberColumn("PAI low", format="%.1f", help="95% interval over test months drawn again"),
    "pai_high": st.column_config.NumberColumn("PAI high", format="%.1f"),
    "pei": st.column_config.NumberColumn("PEI", format="%.2f", help="PAI ÷ the best PAI possible at that area"),
    "rri": st.column_config.NumberColumn("RRI", format="%.2f",
                                         help="Share caught in the test months ÷ share caught in the choice window"),
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
        ratio = holdout.better_baseline_ratio()
        if ratio is not None:
            st.caption(f"The hotspots' PAI is {ratio:.2f} times that of the better of ranking cells by count and a "
                       "kernel density surface at the same area (1 or more: at least as good as both).")
        table = holdout.table.assign(selection=holdout.table["selection"].replace(SELECTION_LABELS))
        st.dataframe(table, hide_index=True, width="stretch", column_config=TABLE_CONFIG)
        if len(holdout.curve):
            st.caption("PAI when each ranking chooses 1% to 10% of the area (the hit-rate curve):")
            curve = holdout.curve.assign(area=(holdout.curve["area_share"] * 100).round().astype(int))
            st.line_chart(curve, x="area", y="pai", color="predictor", x_label="% of the area", y_label="PAI",
                          height=220)
        for note in holdout.notes:
            st.caption(markdown_plain(note))
