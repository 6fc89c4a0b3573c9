"""Patrols: dosage in each hotspot against the target, when incidents and patrols happen, patrols
against incidents week by week (with weeks of action), and a suggested plan for the coming week."""
from __future__ import annotations

from datetime import date, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from hotspot_engine.analyse.patrols import (
    ALL_HOTSPOTS,
    DAY_NAMES,
    KOPER_SOURCE,
    DosageTarget,
    briefing_pdf,
    mark_actions,
    next_monday,
    parse_actions,
    patrol_report_for_store,
    plan_csv,
    suggest_plan,
)
from hotspot_engine.render.deck import hotspot_street_deck
from ui.common import cursor, data_version, draw_chart, is_synthetic, page_setup, presentation, settings, show_error

filters = page_setup("Patrols")
version = data_version()
big = presentation()
FONT = 20 if big else 13
# Text as well as colour (colour-blind readers; emoji fonts are missing on many police desktops).
STATUS_TEXT = {"green": "GREEN", "amber": "AMBER", "red": "RED"}
STATUS_STYLE = {"GREEN": "background-color:#1a9850;color:white;font-weight:bold",
                "AMBER": "background-color:#fdb863;color:black;font-weight:bold",
                "RED": "background-color:#b2182b;color:white;font-weight:bold"}
TREND_ICON = {"up": "▲ up", "down": "▼ down", "steady": "► steady", "new": "★ new", "none": "– none"}


@st.cache_data(show_spinner="Measuring patrol dosage…", max_entries=16)
def cached_report(filters, target: DosageTarget, version: int):
    s = settings()
    return patrol_report_for_store(cursor(), filters, target, harm_weights=s.harm_weights, exclusions_path=s.exclusions)


@st.cache_data(show_spinner=False, max_entries=32)
def cached_plan(filters, target: DosageTarget, version: int, week_start: date, seed: int, extra: int | None):
    return suggest_plan(cached_report(filters, target, version), week_start=week_start, seed=seed, extra_visits=extra)


@st.cache_data(show_spinner="Drawing the briefing…", max_entries=8)
def cached_briefing(filters, target: DosageTarget, version: int, week_start: date, seed: int, extra: int | None,
                    hotspot_ids: tuple[str, ...], synthetic: bool) -> bytes:
    report = cached_report(filters, target, version)
    plan = cached_plan(filters, target, version, week_start, seed, extra)
    return briefing_pdf(report, plan, hotspot_ids, synthetic=synthetic)


def styled(chart: alt.Chart) -> alt.Chart:
    """Chart text large enough for the back of a meeting room in presentation mode."""
    return chart.configure_axis(labelFontSize=FONT, titleFontSize=FONT + 1).configure_legend(
        labelFontSize=FONT, titleFontSize=FONT).configure_title(fontSize=FONT + 3, anchor="start")


if not filters.date_from or not filters.date_to:
    st.info("The store holds no incidents yet: load incident and patrol files on Data & export.")
    st.stop()

if big:
    target = st.session_state.get("p_target", DosageTarget())
else:
    with st.expander("Dosage target", icon=":material/target:"):
        c1, c2, c3, c4, c5 = st.columns(5)
        visits = c1.number_input("Visits per hotspot", 1, 6, 1, key="p_visits")
        per = c2.selectbox("Per", ["day", "shift"], key="p_per",
                           help="A shift target needs the visits in each of the three shifts (07-15, 15-23, 23-07).")
        band = c3.slider("Visit length (minutes)", 5, 60, (10, 15), key="p_band", help=KOPER_SOURCE + ".")
        days = c4.number_input("Days a week", 1, 7, 7, key="p_days")
        green = c5.slider("Green from (share of required days dosed)", 0.5, 1.0, 0.8, 0.05, key="p_green")
    try:
        target = DosageTarget(visits=int(visits), per=per, min_minutes=band[0], max_minutes=band[1],
                              days_per_week=int(days), green_at=green, amber_at=min(0.5, green))
    except Exception as exc:
        show_error(exc)
        target = DosageTarget()
    st.session_state["p_target"] = target

