"""The dosage target the user sets: visits per day or per shift, visit length, days a week and the green
threshold (kept for presentation mode). Default: the Koper curve, one 10-15 minute visit a day."""
from __future__ import annotations

import streamlit as st

from hotspot_engine.analyse.patrols import KOPER_SOURCE, DosageTarget
from ui.errors import page_errors


def dosage_target(big: bool) -> DosageTarget:
    if big:
        return st.session_state.get("p_target", DosageTarget())
    with st.expander("Dosage target", icon=":material/target:"):
        c1, c2, c3, c4, c5 = st.columns(5)
        visits = c1.number_input("Visits per hotspot", 1, 6, 1, key="p_visits")
        per = c2.selectbox("Per", ["day", "shift"], key="p_per",
                           help="A shift target needs the visits in each of the three shifts (07-15, 15-23, 23-07).")
        band = c3.slider("Visit length (minutes)", 5, 60, (10, 15), key="p_band", help=KOPER_SOURCE + ".")
        days = c4.number_input("Days a week", 1, 7, 7, key="p_days")
        green = c5.slider("Green from (share of required days dosed)", 0.5, 1.0, 0.8, 0.05, key="p_green")
    target = DosageTarget()
    with page_errors("Patrols: dosage target"):
        target = DosageTarget(visits=int(visits), per=per, min_minutes=band[0], max_minutes=band[1],
                              days_per_week=int(days), green_at=green, amber_at=min(0.5, green))
    st.session_state["p_target"] = target
    return target
