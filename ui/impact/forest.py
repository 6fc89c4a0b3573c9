"""The pooled figures, led by the estimate corrected for regression to the mean, the paragraph that
explains it beside them, and the forest plot of each hotspot's corrected change with its 95% interval."""
from __future__ import annotations

import math

import altair as alt
import pandas as pd
import streamlit as st

from hotspot_engine.render.text_safety import markdown_plain
from hotspot_engine.service.analyses import CHOSEN_AFTER, GAP_NOTE
from ui.common import OKABE_ITO, display_table, draw_chart

RTM_PARAGRAPH = (
    "**Regression to the mean.** Hotspots are chosen because they had a bad year ({window}). Places picked "
    "for a high year fall back the next year even when nothing is done, so a plain before/after (and a "
    "time series whose trend runs through that high year) counts part of that fall as an effect. The "
    "corrected estimate leaves the months the hotspots were chosen on out of the baseline and compares each "
    "hotspot with the rest of its community safety partnership, which carries the area's trend and season; "
    "its interval allows for the year-to-year ups and downs of single places ({variation}). The placebo runs "
    "below repeat the analysis at earlier dates where nothing happened: they should be about zero.")


def pct(value: float) -> str | None:
    """'+1.2%' or None when the figure is missing (never 'nan%')."""
    return f"{value:+.1f}%" if isinstance(value, (int, float)) and math.isfinite(value) else None


def interval(low: float, high: float) -> str | None:
    a, b = pct(low), pct(high)
    return f"{a} to {b}" if a and b else None


def reason(row: pd.Series) -> str:
    """The one-line reason a pooled figure is missing."""
    text = str(row.get("message", "") or "").split("; ")[0].removeprefix("corrected estimate: ")
    return text or "too little data either side of the intervention"


def strength_line(row: pd.Series) -> str:
    """What the corrected estimate can and cannot tell: never "no effect" from an interval that
    includes zero, but the smallest fall the data would detect (80% power, 5% two-sided)."""
    mde = row.get("corrected_mde_pct", float("nan"))
    if not (isinstance(mde, float) and math.isfinite(mde)):
        return ""
    if row["corrected_p_value"] >= 0.05:
        return (f"Within chance: these data cannot tell a fall of {mde:.0f}% from none. That is the smallest fall "
                "they would detect 8 times in 10 (5% two-sided test); a smaller true effect may be there.")
    return f"Beyond chance. The smallest fall these data would detect 8 times in 10 is {mde:.0f}%."


def pretrend_line(row: pd.Series) -> str:
    """The parallel-trends check: the hotspots' baseline trend beside their comparison's."""
    span = interval(row.get("pretrend_low_pct", float("nan")), row.get("pretrend_high_pct", float("nan")))
    if span is None:
        return f"Parallel-trends check: not possible ({row.get('pretrend_note') or 'too short a baseline'})."
    verdict = ("consistent with parallel trends" if row["pretrend_low_pct"] <= 0 <= row["pretrend_high_pct"] else
               "the hotspots were already drifting from their comparison, so the corrected figure is doubtful")
    return (f"Parallel-trends check (baseline, before the selection window): hotspot trend minus comparison trend "
            f"{pct(row['pretrend_pct'])} a year (95% interval {span}): {verdict}.")


def _small_figures(row: pd.Series, unit: str) -> pd.DataFrame:
    window = int(row["simple_window"]) if row["simple_window"] == row["simple_window"] else 0
    return pd.DataFrame({
        "figure": ["Corrected for regression to the mean (lead with this)", "Uncorrected ITS",
                   f"Plain before/after ({window} {unit}s after against {window} before)"],
        "change": [pct(row["corrected_change_pct"]), pct(row["its_change_pct"]), pct(row["simple_change_pct"])],
        "95% interval": [interval(row["corrected_ci_low_pct"], row["corrected_ci_high_pct"]),
                         interval(row["ci_low_pct"], row["ci_high_pct"]), "none (no allowance for chance)"],
    }).fillna("not estimable")


RTM_SHORT = ("**Regression to the mean.** Hotspots are chosen for a bad year ({window}), and places picked for a "
             "high year fall back even when nothing is done: the corrected figure leaves that year out and "
             "compares each hotspot with the rest of its community safety partnership.")

#: The wall screen's closing line: what the meeting does not see on one screen.
WALL_REST = ("Each hotspot's estimate, the time series, the placebo runs and displacement are on the desk view "
             "(Exit presentation mode).")