try:
    report = cached_report(filters, target, version)
except Exception as exc:
    show_error(exc)
    st.stop()

dosage = report.dosage
summary = report.summary
if dosage.empty:
    st.info("No hotspots were found in the 12 months before the selected period, so there is nothing to measure "
            "patrols against. Choose a later first month or a wider area.")
    st.stop()
if summary["patrols"] == 0:
    st.info("No patrols are recorded in the selected months and places. Load patrol logs or GPS pings on Data & "
            "export; the hotspots, their peak times and a plan are shown below.")

c1, c2, c3, c4, c5 = st.columns(5)
c1.metric("Patrols", f"{summary['patrols']:,}", help="Patrol-log entries and GPS visits starting in the period.")
share = summary["share_in_hotspots"]
c2.metric("In the hotspots", f"{summary['patrols_in_hotspots']:,}",
          delta=None if summary["patrols"] == 0 else f"{share:.0%} of patrols", delta_color="off")
c3.metric("Patrol minutes", f"{summary['minutes']:,.0f}")
c4.metric("Hotspots", f"{summary['hotspots']}",
          delta=" · ".join(f"{summary['hotspots_' + c]} {c}" for c in ("green", "amber", "red") if summary["hotspots_" + c]),
          delta_color="off")
c5.metric("Days dosed (mean)", "–" if pd.isna(summary["mean_compliance"]) else f"{summary['mean_compliance']:.0%}",
          help=f"Target: {target.describe()}.")
st.caption(" ".join(report.notes))

# -- dosage table ---------------------------------------------------------------------------------
st.subheader("Dosage by hotspot")
table = pd.DataFrame({
    "Status": dosage["status"].map(STATUS_TEXT),
    "No": dosage["hotspot_rank"].astype(int),
    "Hotspot": dosage["hotspot_name"],
    "Incidents": dosage["incidents"],
    "Harm": dosage["harm"].round(0),
    "Patrols": dosage["patrols"],
    "Minutes": dosage["minutes"].round(0),
    "Mean min": dosage["mean_minutes"].round(1),
    "Days patrolled": dosage["patrolled_days"],
    "Days dosed": dosage["compliance"],
    "Trend": [f"{TREND_ICON[t]}" + ("" if pd.isna(p) else f" {p:+.0f}%") for t, p in zip(dosage["trend"], dosage["trend_pct"])],
    "Last 4 wks": dosage["patrols_last_4w"],
})
st.dataframe(
    table.style.map(lambda v: STATUS_STYLE.get(v, ""), subset=["Status"]), hide_index=True, width="stretch",
    height=(48 if big else 35) * (len(table) + 1) + 3,  # every hotspot in view: presentation rows are taller
    column_config={
        "Days dosed": st.column_config.ProgressColumn(
            "Days dosed", format="percent", min_value=0.0, max_value=1.0,
            help=f"Share of days with the target dose ({target.describe()})."),
        "Harm": st.column_config.NumberColumn(format="%d", help="Crime-harm days (editable weights)."),
        "Hotspot": st.column_config.TextColumn(width="large"),
        "Minutes": st.column_config.NumberColumn(format="%d"),
        "Mean min": st.column_config.NumberColumn(format="%.1f", help="Mean minutes per visit."),
        "Trend": st.column_config.TextColumn(help="Patrols in the last 4 weeks of the period against the 4 weeks before."),
        "Status": st.column_config.TextColumn(help=f"Green from {target.green_at:.0%} of days dosed, amber from "
                                                   f"{target.amber_at:.0%}, red below."),
    })
st.caption(f"{summary['patrols_in_hotspots']:,} of {summary['patrols']:,} patrols fell inside these {len(dosage)} hotspots "
           f"({summary['hotspot_cells']} cells); {summary['patrols_outside']:,} outside. Sources: "
           + ", ".join(f"{k} {v:,}" for k, v in summary["by_source"].items()) + ".")

