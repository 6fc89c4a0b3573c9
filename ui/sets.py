"""The adopted hotspot set every page works on: the latest by default, or the one chosen in the
sidebar (kept in the URL as ``set=NAME``, like the other view settings, so a shared link shows the
same list). Pages take :func:`current_set` and say in one line when no set is adopted, then use
today's hotspots for the filters."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from hotspot_engine.render.text_safety import markdown_plain
from hotspot_engine.service.sets import AdoptedSet
from ui.cached import cached_set, cached_set_list, sets_version
from ui.wall import draw_wall_table

#: Session key of the choice (URL ``set``): '' = the latest adopted set; TODAY = no set, today's hotspots.
SET_KEY = "s_set"
TODAY = "(none)"  # set names cannot start with "(" (service.sets)
NO_SET_LINE = ("No hotspot set is adopted yet: this page uses today's hotspots for the filters. Adopt a set on the "
               "Hotspot map to fix one list for every page.")


@dataclass(frozen=True)
class SetRef:
    """What cached results key on: the set's name and when it was adopted (a replaced set is new)."""
    name: str
    adopted_at: str


def _label(listing: pd.DataFrame):
    latest = str(listing["name"].iloc[0]) if len(listing) else ""

    def label(value: str) -> str:
        if value == "":
            return f"Latest adopted: {latest}"
        if value == TODAY:
            return "None: today's hotspots"
        return value
    return label


def set_picker() -> None:
    """The sidebar's choice of set (nothing is drawn when no set is adopted)."""
    listing = cached_set_list(sets_version())
    if listing.empty:
        return
    options = ["", *[str(n) for n in listing["name"]], TODAY]
    if st.session_state.get(SET_KEY) not in options:
        st.session_state[SET_KEY] = ""
    st.sidebar.selectbox("Hotspot set", options, key=SET_KEY, format_func=_label(listing),
                         help="The adopted list of hotspots that Patrols, Impact, the briefing and the exports work "
                              "on. Adopt a new set on the Hotspot map.")
    st.session_state["_keep_" + SET_KEY] = st.session_state[SET_KEY]  # survives a page switch (ui/common.py)


def current_set() -> AdoptedSet | None:
    """The chosen adopted set (the latest unless another is chosen), or None (none adopted, or
    today's hotspots chosen)."""
    choice = st.session_state.get(SET_KEY, "")
    if choice == TODAY:
        return None
    return cached_set(choice or None, sets_version())


def set_ref(adopted: AdoptedSet | None) -> SetRef | None:
    return None if adopted is None else SetRef(adopted.name, adopted.adopted_at.isoformat())


@dataclass(frozen=True)
class TodayRef:
    """With no adopted set: today's hotspots as the Hotspot map chooses them (its method and look-back
    window), so the map's number 3 is the same place on Patrols. Before, Patrols chose on the 12
    months before its period, or on the whole period when the store held nothing earlier: on the
    real months the map's #3 was Cranbury Place and Patrols' #3 Fourposts Hill."""
    params: object
    window_months: int


def hotspots_ref(adopted: AdoptedSet | None) -> SetRef | TodayRef:
    """What a page's hotspot figures are keyed on: the adopted set, or today's map hotspots."""
    from ui.common import map_params  # ui.common imports this module

    return set_ref(adopted) or TodayRef(*map_params())


def chose_today() -> bool:
    return st.session_state.get(SET_KEY, "") == TODAY


def set_line(adopted: AdoptedSet | None) -> None:
    """One line naming the set the page works on, or saying there is none."""
    if adopted is None and st.session_state.get("present"):  # the wall screen: a line, not a box
        st.caption("Today's hotspots for the filters (no adopted set chosen)." if chose_today() else NO_SET_LINE)
        return
    if adopted is None:
        st.info("Today's hotspots for the filters (no adopted set chosen)." if chose_today() else NO_SET_LINE,
                icon=":material/info:")
        return
    hotspots = adopted.hotspots()
    if st.session_state.get("present"):  # the wall screen: one short line (the rest is on the desk view)
        st.caption(markdown_plain(f"Hotspot set: {adopted.name} ({len(hotspots)} hotspots), chosen on "
                                  f"{adopted.window()}. Numbers and names as on the map. {adopted.chance_line()}"))
        return
    st.caption(markdown_plain(
        f"Hotspot set: {adopted.name} ({len(hotspots)} hotspots, {len(adopted.cells)} cells), chosen on "
        f"{adopted.window()} with {adopted.method}; adopted {adopted.adopted_at:%Y-%m-%d %H:%M} UTC"
        + (f" by {adopted.adopted_by}" if adopted.adopted_by else "") + ". Numbers and names as on the map. "
        + adopted.chance_line()))


def hotspot_table(adopted: AdoptedSet) -> pd.DataFrame:
    """The set's hotspots as every page lists them: number, id, name, district, cells."""
    hotspots = adopted.hotspots()
    return pd.DataFrame({"No": hotspots["hotspot_number"].astype(int), "Hotspot id": hotspots["hotspot_id"],
                         "Hotspot": hotspots["hotspot_name"], "District": hotspots["district"],
                         "Cells": hotspots["cells"].astype(int)})


def draw_set_table(adopted: AdoptedSet | None, wall: bool = False) -> None:
    """The set the exports and outputs use: one line and its hotspots (or the no-set line). ``wall``:
    as many hotspots as fit the screen (ui/wall.py)."""
    st.subheader("Hotspot set")
    set_line(adopted)
    if adopted is not None and wall:
        draw_wall_table(hotspot_table(adopted).drop(columns=["Hotspot id"]), "data", "hotspots")
    elif adopted is not None:
        st.dataframe(hotspot_table(adopted), hide_index=True, width="stretch")
