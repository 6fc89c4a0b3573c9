"""Impact page: the randomised patrol-day trial (issue 28), from the newest stored schedule.

Leads with the pooled intention-to-treat rate ratio and its interval, then the CONSORT-style flow
(days scheduled, delivered, contaminated), the hotspots' own ratios with compliance, delivery week by
week (hotspots falling behind), and the secondary analyses, labelled as such. Text from data (set,
schedule and hotspot names) is escaped; where the data cannot support the trial, one line says why.
"""
from __future__ import annotations

import math

import altair as alt
import pandas as pd
import streamlit as st

from hotspot_engine.analyse.trial_analysis import latest_week
from hotspot_engine.analyse.trial_ri import DEFAULT_PERMUTATIONS
from hotspot_engine.render.text_safety import markdown_plain
from ui.cached import cursor
from ui.common import display_table, draw_chart


@st.cache_data(show_spinner="Evaluating the trial…", max_entries=4)
def _evaluation(version: int, stamp: str):
    from hotspot_engine.service import trial

    return trial.stored_evaluation(cursor())


def evaluation(version: int):
    """(schedule row, result, reason) of the newest stored schedule, cached on data and schedule."""
    return _evaluation(version, _stamp())


def _stamp() -> str:
    """Which schedule is newest (adopting one is no data load, so the cache key must see it)."""
    from hotspot_engine.service import trial

    rows = trial.schedules(cursor())
    return "" if rows.empty else f"{rows.iloc[0]['name']}|{rows.iloc[0]['created_at']}"


def _ratio(value: float) -> str:
    return f"{value:.2f}" if isinstance(value, float) and math.isfinite(value) else "not estimable"


def draw_trial(version: int) -> None:
    st.subheader("Randomised patrol days (trial)")
    row, result, why = evaluation(version)
    if row is None or result is None:
        st.info(markdown_plain(why))
        return
    design = row["design"]
    st.caption(markdown_plain(
        f"Schedule '{row['name']}' on set '{row['set_name']}': {design.get('start')} to {design.get('end')}, "
        f"{design.get('design')}, seed {design.get('seed')}. Patrol days against control days inside each hotspot, "
        "by the scheduled arm (intention to treat)."))
    pooled = result.pooled
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Rate ratio, patrol vs control days", _ratio(pooled["rate_ratio"]),
              help="Incidents a patrol day over incidents a control day (below 1: fewer on patrol days); Poisson "
                   "model with hotspot and weekday effects, interval cluster-robust by hotspot.")
    m2.metric("95% interval", f"{_ratio(pooled['ci_low'])} to {_ratio(pooled['ci_high'])}")
    m3.metric("Compliance", f"{pooled['compliance']:.0%}", help="Patrol days on which a patrol visited the hotspot.")
    m4.metric("Control days visited anyway", f"{pooled['contamination']:.0%}")
    if math.isfinite(pooled["ri_p_value"]):
        st.caption(f"Randomisation inference (the schedule re-drawn {DEFAULT_PERMUTATIONS:,} times inside its own "
                   f"weekday blocks; no model of the counts): 95% interval {_ratio(pooled['ri_ci_low'])} to "
                   f"{_ratio(pooled['ri_ci_high'])}, p = {pooled['ri_p_value']:.3f}; model-based p = "
                   f"{pooled['p_value']:.3f}.")
    power = row.get("power") or {}
    if power.get("line"):
        st.caption(markdown_plain("Set before the start: " + power["line"]))
    _flow(result.flow)
    _hotspots(result.table)
    _delivery(result.weekly)
    _secondary(result)
    for note in result.notes[1:]:
        st.caption(markdown_plain(note))