# -- when: the two time grids ---------------------------------------------------------------------
st.subheader("When serious violence happens, and when patrols are there")
names = dict(zip(dosage["hotspot_id"], dosage["hotspot_rank"].astype(int).astype(str) + ". " + dosage["hotspot_name"]))
names = {ALL_HOTSPOTS: "All hotspots", **names}
# Labels as options (not ids with a format_func): the choice survives in the session and in AppTest.
id_of = {label: hotspot_id for hotspot_id, label in names.items()}
focus_label = st.selectbox("Hotspot", list(id_of), key="p_focus") if not big else \
    st.session_state.get("p_focus", names[ALL_HOTSPOTS])
focus = id_of.get(focus_label, ALL_HOTSPOTS)
grid = report.grid[report.grid["hotspot_id"] == focus]


# Heights are the whole chart's (title, axes and legend included): the cells get what is left.
grid_height = 540 if big else 400


def heatmap(column: str, title: str, scheme: str, legend: str) -> alt.Chart:
    return alt.Chart(alt.Data(name="grid"), title=title).mark_rect(stroke="white", strokeWidth=0.5).encode(
        x=alt.X("hour:O", title="Hour of day", axis=alt.Axis(labelAngle=0, values=list(range(0, 24, 3)))),
        y=alt.Y("day:N", sort=list(DAY_NAMES), title=None, axis=alt.Axis(labelOverlap=False)),
        color=alt.Color(f"{column}:Q", scale=alt.Scale(scheme=scheme), title=legend,
                        legend=alt.Legend(orient="bottom", gradientLength=220 if big else 160)),
        tooltip=[alt.Tooltip("day:N", title="Day"), alt.Tooltip("hour:O", title="Hour"),
                 alt.Tooltip(f"{column}:Q", title=legend, format=",.0f")],
    ).properties(height=grid_height)


# Only grids that have something in them: police.uk records carry a month, not a time, and a
# hotspot without patrols has no patrol minutes (an empty grid would read as "never").
shown = []
if report.has_times:
    shown.append(("incidents", "Incidents", "blues", "incidents"))
if grid["patrol_minutes"].sum() > 0:
    shown.append(("patrol_minutes", "Patrol minutes", "viridis", "minutes"))
if not report.has_times:
    st.caption("No incident grid: the records give a month only (police.uk), not a day or time of day.")
if grid["patrol_minutes"].sum() == 0:
    st.caption("No patrol grid: no patrol is recorded in " + ("these hotspots" if focus == ALL_HOTSPOTS else "this hotspot")
               + " in the period.")
if shown:
    for (column, title, scheme, legend), where in zip(shown, st.columns(len(shown))):
        draw_chart(styled(heatmap(column, title, scheme, legend)), {"grid": grid}, where, width="stretch")
    with st.expander("Tables of the grids (text alternative)"):
        for (column, title, _, _), where in zip(shown, st.columns(len(shown))):
            pivot = grid.pivot(index="day", columns="hour", values=column).reindex(list(DAY_NAMES)).round(0).astype(int)
            where.caption(title + " by day (rows) and hour (columns)")
            where.dataframe(pivot, width="stretch")
    if report.has_times:
        st.caption(report.times_note())

if focus != ALL_HOTSPOTS:
    mine = report.cells[report.cells["hotspot_id"] == focus]
    lines = None if report.street_lines is None else report.street_lines[report.street_lines["hotspot_id"] == focus]
    st.pydeck_chart(hotspot_street_deck(mine, lines if lines is not None and len(lines) else None), height=420,
                    width="stretch", key="p_street_map")
    st.caption("Hotspot outline over the loaded street layer (drawn offline)." if lines is not None and len(lines)
               else "No street layer loaded: load one on Data & export (OS Open Roads or an OpenStreetMap extract) "
                    "to see street lines and names here and on the briefing.")

