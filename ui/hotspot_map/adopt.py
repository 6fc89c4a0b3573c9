"""The adopted set beside today's hotspots (its outlines in blue on the map, and what moved), and the
data manager's form to adopt today's hotspots as a new set (ui/access.py roles)."""
from __future__ import annotations

from dataclasses import asdict

import streamlit as st

from hotspot_engine.analyse.set_changes import compare, summary
from hotspot_engine.errors import InputError
from hotspot_engine.render.deck import SET_OUTLINE_COLOUR
from hotspot_engine.render.text_safety import markdown_plain
from ui import access
from ui.cached import adopt_set, cached_hotspots, settings
from ui.common import legend_html
from ui.hotspot_map.scene import MapScene
from ui.sets import chose_today

ADOPTED_NOTE = "s_adopted_note"


def today_cells(scene: MapScene):
    """Today's hotspot cells with the numbers the map shows."""
    hot = scene.cells[scene.cells["is_hotspot"].astype(bool)]
    return hot.assign(hotspot_number=hot["hotspot_rank"]).dropna(subset=["hotspot_id"])


def draw_set_beside(scene: MapScene, present: bool) -> None:
    """The set's legend entry and one line on what moved since it was adopted."""
    adopted = scene.adopted
    if adopted is None:
        return
    st.markdown(legend_html("Adopted set", [(adopted.name, SET_OUTLINE_COLOUR)], large=present), unsafe_allow_html=True)
    if adopted.filters.res != scene.window.res:
        st.caption(f"The set's cells are at H3 resolution {adopted.filters.res}: compare at that resolution.")
        return
    changes = compare(adopted.cells, today_cells(scene))
    if present:  # the wall screen: the count alone
        st.markdown(f"Today against the set: **{summary(changes)}**")
        st.caption(adopted.chance_line(short=True))
        return
    st.caption(markdown_plain(f"Today's hotspots against the set (chosen on {adopted.window()}): {summary(changes)}. "
                              "Blue outlines and the numbers: the set, as on every page; black outlines: today's "
                              "analysis, ranked below with the set's number where they overlap one of its places. "
                              f"The set: {adopted.chance_line()}"))


def set_numbers(scene: MapScene):
    """Today's hotspot id -> the number of the set's hotspot it overlaps most (None without a set, or
    when the set is at another resolution)."""
    adopted = scene.adopted
    if adopted is None or adopted.filters.res != scene.window.res:
        return None
    changes = compare(adopted.cells, today_cells(scene))
    kept = changes[changes["status"] == "kept"]
    return kept.set_index("hotspot_id")["other_number"]


def _user() -> str:
    email = str(getattr(st.user, "email", "") or "") if settings().auth_required else ""
    return email or "app user (sign-in off)"


def draw_adopt(scene: MapScene) -> None:
    """Adopt today's hotspots as a named set (data managers only, when sign-in is on)."""
    done = st.session_state.pop(ADOPTED_NOTE, None)
    if done:
        st.success(markdown_plain(done))
    elif scene.adopted is None and not chose_today():
        st.info("No hotspot set is adopted yet: the map shows today's hotspots; adopt them below to fix one list "
                "for Patrols, Impact, the briefing and the exports.", icon=":material/info:")
    with st.expander("Adopt these hotspots as the programme's set", icon=":material/push_pin:"):
        if not access.can_manage_data(settings()):
            st.caption("Adopting a set needs a data-manager role (settings.toml, [access]).")
            return
        st.caption(f"Stores today's {len(scene.areas)} hotspots (cells, ids, numbers, names), the window "
                   f"{scene.window.date_from} to {scene.window.date_to}, the filters and the method. A set never "
                   "changes afterwards; Patrols, Impact, the briefing and the exports then work on it.")
        with st.form("adopt_form", clear_on_submit=False):
            name = st.text_input("Name", key="s_new_name", max_chars=80, placeholder="e.g. FY 2024-25")
            note = st.text_area("Note", key="s_new_note", max_chars=500,
                                placeholder="Why this list, who agreed it, where it was sent")
            replace = st.checkbox("Replace a set of the same name", key="s_replace")
            if st.form_submit_button("Adopt", type="primary"):
                _adopt(scene, name, note, replace)


def _adopt(scene: MapScene, name: str, note: str, replace: bool) -> None:
    result = cached_hotspots(scene.window, scene.choices.params, scene.version)
    try:
        adopted = adopt_set(name, result, scene.window, asdict(scene.choices.params), scene.window, _user(), note,
                            replace)
    except InputError as exc:
        st.error(markdown_plain(str(exc)))
        return
    st.session_state[ADOPTED_NOTE] = (f"Adopted '{adopted.name}': {len(adopted.hotspots())} hotspots, "
                                      f"{len(adopted.cells)} cells. Every page now works on it.")
    st.rerun()
