"""The dosage summary: five figures, then the dosage table by hotspot with status in text as well
as colour (colour-blind readers; emoji fonts are missing on many police desktops)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from hotspot_engine.analyse.patrols import DosageTarget, PatrolReport
from hotspot_engine.render.text_safety import markdown_plain
from ui.wall import draw_wall_table

STATUS_TEXT = {"green": "GREEN", "amber": "AMBER", "red": "RED", "no patrol data": "no patrol data"}
STATUS_STYLE = {"GREEN": "background-color:#1a9850;color:white;font-weight:bold",
                "AMBER": "background-color:#fdb863;color:black;font-weight:bold",
                "RED": "background-color:#b2182b;color:white;font-weight:bold"}
TREND_ICON = {"up": "▲ up", "down": "▼ down", "steady": "► steady", "new": "★ new", "none": "– none"}


def draw_summary(report: PatrolReport, target: DosageTarget, notes: bool = True) -> None:
    """The five figures, and the notes on the period and target under them unless ``notes`` is False
    (the wall screen, where four lines of notes would push the table off the screen)."""
    summary = report.summary
    c1, c2, c3, c4, c5 = st.columns(5)
    c1.metric("Patrols", f"{summary['patrols']:,}", help="Patrol-log entries and GPS visits starting in the period.")
    share = summary["share_in_hotspots"]
    c2.metric("In the hotspots", f"{summary['patrols_in_hotspots']:,}",
              delta=None if summary["patrols"] == 0 else f"{share:.0%} of patrols", delta_color="off",
              delta_arrow="off")
    c3.metric("Patrol minutes", f"{summary['minutes']:,.0f}")
    c4.metric("Hotspots", f"{summary['hotspots']}",
              delta="no patrol data" if summary.get("no_patrol_data") else
              " · ".join(f"{summary['hotspots_' + c]} {c}" for c in ("green", "amber", "red") if summary["hotspots_" + c]),
              delta_color="off", delta_arrow="off")
    c5.metric("Days dosed (mean)", "–" if pd.isna(summary["mean_compliance"]) else f"{summary['mean_compliance']:.0%}",
              help=f"Target: {target.describe()}.")
    if notes:
        st.caption(markdown_plain(" ".join(report.notes)))


def dosage_table(dosage: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Status": dosage["status"].map(STATUS_TEXT),
        "No": dosage["hotspot_rank"].astype(int),
        "Id": dosage["hotspot_id"],
        "Hotspot": dosage["hotspot_name"],
        "Incidents": dosage["incidents"],
        "Harm": dosage["harm"].round(0),
        "Patrols": dosage["patrols"],
        "Minutes": dosage["minutes"].round(0),
        # Text: a hotspot with no visit has no mean, and a blank number cell would read "None".
        "Mean min": [f"{m:.1f}" if pd.notna(m) else "no visits" for m in dosage["mean_minutes"]],
        "Days patrolled": dosage["patrolled_days"],
        "Days dosed": (dosage["compliance"] * 100).round(0),
        "Trend": [f"{TREND_ICON[t]}" + ("" if pd.isna(p) else f" {p:+.0f}%") for t, p in zip(dosage["trend"], dosage["trend_pct"])],
        "Last 4 wks": dosage["patrols_last_4w"],
    })


#: The columns that measure patrols: left out when the store holds none (missing data, not zeros).
PATROL_COLUMNS = ["Patrols", "Minutes", "Mean min", "Days patrolled", "Days dosed", "Trend", "Last 4 wks"]


def draw_dosage(report: PatrolReport, target: DosageTarget, big: bool) -> None:
    st.subheader("Dosage by hotspot")
    dosage, summary = report.dosage, report.summary
    table = dosage_table(dosage)
    if summary.get("no_patrol_data"):
        table = table.drop(columns=PATROL_COLUMNS)
    _draw_grid(table, target, big)  # the wall screen draws draw_wall_dosage instead (ui/wall.py)
    if summary["patrols"]:
        st.caption(f"{summary['patrols_in_hotspots']:,} of {summary['patrols']:,} patrols fell inside these {len(dosage)} "
                   f"hotspots ({summary['hotspot_cells']} cells) by their position; {summary['patrols_outside']:,} "
                   "outside. Sources: " + ", ".join(f"{k} {v:,}" for k, v in summary["by_source"].items()) + ".")


#: The wall screen's dosage columns: what a meeting reads (the desk view has all of them).
WALL_COLUMNS = ["Status", "No", "Hotspot", "Incidents", "Patrols", "Days dosed", "Trend"]


def draw_wall_dosage(report: PatrolReport) -> None:
    """Presentation mode: the hotspots in map order, as many as fit the screen (ui/wall.py)."""
    table = dosage_table(report.dosage)
    if report.summary.get("no_patrol_data"):
        table = table.drop(columns=PATROL_COLUMNS)
    else:
        table = table.assign(**{"Days dosed": table["Days dosed"].map(lambda v: f"{v:.0f}%")})
    table = table[[c for c in WALL_COLUMNS if c in table.columns]]
    draw_wall_table(table, "patrols", "hotspots", lambda shown: shown.style.map(
        lambda v: STATUS_STYLE.get(v, ""), subset=["Status"]).hide(axis="index").format(precision=0, thousands=","))


def _draw_grid(table: pd.DataFrame, target: DosageTarget, big: bool) -> None:
    st.dataframe(
        table.style.map(lambda v: STATUS_STYLE.get(v, ""), subset=["Status"]), hide_index=True, width="stretch",
        height=(48 if big else 35) * (len(table) + 1) + 3,  # every hotspot in view: presentation rows are taller
        column_config={
            "Days dosed": None if "Days dosed" not in table.columns else st.column_config.ProgressColumn(
                "Days dosed", format="%d%%", min_value=0, max_value=100,
                help=f"Share of the required days with the target dose ({target.describe()})."),
            "Harm": st.column_config.NumberColumn(format="%d", help="Crime-harm days (editable weights)."),
            "Hotspot": st.column_config.TextColumn(width="large"),
            "Minutes": st.column_config.NumberColumn(format="%d"),
            "Mean min": st.column_config.TextColumn(help="Mean minutes per visit."),
            "Trend": st.column_config.TextColumn(help="Patrols in the last 4 weeks of the period against the 4 weeks before."),
            "Status": st.column_config.TextColumn(help=f"Green from {target.green_at:.0%} of days dosed, amber from "
                                                       f"{target.amber_at:.0%}, red below."),
        })
