"""Impact: the change in each hotspot and pooled, corrected for regression to the mean, with the uncorrected
interrupted time series and the plain before/after beside it, placebo runs and displacement."""
from __future__ import annotations

import streamlit as st

from ui.cached import cached_impact, cached_placebo, data_version, extent
from ui.common import page_setup, presentation
from ui.errors import page_errors
from ui.impact.controls import impact_controls
from ui.impact.forest import draw_all_figures, draw_displacement, draw_forest, draw_placebo, draw_pooled
from ui.impact.series import draw_series
from ui.impact.trial import draw_trial
from ui.sets import current_set, set_line, set_ref

filters = page_setup("Impact of hotspot patrols")
version = data_version()
impact_filters = filters.with_(date_from=None, date_to=None)  # from the first stored month

adopted = current_set()
set_line(adopted)
choice = impact_controls(impact_filters, extent(version), version, adopted)
if choice.intervention is None:
    st.info("No patrols are stored, so there is no intervention to evaluate: choose a date at the desk view "
            "(Exit presentation mode)." if presentation() else
            "No patrols are stored, so there is no default intervention date: choose one.")
    st.stop()
impact_filters = impact_filters.with_(date_to=choice.last_month)  # default: the end of the set's year

with page_errors("Impact: models", stop=True):
    result = cached_impact(impact_filters, choice.intervention.isoformat(), choice.model, choice.buffer_k, version,
                           choice.period, set_ref(adopted))

draw_pooled(result, choice.unit, patrols=extent(version).first_patrol is not None, wall=presentation())
if presentation():  # the wall screen: the pooled figures on one screen, the rest at the desk (issue 27)
    st.stop()
draw_forest(result.table)
draw_series(result, choice.unit)
if choice.period == "month" and result.selection_window[0]:
    with page_errors("Impact: placebo runs"):
        draw_placebo(cached_placebo(impact_filters, result.selection_window, choice.model, version))
draw_displacement(result.table)
draw_all_figures(result.table, choice.unit)
with page_errors("Impact: randomised trial"):
    draw_trial(version)