# -- weekly series with weeks of action -----------------------------------------------------------
st.subheader("Patrols against incidents, week by week")
actions = st.session_state.setdefault("p_actions", [])
if not big:
    with st.expander("Weeks of action (e.g. Op Sceptre)", icon=":material/flag:"):
        with st.form("p_action_form", clear_on_submit=True, border=False):
            a1, a2, a3, a4 = st.columns([1, 1, 2, 1], vertical_alignment="bottom")
            start = a1.date_input("From", value=report.period[0], min_value=report.period[0], max_value=report.period[1])
            end = a2.date_input("To", value=report.period[0] + timedelta(days=6), min_value=report.period[0],
                                max_value=report.period[1])
            label = a3.text_input("Label", value="Op Sceptre week of action", max_chars=60)
            if a4.form_submit_button("Add period"):
                try:
                    parse_actions([(start, end, label)])
                    actions.append((start, end, label))
                except Exception as exc:
                    show_error(exc)
        if actions:
            st.dataframe(parse_actions(actions), hide_index=True)
            if st.button("Clear the periods"):
                actions.clear()
                st.rerun()
action_frame = parse_actions(actions)
weekly = report.weekly[report.weekly["hotspot_id"] == focus].copy()
weekly["action"] = mark_actions(weekly["week"], action_frame)
full_weeks = weekly[weekly["days"] == 7]  # a partial first or last week would look like a drop
# A series is drawn only where it has data: month-only incidents have no week, and no patrols is no line.
series = [c for c, has in (("patrols", full_weeks["patrols"].sum() > 0),
                           ("incidents", report.has_times and full_weeks["incidents"].sum() > 0)) if has]
if not report.has_times:
    st.caption("No weekly incident line: the records give a month only, so incidents cannot be put in a week.")
if "patrols" not in series:
    st.caption("No weekly patrol line: no patrol is recorded in the period.")
long = full_weeks.melt(id_vars=["week"], value_vars=series or ["patrols"], var_name="series", value_name="per week")
lines = alt.Chart(alt.Data(name="weekly")).mark_line(strokeWidth=3 if big else 2, point=alt.OverlayMarkDef(size=20)).encode(
    x=alt.X("week:T", title="Week starting"),
    y=alt.Y("per week:Q", title="Per week"),
    color=alt.Color("series:N", scale=alt.Scale(domain=["patrols", "incidents"], range=["#0072B2", "#D55E00"]),
                    title=None, legend=alt.Legend(orient="top")),
    strokeDash=alt.StrokeDash("series:N", scale=alt.Scale(domain=["patrols", "incidents"], range=[[1, 0], [6, 3]]),
                              legend=None),
    tooltip=[alt.Tooltip("week:T", title="Week starting"), alt.Tooltip("series:N"), alt.Tooltip("per week:Q")],
)
layers, datasets = [lines], {"weekly": long}
if not action_frame.empty:
    bands = action_frame.assign(start=pd.to_datetime(action_frame["start"]),
                                end=pd.to_datetime(action_frame["end"]) + pd.Timedelta(days=1))
    datasets["actions"] = bands
    actions_chart = alt.Chart(alt.Data(name="actions"))
    layers.insert(0, actions_chart.mark_rect(color="#F0E442", opacity=0.45).encode(
        x=alt.X("start:T"), x2=alt.X2("end:T"),
        tooltip=[alt.Tooltip("label:N", title="Week of action"), alt.Tooltip("start:T"), alt.Tooltip("end:T")]))
    layers.append(actions_chart.mark_text(align="left", baseline="top", dx=3, dy=3, fontSize=FONT - 2, color="#333333")
                  .encode(x=alt.X("start:T"), y=alt.YValue(0), text=alt.Text("label:N")))
if series:
    draw_chart(styled(alt.layer(*layers).properties(height=480 if big else 400, title=names[focus])), datasets,
               width="stretch")
partial = len(weekly) - len(full_weeks)
if partial:
    st.caption(f"Weeks start on Monday; {partial} partial week(s) at the ends of the period are in the table, not the chart.")
with st.expander("Table of the chart (text alternative)"):
    st.dataframe(weekly[["week", "days", "patrols", "minutes", "incidents", "harm", "action"]], hide_index=True,
                 width="stretch")

# -- the plan --------------------------------------------------------------------------------------
st.subheader("Suggested patrol plan")
default_week = next_monday(report.period[1])
if big:
    week_start, seed, extra = (st.session_state.get("p_week", default_week), int(st.session_state.get("p_seed", 1)),
                               st.session_state.get("p_extra_value"))
