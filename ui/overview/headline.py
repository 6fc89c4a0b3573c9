"""The Overview's headline: the annual report's four figures and the sentence under them.

On the wall screen the line naming the adopted set keeps to one line: the name gets the room the line
leaves it, measured by the browser (a CSS flex row), and ends in "…" only when it does not fit; the
count beyond chance after it is never shortened. Set names may be 80 characters (service/sets.py), and
wrapped they took a second line that the monthly chart below had no room for: an 80-character name
in capitals with four CSPs chosen scrolled the page 23 px at 1280x720 (chart caption cut), a
78-character name with the CSPs 5 px at 1920x1080. A shortened name is still there in full: in the
line's tooltip, on the Hotspot sets page and on the desk view (Exit presentation mode), so
nothing is cut off silently.
"""
from __future__ import annotations

import streamlit as st

from hotspot_engine.render.text_safety import html_plain, markdown_plain
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
        _wall_set_line(head, chance)
        return
    st.caption(
        f"Force-wide change: {change_text(head.sv_change, head.sv_change_pct, head.fy_before)}; in the {head.hotspots} "
        f"hotspots: {change_text(head.hotspot_sv_after - head.hotspot_sv_before, head.hotspot_change_pct, head.fy_before)}"
        f", with {head.patrols_after:,} patrols. {_chosen(head)}, "
        "so part of any fall is regression to the mean, worked out below.")


def _wall_set_line(head, chance: str) -> None:
    """The set's line on the wall screen, one line whatever the name's length (module docstring)."""
    if not head.hotspot_set:
        st.caption(f"{_chosen(head)}" + (f"; {chance}." if chance else "."))
        return
    tail = f"”, chosen on {head.fy_before}" + (f"; {chance}." if chance else ".")
    # Only the name shrinks; the words around it keep their width (about 34 em of wall type, two thirds
    # of a 1280 px line), wrapping only on a screen too narrow to leave the name a few letters. The name
    # is Markdown-escaped as text (it may hold Markdown or HTML), HTML-escaped in its title.
    st.caption(
        "<span class='hs-set-line' style='display:flex;white-space:nowrap'>"
        "<span style='flex:none'>Hotspots: the adopted set “</span>"
        f"<span class='hs-set-name' title='{html_plain(head.hotspot_set)}' "
        "style='flex:0 1 auto;min-width:2em;overflow:hidden;text-overflow:ellipsis'>"
        f"{markdown_plain(head.hotspot_set)}</span>"
        f"<span style='flex:none;max-width:calc(100% - 16em);white-space:normal'>{tail}</span></span>",
        unsafe_allow_html=True)


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
