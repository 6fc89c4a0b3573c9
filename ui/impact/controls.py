"""The Impact page's choices: intervention date, model, displacement rings, the series period and the
last month evaluated (by default the end of the adopted set's year: ui.common.set_year_end)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import streamlit as st

from hotspot_engine.filters import Filters, months_between
from hotspot_engine.service import Extent
from ui.cached import cached_weekly_problem
from ui.common import impact_inputs, impact_last_month, presentation, set_year_end
from ui.date_field import date_field

MODEL_LABELS = {"negbin": "Negative binomial, level change", "poisson": "Quasi-Poisson, level change"}


@dataclass(frozen=True)
class ImpactChoice:
    intervention: date | None
    model: str
    buffer_k: int
    period: str  # 'month' or 'week'
    last_month: str | None = None  # the last month evaluated ('YYYY-MM')

    @property
    def unit(self) -> str:
        return "week" if self.period == "week" else "month"


def impact_controls(filters: Filters, ext: Extent, version: int, adopted=None) -> ImpactChoice:
    """``filters``: the page's filters without months (the impact runs from the first stored month to
    the last month chosen); ``adopted``: the set the page works on (its year sets that month)."""
    if "i_date" not in st.session_state:
        st.session_state["i_date"] = impact_inputs(ext)[0]
    if presentation():
        # The wall screen shows results, not controls (issue 27): the choices made before presenting stand.
        day, model, buffer_k, period = impact_inputs(ext, with_period=True)
        # Kept as plain state while their widgets are not drawn, so leaving presentation mode finds them.
        st.session_state.update({"i_date": day, "i_model": model, "i_buffer": buffer_k, "i_period": period,
                                 "i_to": st.session_state.get("i_to", "")})
        return ImpactChoice(day, model, int(buffer_k), period, impact_last_month(ext, adopted))
    c1, c2, c3, c4, c5 = st.columns(5)
    intervention = date_field("Intervention date", "i_date", where=c1, help="Default: the month of the first recorded patrol.")
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
    return ImpactChoice(intervention, model, int(buffer_k), period, _last_month(c5, ext, adopted))


def _last_month(where, ext: Extent, adopted) -> str | None:
    """The last month evaluated: '' (the default) is the end of the set's year, said in the label."""
    if not ext.first_month or not ext.last_month:
        return None
    default = set_year_end(adopted, ext.last_month)
    months = months_between(ext.first_month, ext.last_month)[::-1]
    if st.session_state.get("i_to", "") not in ["", *months]:
        st.session_state["i_to"] = ""
    where.selectbox("Evaluate to", ["", *months], key="i_to",
                    format_func=lambda m: m or (f"{default} (end of the set's year)" if adopted is not None
                                                else f"{default} (last stored)"),
                    help="The last month counted after the intervention. Default: the end of the year the adopted "
                         "set was chosen for (12 months after its window), so later months (another programme, a "
                         "trial) do not move the estimate.")
    return impact_last_month(ext, adopted)