def draw_pooled(result, unit: str, patrols: bool = True, wall: bool = False) -> None:
    """``patrols``: whether the store holds patrols; without them no figure is shown in large type,
    since a change at a chosen date is not the effect of patrols that never ran. ``wall`` (presentation
    mode): the figures, the strength and trend checks and a short reason, on one screen (issue 27)."""
    table = result.table
    pooled = table[table["hotspot_id"] == "pooled"].iloc[0]
    for note in result.notes:  # hotspots chosen on months after the intervention: no figure below is fair
        if note.startswith(CHOSEN_AFTER):
            st.warning(markdown_plain(note), icon=":material/warning:")
    figures, words = st.columns([3, 2])
    with figures:
        corrected = pct(pooled["corrected_change_pct"])
        if patrols:
            m1, m2 = st.columns(2)
            m1.metric("Effect, corrected for regression to the mean", corrected or "not estimable",
                      help="Random-effects pool of each hotspot's change against the rest of its CSP, with the months "
                           "the hotspots were chosen on left out of the baseline. Lead with this figure.")
            m2.metric("95% interval (corrected)",
                      interval(pooled["corrected_ci_low_pct"], pooled["corrected_ci_high_pct"]) or "not estimable")
        else:
            st.info("No patrols are stored, so nothing here is the effect of patrols: these are changes in the "
                    "hotspots at the date you chose.")
        if wall:  # an HTML table, which presentation type enlarges
            st.table(_small_figures(pooled, unit).style.hide(axis="index"))
        else:
            st.dataframe(_small_figures(pooled, unit), hide_index=True, width="stretch")
        if corrected is None:
            st.warning(f"No corrected estimate: {reason(pooled)}.")
        else:
            st.caption(strength_line(pooled))
            st.caption(pretrend_line(pooled))
    with words:
        window = " to ".join(result.selection_window) if result.selection_window[0] else "the year before"
        if result.selection_assumed:
            window += ", assumed"
        if wall:
            st.markdown(RTM_SHORT.format(window=window))
            st.caption(WALL_REST)
            return
        st.markdown(RTM_PARAGRAPH.format(window=window, variation=result.place_variance.source))
    from hotspot_engine.analyse.impact import OWN_MONTHS_NOTE

    # The series left unstored months out; hotspots of forces holding different months used their own.
    gaps = [note for note in result.notes if note.startswith((GAP_NOTE, OWN_MONTHS_NOTE))]
    st.caption(markdown_plain(" ".join([result.aggregate_corrected.description or result.description, *gaps])))


def draw_forest(table: pd.DataFrame) -> None:
    st.subheader("Corrected effect in each hotspot")
    forest = table[table["corrected_change_pct"].notna()].copy()
    if forest.empty:
        st.info("No hotspot has a corrected estimate: see the reason above.")
        return
    forest["label"] = forest["hotspot_name"].fillna(forest["hotspot_id"])
    if "hotspot_number" in forest.columns:  # an adopted set: the map's numbers beside the names
        number = forest["hotspot_number"]
        forest["label"] = [f"{int(n)}. {t}" if pd.notna(n) else t for n, t in zip(number, forest["label"])]
    forest["kind"] = forest["hotspot_id"].eq("pooled").map({True: "Pooled", False: "Hotspot"})
    base = alt.Chart(alt.Data(name="forest")).encode(
        y=alt.Y("label:N", sort=list(forest["label"]), title=None, axis=alt.Axis(labelLimit=360)))
    # One tiny hotspot's interval can reach +800%: the axis stops at +200% and such lines run off it.
    domain = [max(-100.0, min(-50.0, float(forest["corrected_ci_low_pct"].min()))),
              min(200.0, max(50.0, float(forest["corrected_ci_high_pct"].max())))]
    bars = base.mark_rule(strokeWidth=2, clip=True).encode(
        x=alt.X("corrected_ci_low_pct:Q", title="Change % (95% interval)", scale=alt.Scale(domain=domain)),
        x2=alt.X2("corrected_ci_high_pct:Q"))
    points = base.mark_point(filled=True, size=90).encode(
        x=alt.X("corrected_change_pct:Q"),
        shape=alt.Shape("kind:N", scale=alt.Scale(range=["circle", "diamond"]), title=None),
        color=alt.Color("kind:N", scale=alt.Scale(range=[OKABE_ITO[4], OKABE_ITO[5]]), title=None),
        tooltip=[alt.Tooltip("label:N"), alt.Tooltip("corrected_change_pct:Q", format="+.1f"),
                 alt.Tooltip("corrected_ci_low_pct:Q", format="+.1f"),
                 alt.Tooltip("corrected_ci_high_pct:Q", format="+.1f"), alt.Tooltip("corrected_p_value:Q", format=".3f"),
                 alt.Tooltip("corrected_mde_pct:Q", format=".0f", title="smallest detectable fall %"),
                 alt.Tooltip("pretrend_pct:Q", format="+.1f", title="baseline trend vs comparison, % a year")])
    zero = alt.Chart(alt.Data(name="zero")).mark_rule(strokeDash=[4, 4], color="#555").encode(x=alt.X("x:Q"))
    draw_chart((bars + points + zero).properties(height=28 * len(forest) + 40),
               {"forest": forest, "zero": pd.DataFrame({"x": [0]})}, width="stretch")
    st.caption("Each line is one hotspot's change after the intervention, corrected for regression to the mean, "
               "with its 95% interval; the diamond pools them. Single hotspots vary a lot from year to year, so "
               "their intervals are wide; lines that cross the dashed zero line are consistent with no change.")


