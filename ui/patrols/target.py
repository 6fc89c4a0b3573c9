"""The dosage target: visits a day, visit length and the green threshold (kept for presentation mode)."""
from __future__ import annotations

import streamlit as st

from hotspot_engine.analyse.patrols import DosageTarget
from ui.errors import page_errors


def dosage_target(big: bool) -> DosageTarget:
    if big:
        return st.session_state.get("p_target", DosageTarget())
    with st.expander("Dosage target", icon=":material/target:"):
        c1, c2, c3 = st.columns(3)
        visits = c1.number_input("Visits a day per hotspot", 1, 6, 1, key="p_visits")
        band = c2.slider("Visit length (minutes)", 5, 60, (10, 20), key="p_band",
                         help="Koper curve: deterrence grows with presence up to about 15 minutes, then tails off.")
        green = c3.slider("Green from (share of days dosed)", 0.5, 1.0, 0.8, 0.05, key="p_green")
    target = DosageTarget()
    with page_errors("Patrols: dosage target"):
        target = DosageTarget(visits_per_day=int(visits), min_minutes=band[0], max_minutes=band[1], green_at=green,
                              amber_at=min(0.5, green))
    st.session_state["p_target"] = target
    return target
