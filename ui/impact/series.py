"""One hotspot (or the pool) over time: observed counts, the fitted model and the counterfactual
with its 95% prediction band (where single periods are expected to fall), the intervention marked;
the corrected model by default, the uncorrected ITS on request."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from hotspot_engine.render.text_safety import markdown_plain
from ui.common import OKABE_ITO, display_table, draw_chart


def series_chart(frame: pd.DataFrame, start: pd.DataFrame, unit: str):
    series = alt.Chart(alt.Data(name="series"))
    band = series.mark_area(opacity=0.25, color=OKABE_ITO[1]).encode(x=alt.X("month:T"), y=alt.Y("cf_low:Q"),
                                                                     y2=alt.Y2("cf_high:Q"))
    obs = series.mark_point(color="#000").encode(x=alt.X("month:T", title=unit.capitalize()),
                                                 y=alt.Y("observed:Q", title=f"Serious violence per {unit}"))
    fitted = series.mark_line(color=OKABE_ITO[5], strokeWidth=2).encode(x=alt.X("month:T"), y=alt.Y("fitted:Q"))
    cf = series.mark_line(color=OKABE_ITO[1], strokeDash=[6, 3]).encode(x=alt.X("month:T"), y=alt.Y("counterfactual:Q"))
    line = alt.Chart(alt.Data(name="start")).mark_rule(color="#555").encode(x=alt.X("x:T"))
    return (band + obs + fitted + cf + line).properties(height=340)


def draw_series(result, unit: str) -> None:
    st.subheader("One hotspot over time")
    table = result.table
    names = table.loc[table["hotspot_id"] != "pooled", ["hotspot_id", "hotspot_name"]]
    options = ["pooled"] + names["hotspot_id"].tolist()
    label_of = dict(zip(names["hotspot_id"], names["hotspot_name"])) | {"pooled": "All hotspots together"}
    left, right = st.columns([2, 1])
    chosen = left.selectbox("Hotspot", options, format_func=label_of.get, key="i_hotspot")
    model = right.radio("Model", ["corrected", "uncorrected"], key="i_series_model", horizontal=True,
                        format_func={"corrected": "corrected", "uncorrected": "uncorrected ITS"}.get)
    if model == "corrected":
        fit = result.aggregate_corrected if chosen == "pooled" else result.corrected.get(chosen)
    else:
        fit = result.aggregate if chosen == "pooled" else result.fits.get(chosen)
    if fit is None or not fit.ok:
        st.warning(markdown_plain(fit.message) if fit is not None else "No model for this hotspot.")
        return
    starts = pd.Series(fit.periods) + ("" if unit == "week" else "-01")
    frame = pd.DataFrame({"month": pd.to_datetime(starts), "observed": fit.observed,
                          "fitted": fit.fitted, "counterfactual": fit.counterfactual, "cf_low": fit.cf_low,
                          "cf_high": fit.cf_high})
    start = pd.DataFrame({"x": [pd.Timestamp(result.intervention_month + ("" if unit == "week" else "-01"))]})
    draw_chart(series_chart(frame, start, unit), {"series": frame, "start": start}, width="stretch")
    if model == "corrected":
        kept = fit.extra.get("kept")
        frame.loc[~kept, "fitted"] = float("nan")  # the selection window is not fitted
    st.caption(f"Dots: observed {unit}ly counts. Solid line: the model. Dashed line and band: what the model expects "
               f"without the intervention; the band is where 95% of single {unit}s should fall. "
               + ("The corrected model skips the months the hotspots were chosen on. " if model == "corrected" else "")
               + "The vertical line marks "
               f"{'the week of Monday ' if unit == 'week' else ''}{result.intervention_month}. "
               f"Modelled level change {fit.level_change_pct:+.1f}% (95% interval {fit.ci_low_pct:+.1f}% to "
               f"{fit.ci_high_pct:+.1f}%, p = {fit.p_value:.3f})."
               + (" This models the hotspots' summed series, a check on the headline figure above, which pools "
                  "each hotspot's own estimate." if chosen == "pooled" else ""))
    with st.expander("Table of the chart (text alternative)"):
        shown = frame.assign(month=frame["month"].dt.strftime("%Y-%m-%d" if unit == "week" else "%Y-%m")).rename(
            columns={"month": unit})
        # Months the corrected model skips have no fitted value: a dash, not an empty "None" cell.
        st.dataframe(display_table(shown.round(2), digits=2, rename=False), hide_index=True, width="stretch")