def draw_placebo(runs: list) -> None:
    st.subheader("Placebo runs: the same analysis where nothing happened")
    if not runs:
        st.info("No placebo run: it needs a year to choose hotspots on and a year of baseline before it, before the "
                "real hotspots' selection window (at least three years of data before it).")
        return
    frame = pd.DataFrame([{
        "pseudo intervention": run.pseudo_date, "hotspots chosen on": run.selection_window, "hotspots": run.hotspots,
        "corrected": pct(run.corrected_pct) or "not estimable",
        "95% interval": interval(run.corrected_low, run.corrected_high) or (run.message or "not estimable"),
        "uncorrected ITS": pct(run.uncorrected_pct) or "not estimable",
        "plain before/after": pct(run.simple_pct) or "not estimable"} for run in runs])
    st.dataframe(frame, hide_index=True, width="stretch")
    st.caption("Hotspots chosen by the same rule on the year before each earlier date, with no patrols after it: the "
               "corrected interval should include zero. An uncorrected figure far from zero here is regression to the "
               "mean at work.")


def _tne_cell(tne: float, low: float, high: float, reading: str) -> str:
    """The Total Net Effect only where it may be read (gated like the WDQ); otherwise why not."""
    if not (math.isfinite(tne) and math.isfinite(low)):
        return reading or "not estimable"
    span = f"{low:+.0f} to {high:+.0f}"
    return f"{tne:+.0f} fewer ({span})" if not reading else f"{reading} ({span})"


def wdq_cells(table: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The WDQ and its interval as shown: the quotient only where its interval exists (the hotspot's
    fall relative to the control beyond chance). On the real Hampshire months, with no hotspot's fall
    beyond chance, the column read +62.40 and +14.81 beside "No reading": bare quotients of a near-zero
    success measure, which issue 17 measured reading "diffusion" by chance a third of the time."""
    values, spans = [], []
    for w, a, b in zip(table["wdq"], table["wdq_low"], table["wdq_high"]):
        read = math.isfinite(w) and math.isfinite(a) and math.isfinite(b)
        values.append(f"{w:+.2f}" if read else "not read" if math.isfinite(w) else "undefined")
        spans.append(f"{a:+.2f} to {b:+.2f}" if read else "none: within chance" if math.isfinite(w) else "undefined")
    return values, spans


def draw_displacement(table: pd.DataFrame) -> None:
    st.subheader("Displacement and Total Net Effect")
    values, spans = wdq_cells(table)
    shown = pd.DataFrame({
        "hotspot": table["hotspot_name"].fillna(table["hotspot_id"]),
        "WDQ": values,
        "WDQ 95% interval": spans,
        "Total Net Effect (incidents, 95% interval)": [
            _tne_cell(t, a, b, r) for t, a, b, r in zip(table["tne"], table["tne_low"], table["tne_high"],
                                                        table["tne_reading"])],
        "reading": [r or n for r, n in zip(table["wdq_reading"], table["wdq_note"])],
    })
    st.dataframe(shown, hide_index=True, width="stretch")
    st.caption("Weighted Displacement Quotient (Bowers & Johnson 2003) over the plain before/after windows, with 95% "
               "intervals from Poisson redraws, given (with its interval) only when the hotspot's fall relative to the "
               "control is beyond chance; the All figures table keeps every computed quotient. Total Net Effect (Guerette & Bowers 2009): incidents fewer than expected in the hotspot and "
               "its buffer together over the whole after-period, from the corrected model (the rest of the CSP, "
               "selection months left out), read only when the corrected effect and its own interval are beyond "
               "chance. WDQ > 1: the buffer improved more than the hotspot.")


def draw_all_figures(table: pd.DataFrame, unit: str) -> None:
    st.subheader("All figures")
    st.caption("The table behind the charts above (their text alternative). corrected_* lead; its_change_pct is the "
               "uncorrected ITS and simple_change_pct the plain before/after.")
    if unit == "week":
        st.caption("Weekly analysis: the columns named months_pre, months_post and simple_window count weeks.")
    st.dataframe(display_table(table), hide_index=True, width="stretch")
