"""The dosage target the user sets, named for what it is (issue 27): a preset (one 15-minute visit a
day as in the UK trials, the default; 15 minutes at random every 2 hours in the hot hours as in
Sacramento) or the user's own visits per day or per shift, visit length, days a week and green
threshold. Koper (1995) is cited for the visit length only: it is about how long a stop lasts, not
how many visits a day. The target is kept in session state for presentation mode."""
from __future__ import annotations

import streamlit as st

from hotspot_engine.analyse.patrols import DOSAGE_PRESETS, KOPER_SOURCE, OWN_TARGET, DosageTarget
from ui.errors import page_errors

PRESET_NOTES = {
    DosageTarget().name: "UK hotspot trials (Southend; the Home Office Grip programme) planned one patrol of about 15 "
                         "minutes a day in each hotspot. Here a visit counts from 10 minutes and is planned at 15.",
    OWN_TARGET: "",
}
SACRAMENTO_NOTE = ("Sacramento (Telep, Mitchell & Weisburd 2014): 12-16 minute visits in random order about every 2 "
                   "hours in the hot hours; 4 visits a day stands for an 8-hour hot window (choose your own target "
                   "for other hours).")


def _own_target() -> tuple[int, str, tuple[int, int], int]:
    c1, c2, c3, c4 = st.columns(4)
    visits = c1.number_input("Visits per hotspot", 1, 6, 1, key="p_visits")
    per = c2.selectbox("Per", ["day", "shift"], key="p_per",
                       help="A shift target needs the visits in each of the three shifts (07-15, 15-23, 23-07).")
    band = c3.slider("Visit length (minutes)", 5, 60, (10, 20), key="p_band",
                     help=KOPER_SOURCE[0].upper() + KOPER_SOURCE[1:] + ".")
    days = c4.number_input("Days a week", 1, 7, 7, key="p_days")
    return int(visits), per, band, int(days)


def dosage_target(big: bool) -> DosageTarget:
    if big:
        return st.session_state.get("p_target", DosageTarget())
    with st.expander("Dosage target", icon=":material/target:"):
        left, right = st.columns([3, 2])
        choice = left.selectbox("Target", [*DOSAGE_PRESETS, OWN_TARGET], key="p_preset",
                                help="What green means: the presets are what published trials planned; choose your "
                                     "own to set every figure.")
        green = right.slider("Green from (share of required days dosed)", 0.5, 1.0, 0.8, 0.05, key="p_green")
        preset = DOSAGE_PRESETS.get(choice)
        if preset is None:
            visits, per, band, days = _own_target()
        else:
            visits, per, band, days = preset.visits, preset.per, (preset.min_minutes, preset.max_minutes), 7
            st.caption(PRESET_NOTES.get(choice, SACRAMENTO_NOTE) + f" A visit's {KOPER_SOURCE}.")
    target = preset or DosageTarget()
    with page_errors("Patrols: dosage target"):
        target = DosageTarget(visits=visits, per=per, min_minutes=band[0], max_minutes=band[1], days_per_week=days,
                              green_at=green, amber_at=min(0.5, green), name=choice)
    st.session_state["p_target"] = target
    return target
