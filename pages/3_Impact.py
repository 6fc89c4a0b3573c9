"""Impact: interrupted time-series estimates of the change in each hotspot, pooled, with displacement."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from hotspot_engine.analyse.evaluation import weekly_problem
from ui.common import (page_setup, OKABE_ITO, cached_impact, cursor, data_version, draw_chart, extent, impact_inputs,
                       show_error)

filters = page_setup("Impact of hotspot patrols")
version = data_version()
ext = extent(version)


default_day = impact_inputs(ext)[0]
if "i_date" not in st.session_state:
    st.session_state["i_date"] = default_day
c1, c2, c3, c4 = st.columns(4)
intervention = c1.date_input("Intervention date", key="i_date", help="Default: the month of the first recorded patrol.")
model = c2.selectbox("Model (chosen before fitting)", ["negbin", "poisson"], key="i_model",
                     format_func={"negbin": "Negative binomial, level change", "poisson": "Quasi-Poisson, level change"}.get)
buffer_k = c3.selectbox("Displacement buffer (rings)", [1, 2], key="i_buffer")
impact_filters = filters.with_(date_from=None, date_to=None)
sv_filters = impact_filters if (impact_filters.sv_only or impact_filters.offences) else impact_filters.with_(sv_only=True)
week_problem = weekly_problem(cursor(), sv_filters) if ext.first_month else "no incidents are stored"
if week_problem:
    st.session_state["i_period"] = "month"
period = c4.radio("Periods", ["month", "week"], key="i_period", horizontal=True, disabled=bool(week_problem),
                  format_func={"month": "months", "week": "weeks"}.get,
                  help="Weekly series need the date and time of each offence; a week only partly after the "
                       "intervention counts as before.")
if week_problem:
    c4.caption(f"Weeks are not available: {week_problem}.")
unit = "week" if period == "week" else "month"
if intervention is None:
    st.info("No patrols are stored, so there is no default intervention date: choose one.")
    st.stop()

try:
    result = cached_impact(impact_filters, intervention.isoformat(), model, int(buffer_k), version, period)
except Exception as exc:
    show_error(exc)
    st.stop()

table = result.table
pooled = table[table["hotspot_id"] == "pooled"].iloc[0]
m1, m2, m3 = st.columns(3)
m1.metric("Pooled ITS level change", f"{pooled['its_change_pct']:+.1f}%",
          help="Random-effects pool of the per-hotspot level changes, exp(b2)-1.")
m2.metric("95% confidence interval", f"{pooled['ci_low_pct']:+.1f}% to {pooled['ci_high_pct']:+.1f}%")
m3.metric("Simple before/after (report's figure)", f"{pooled['simple_change_pct']:+.1f}%",
          help=f"{int(pooled['simple_window'])} {unit}s after against the {int(pooled['simple_window'])} {unit}s before, "
               "all hotspots together.")
st.caption(result.description)

st.subheader("Effect in each hotspot")
forest = table[table["its_change_pct"].notna()].copy()
forest["label"] = forest["hotspot_name"].fillna(forest["hotspot_id"])
forest["kind"] = forest["hotspot_id"].eq("pooled").map({True: "Pooled", False: "Hotspot"})
base = alt.Chart(alt.Data(name="forest")).encode(
    y=alt.Y("label:N", sort=list(forest["label"]), title=None, axis=alt.Axis(labelLimit=360)))
bars = base.mark_rule(strokeWidth=2).encode(x=alt.X("ci_low_pct:Q", title="Level change % (95% CI)"), x2=alt.X2("ci_high_pct:Q"))
points = base.mark_point(filled=True, size=90).encode(
    x=alt.X("its_change_pct:Q"), shape=alt.Shape("kind:N", scale=alt.Scale(range=["circle", "diamond"]), title=None),
    color=alt.Color("kind:N", scale=alt.Scale(range=[OKABE_ITO[4], OKABE_ITO[5]]), title=None),
    tooltip=[alt.Tooltip("label:N"), alt.Tooltip("its_change_pct:Q"), alt.Tooltip("ci_low_pct:Q"),
             alt.Tooltip("ci_high_pct:Q"), alt.Tooltip("p_value:Q")])
zero = alt.Chart(alt.Data(name="zero")).mark_rule(strokeDash=[4, 4], color="#555").encode(x=alt.X("x:Q"))
draw_chart((bars + points + zero).properties(height=28 * len(forest) + 40),
           {"forest": forest, "zero": pd.DataFrame({"x": [0]})}, width="stretch")
st.caption("Each line is one hotspot's modelled change in level after the intervention, with its 95% confidence "
           "interval; the diamond pools them. Lines that cross the dashed zero line are consistent with no change.")

st.subheader("One hotspot over time")
names = table.loc[table["hotspot_id"] != "pooled", ["hotspot_id", "hotspot_name"]]
options = ["pooled"] + names["hotspot_id"].tolist()
label_of = dict(zip(names["hotspot_id"], names["hotspot_name"])) | {"pooled": "All hotspots together"}
chosen = st.selectbox("Hotspot", options, format_func=label_of.get, key="i_hotspot")
fit = result.aggregate if chosen == "pooled" else result.fits.get(chosen)
if fit is None or not fit.ok:
    st.warning(fit.message if fit is not None else "No model for this hotspot.")
else:
    starts = pd.Series(fit.periods) + ("" if unit == "week" else "-01")
    frame = pd.DataFrame({"month": pd.to_datetime(starts), "observed": fit.observed,
                          "fitted": fit.fitted, "counterfactual": fit.counterfactual, "cf_low": fit.cf_low,
                          "cf_high": fit.cf_high})
    series = alt.Chart(alt.Data(name="series"))
    band = series.mark_area(opacity=0.25, color=OKABE_ITO[1]).encode(x=alt.X("month:T"), y=alt.Y("cf_low:Q"),
                                                                     y2=alt.Y2("cf_high:Q"))
    obs = series.mark_point(color="#000").encode(x=alt.X("month:T", title=unit.capitalize()),
                                                 y=alt.Y("observed:Q", title=f"Serious violence per {unit}"))
    fitted = series.mark_line(color=OKABE_ITO[5], strokeWidth=2).encode(x=alt.X("month:T"), y=alt.Y("fitted:Q"))
    cf = series.mark_line(color=OKABE_ITO[1], strokeDash=[6, 3]).encode(x=alt.X("month:T"), y=alt.Y("counterfactual:Q"))
    start = pd.DataFrame({"x": [pd.Timestamp(result.intervention_month + ("" if unit == "week" else "-01"))]})
    line = alt.Chart(alt.Data(name="start")).mark_rule(color="#555").encode(x=alt.X("x:T"))
    draw_chart((band + obs + fitted + cf + line).properties(height=340), {"series": frame, "start": start},
               width="stretch")
    st.caption(f"Dots: observed {unit}ly counts. Solid line: the model. Dashed line and band: what the model expects "
               f"without the intervention (95% band). The vertical line marks "
               f"{'the week of Monday ' if unit == 'week' else ''}{result.intervention_month}. "
               f"Modelled level change {fit.level_change_pct:+.1f}% (95% CI {fit.ci_low_pct:+.1f}% to {fit.ci_high_pct:+.1f}%, p = {fit.p_value:.3f}).")
    with st.expander("Table of the chart (text alternative)"):
        shown = frame.assign(month=frame["month"].dt.strftime("%Y-%m-%d" if unit == "week" else "%Y-%m")).rename(columns={"month": unit})
        st.dataframe(shown.round(2), hide_index=True, width="stretch")

st.subheader("All figures")
st.caption("The table behind the forest plot above (its text alternative), with the displacement figures.")
if unit == "week":
    st.caption("Weekly analysis: the columns named months_pre, months_post and simple_window count weeks.")
st.dataframe(table, hide_index=True, width="stretch")
