"""Patrols: dosage in each hotspot against the target, when incidents and patrols happen, patrols
against incidents week by week (with weeks of action), and a suggested plan for the coming week."""
from __future__ import annotations

import streamlit as st

from hotspot_engine.render.text_safety import markdown_plain
from ui.cached import cached_monitor, cached_patrol_report, cached_plan, data_version
from ui.common import page_setup, presentation
from ui.errors import page_errors
from ui.patrols.dosage import draw_dosage, draw_summary, draw_wall_dosage
from ui.patrols.monitor import draw_monitor
from ui.patrols.period import patrol_period
from ui.patrols.plan import draw_downloads, draw_visits, plan_choice
from ui.patrols.target import dosage_target
from ui.patrols.time_grids import choose_focus, draw_street_map, draw_time_grids, hotspot_names
from ui.patrols.trial import draw_trial_schedule
from ui.patrols.weekly import draw_weekly
from ui.sets import current_set, hotspots_ref, set_line, set_ref

filters = page_setup("Patrols")
version = data_version()
big = presentation()

if not filters.date_from or not filters.date_to:
    st.info("The store holds no incidents yet: load incident and patrol files on Data & export.")
    st.stop()

adopted = current_set()
on = set_ref(adopted)
hot = hotspots_ref(adopted)  # the set, or today's hotspots as the Hotspot map numbers them
set_line(adopted)
target = dosage_target(big)
# One window for the set's figures on every page (ui/patrols/period.py), said beside them.
dosed, period_line = patrol_period(adopted, filters, wall=big)
with page_errors("Patrols: dosage", stop=True):
    report = cached_patrol_report(dosed, target, version, hot)
if report.dosage.empty:
    st.info("No hotspots were found for these months and places (as on the Hotspot map, or in the adopted set), so "
            "there is nothing to measure patrols against. Choose other months or a wider area.")
    st.stop()
if report.summary["patrols"] == 0 and big:
    st.caption("No patrols are recorded in the selected months and places.")
elif report.summary["patrols"] == 0:
    st.info("No patrols are recorded in the selected months and places. Load patrol logs or GPS pings on Data & "
            "export; the hotspots, their peak times and a plan are shown below.")

st.caption(markdown_plain(period_line))
draw_summary(report, target, notes=not big)
if big:  # the wall screen: the figures and as many hotspots as fit, no scrolling (issue 27)
    draw_wall_dosage(report)
    st.stop()
draw_dosage(report, target, big)
if on is not None and not big:
    with page_errors("Patrols: monitoring the set"):
        draw_monitor(cached_monitor(on, target, version))

st.subheader("When serious violence happens, and when patrols are there")
names = hotspot_names(report)
focus = choose_focus(names, big)
draw_time_grids(report, focus, big)
draw_street_map(report, focus)
draw_weekly(report, focus, names.label_of[focus], big)

draw_trial_schedule()
st.subheader("Suggested patrol plan")
choice = plan_choice(report, target, big)
with page_errors("Patrols: plan", stop=True):
    # The plan and the briefing on the report shown above: the briefing's figures are the page's.
    plan = cached_plan(dosed, target, version, choice.week_start, choice.seed, choice.extra, hot)
draw_visits(plan)
draw_downloads(plan, report, names, dosed, target, version, choice, hot)