else:
    p1, p2, p3 = st.columns(3)
    week_start = p1.date_input("Week starting (Monday)", value=default_week, key="p_week",
                               help="Any date: the plan covers the 7 days from it.")
    seed = int(p2.number_input("Seed", 0, 999_999, 1, key="p_seed",
                               help="The same seed gives the same plan; a new seed reshuffles the times within "
                                    "the windows (unpredictability is part of the tactic)."))
    base = len(dosage) * target.days_per_week * target.visits_per_day
    extra = int(p3.number_input("Extra visits beyond the target", 0, 5 * base, (base + 1) // 2, key="p_extra",
                                help="Shared by recent harm (last 13 weeks) and under-dosage (last 4 weeks)."))
    st.session_state["p_extra_value"] = extra
try:
    plan = cached_plan(filters, target, version, week_start, seed, extra)
except Exception as exc:
    show_error(exc)
    st.stop()
st.caption(" ".join(plan.notes) + (" The start is drawn at random inside each window." if plan.has_times else ""))
visits = plan.visits
per_day = visits.assign(day=pd.to_datetime(visits["date"]).dt.strftime("%a %d")).pivot_table(
    index="hotspot_name", columns="day", values="minutes", aggfunc="size", fill_value=0, sort=False)
if plan.has_times:
    # The day shown is the start's own: a 00:16 start in a 23:00-01:00 window belongs to the next day.
    starts = pd.to_datetime(visits["suggested_start"])
    show = visits.assign(
        date=starts.dt.strftime("%a %d %b"),
        window=pd.to_datetime(visits["window_start"]).dt.strftime("%a %H:%M") + "–"
        + pd.to_datetime(visits["window_end"]).dt.strftime("%H:%M"),
        start=starts.dt.strftime("%H:%M"),
    )[["date", "window", "start", "hotspot_name", "minutes", "reason"]]
else:
    show = visits.assign(date=pd.to_datetime(visits["date"]).dt.strftime("%a %d %b"), window="team to set",
                         start="team to set")[["date", "window", "start", "hotspot_name", "minutes", "reason"]]
tab1, tab2 = st.tabs(["Visits", "Visits per hotspot and day"])
tab1.dataframe(show, hide_index=True, width="stretch", height=420,
               column_config={"date": "Date", "window": "Window", "hotspot_name": "Hotspot", "start": "Suggested start",
                              "minutes": "Minutes", "reason": st.column_config.TextColumn("Why", width="large")})
tab2.dataframe(per_day, width="stretch")
d1, d2, d3 = st.columns([1, 1.4, 1], vertical_alignment="bottom")
d1.download_button("Plan as CSV", plan_csv(plan), file_name=f"patrol-plan-{week_start}-seed{seed}.csv",
                   mime="text/csv", icon=":material/download:")
every = f"every hotspot ({len(dosage)} pages)"
brief_label = d2.selectbox("Briefing for", [every] + [names[h] for h in dosage["hotspot_id"]], key="p_brief_for")
brief_for = ALL_HOTSPOTS if brief_label == every else id_of[brief_label]
briefing_key = (filters, target, version, week_start, seed, extra, brief_for)
if d3.button("Prepare the briefing (PDF)", icon=":material/print:"):
    ids = tuple(dosage["hotspot_id"]) if brief_for == ALL_HOTSPOTS else (brief_for,)
    try:
        pdf = cached_briefing(filters, target, version, week_start, seed, extra, ids, is_synthetic())
        st.session_state["p_briefing"] = (briefing_key, ids, pdf)
    except Exception as exc:
        show_error(exc)
stored = st.session_state.get("p_briefing")
if stored and stored[0] == briefing_key:  # a briefing made for another plan is not offered
    _, ids, pdf = stored
    st.download_button(f"Download the briefing ({len(ids)} page{'s' if len(ids) > 1 else ''})", pdf,
                       file_name=f"patrol-briefing-{week_start}.pdf", mime="application/pdf", icon=":material/download:")
