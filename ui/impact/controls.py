"""The Impact page's choices: intervention date, model, displacement rings and the series period."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import streamlit as st

from hotspot_engine.filters import Filters
from hotspot_engine.service import Extent
from ui.cached import cached_weekly_problem
from ui.common import impact_inputs, presentation

MODEL_LABELS = {"negbin": "Negative binomial, level change", "poisson": "Quasi-Poisson, level change"}


@dataclass(frozen=True)
class ImpactChoice:
    intervention: date | None
    model: str
    buffer_k: int
    period: str  # 'month' or 'week'

    @property
    def unit(self) -> str:
        return "week" if self.period == "week" else "month"


def impact_controls(filters: Filters, ext: Extent, version: int) -> ImpactChoice:
    """``filters``: the page's filters without months (the impact uses every stored month)."""
    if "i_date" not in st.session_state:
        st.session_state["i_date"] = impact_inputs(ext)[0]
    if presentation():
        # The wall screen shows results, not controls (issue 27): the choices made before presenting stand.
        day, model, buffer_k, period = impact_inputs(ext, with_period=True)
        # Kept as plain state while their widgets are not drawn, so leaving presentation mode finds them.
        st.session_state.update({"i_date": day, "i_model": model, "i_buffer": buffer_k, "i_period": period})
        return ImpactChoice(day, model, int(buffer_k), period)
    c1, c2, c3, c4 = st.columns(4)
    intervention = c1.date_input("Intervention date", key="i_date", help="Default: the month of the first recorded patrol.")
    model = c2.selectbox("Model (chosen before fitting)", ["negbin", "poisson"], key="i_model", format_func=MODEL_LABELS.get)
    buffer_k = c3.selectbox("Displacement buffer (rings)", [1, 2], key="i_buffer")
    sv_filters = filters if (filters.sv_only or filters.offences) else filters.with_(sv_only=True)
    week_problem = cached_weekly_problem(sv_filters, version) if ext.first_month else "no incidents are stored"
    if week_problem:
        st.session_state["i_period"] = "month"
    period = c4.radio("Periods", ["month", "week"], key="i_period", horizontal=True, disabled=bool(week_problem),
                      format_func={"month": "months", "week": "weeks"}.get,
                      help="Weekly series need the date and time of each offence; a week only partly after the "
                           "intervention counts as before.")
    if week_problem:
        c4.caption(f"Weeks are not available: {week_problem}.")
    return ImpactChoice(intervention, model, int(buffer_k), period)
