"""The Overview's headline: the annual report's four figures and the sentence under them."""
from __future__ import annotations

import streamlit as st

from ui.common import headline_metrics


def draw_headline(head) -> None:
    if head is None:
        st.info("The headline needs two complete financial years (April to March) of data.")
        return
    st.subheader(f"Financial year {head.fy_after} against {head.fy_before}")
    headline_metrics(head)
    st.caption(
        f"Force-wide change {head.sv_change:+,} offences ({head.sv_change_pct:+.1f}%); in the {head.hotspots} hotspots "
        f"{head.hotspot_change_pct:+.1f}% with {head.patrols_after:,} patrols. Hotspots were chosen on {head.fy_before}, "
        "so part of any fall may be regression to the mean: see Impact.")