def _flow(flow: dict) -> None:
    st.markdown("**Flow of place-days (CONSORT-style)**")
    steps = pd.DataFrame([
        ("Scheduled", flow["place_days"], f"{flow['hotspots']} hotspots x {flow['days']} days"),
        ("Patrol days", flow["patrol_days"], f"{flow['patrol_delivered']:,} delivered (a visit of 10+ min), "
                                             f"{flow['patrol_visited']:,} visited, {flow['patrol_not_visited']:,} not"),
        ("Control days", flow["control_days"], f"{flow['control_contaminated']:,} visited anyway, "
                                               f"{flow['control_washout']:,} washout (left out)"),
    ], columns=["step", "place-days", "of which"])
    st.dataframe(steps, hide_index=True, width="stretch")


def _hotspots(table: pd.DataFrame) -> None:
    st.markdown("**Each hotspot (intention to treat)**")
    shown = table[["hotspot_id", "hotspot_name", "days_patrol", "days_control", "incidents_patrol",
                   "incidents_control", "rate_ratio", "ci_low", "ci_high", "compliance", "contamination"]]
    shown = shown.assign(**{c: shown[c].round(2) for c in ("rate_ratio", "ci_low", "ci_high")},
                         **{c: (shown[c] * 100).round(0) for c in ("compliance", "contamination")})
    st.dataframe(display_table(shown.rename(columns={"compliance": "compliance %", "contamination": "control days "
                                                     "visited %"}), digits=2), hide_index=True, width="stretch")


def _delivery(weekly: pd.DataFrame) -> None:
    st.markdown("**Delivery week by week**")
    if weekly.empty:
        st.caption("No weeks to show.")
        return
    week = weekly.groupby("week_start", as_index=False)[["patrol_days", "delivered", "control_days", "contaminated"]].sum()
    week["delivered share"] = week["delivered"] / week["patrol_days"]
    week["control days visited"] = week["contaminated"] / week["control_days"]
    long = week.melt("week_start", ["delivered share", "control days visited"], "measure", "share")
    long["week_start"] = pd.to_datetime(long["week_start"])
    chart = alt.Chart(alt.Data(name="trial_weeks")).mark_line(point=True).encode(
        x=alt.X("week_start:T", title="week from"), y=alt.Y("share:Q", title="share of days", axis=alt.Axis(format="%")),
        color=alt.Color("measure:N", title=None), tooltip=["week_start:T", "measure:N", alt.Tooltip("share:Q", format=".0%")])
    draw_chart(chart.properties(height=220), {"trial_weeks": long})
    behind = weekly[weekly["behind"]].groupby(["hotspot_id", "hotspot_name"]).size().rename("weeks behind")
    latest = latest_week(weekly)
    now = latest[latest["behind"]]["hotspot_name"].astype(str).tolist()
    st.caption(markdown_plain(f"Behind in the latest full week (under 80% of patrol days delivered): "
                              f"{', '.join(now) if now else 'none'}."))
    if len(behind):
        st.dataframe(behind.sort_values(ascending=False).reset_index().head(10), hide_index=True, width="stretch")


def _secondary(result) -> None:
    with st.expander("Secondary analyses (not the primary comparison)"):
        pooled = result.pooled
        st.markdown(markdown_plain(
            f"Per protocol (days a visit of the target length was delivered against days with none; delivery is "
            f"not random, so this can be biased): rate ratio {_ratio(pooled['pp_rate_ratio'])} "
            f"({_ratio(pooled['pp_ci_low'])} to {_ratio(pooled['pp_ci_high'])}). Harm: ratio "
            f"{_ratio(pooled['harm_ratio'])} ({_ratio(pooled['harm_ci_low'])} to {_ratio(pooled['harm_ci_high'])})."))
        if result.displacement is not None:
            d = result.displacement
            st.markdown(markdown_plain(
                f"Displacement to the buffer (cells within 2 rings) on patrol days: rate ratio {_ratio(d.rate_ratio)} "
                f"({_ratio(d.ci_low)} to {_ratio(d.ci_high)}); above 1 would mean crime moved next door."))
        st.markdown("Residual deterrence: hours from the end of a visit to the next incident in the hotspot, by "
                    "visit length (Koper).")
        st.dataframe(display_table(result.deterrence, digits=1), hide_index=True, width="stretch")
