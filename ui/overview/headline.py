"""The Overview's headline: the annual report's four figures and the sentence under them."""
from __future__ import annotations

import streamlit as st

from hotspot_engine.render.text_safety import markdown_plain
from ui.common import change_text, headline_metrics


def draw_headline(head, wall: bool = False, chance: str = "") -> None:
    """``wall`` (presentation mode): the figures and which hotspots they count, without the sentence
    that repeats the figures' changes, so the monthly chart below keeps room on the screen; ``chance``
    (the set's short line on how many stand out beyond chance) joins that line there. On its own line
    it pushed the chart 40 px (1280x720) and 62 px (1920x1080) down, off the screen."""
    if head is None:
        st.info("The headline needs two complete financial years (April to March) of data.")
        return
    st.subheader(f"Financial year {head.fy_after} against {head.fy_before}")
    headline_metrics(head)
    if wall:
        st.caption(f"{_chosen(head)}" + (f"; {chance}." if chance else "."))
        return
    st.caption(
        f"Force-wide change: {change_text(head.sv_change, head.sv_change_pct, head.fy_before)}; in the {head.hotspots} "
        f"hotspots: {change_text(head.hotspot_sv_after - head.hotspot_sv_before, head.hotspot_change_pct, head.fy_before)}"
        f", with {head.patrols_after:,} patrols. {_chosen(head)}, "
        "so part of any fall is regression to the mean, worked out below.")


def _chosen(head) -> str:
    """Which list the hotspot figures count in: the set adopted on the year before, or (none adopted)
    the hotspots chosen on it today."""
    if head.hotspot_set:
        return f"Hotspots: the adopted set “{markdown_plain(head.hotspot_set)}”, chosen on {head.fy_before}"
    return f"Hotspots chosen on {head.fy_before} today (no set was adopted on that year)"


def draw_evidence_line(head, result) -> None:
    """The report's figure and how much of it the evidence supports, in one line: the estimate
    corrected for regression to the mean (Impact page) with its 95% interval, or why there is none."""
    from ui.impact.forest import interval, pct, reason

    pooled = result.table[result.table["hotspot_id"] == "pooled"].iloc[0]
    report = pct(head.hotspot_change_pct) or "not estimable"
    corrected = pct(pooled["corrected_change_pct"])
    if corrected is None:
        st.markdown(f"In the hotspots: the report's **{report}**; how much of it the patrols did cannot be estimated "
                    f"({reason(pooled)}).")
        return
    span = interval(pooled["corrected_ci_low_pct"], pooled["corrected_ci_high_pct"])
    st.markdown(f"In the hotspots: the report's **{report}**; the evidence supports about **{corrected}** "
                f"(95% interval {span}) once regression to the mean is taken out. See Impact.")
