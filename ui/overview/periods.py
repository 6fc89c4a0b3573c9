"""The Overview's figures when the store holds fewer than two complete financial years: the months
loaded compared as far as they allow (hotspot_engine/analyse/periods.py), said in one line."""
from __future__ import annotations

import streamlit as st

from hotspot_engine.analyse.periods import PeriodFigures
from hotspot_engine.render.text_safety import markdown_plain


def _metric(where, label: str, figures: PeriodFigures, help_text: str) -> None:
    change = figures.change_pct
    delta = None if figures.count_previous is None else (
        f"{figures.count_current - figures.count_previous:+,}" + (f" ({change:+.1f}%)" if change is not None else ""))
    where.metric(label, f"{figures.count_current:,}", delta=delta, delta_color="inverse", help=help_text)


def draw_periods(overall: PeriodFigures | None, inside: PeriodFigures | None, set_name: str | None,
                 chance: str = "") -> None:
    if overall is None:
        st.info("The store holds no incidents yet: load incident files on Data & export.")
        return
    first, last = overall.current
    st.subheader(f"Serious violence, {first} to {last}")
    st.caption(markdown_plain(overall.line) + " The financial-year headline needs two complete financial years "
               "(April to March).")
    cols = st.columns(3)
    _metric(cols[0], "Serious violence", overall, "Places and offences follow the filters; the months are the store's.")
    held = overall.months_held if overall.months_held is not None else len_months(overall)
    cols[1].metric("Per month", f"{overall.per_month:,.1f}",
                   help=f"Mean over the {held} stored month(s) of {first} to {last}; months not in the store "
                        "are no data, not zeros.")
    if inside is not None and set_name is not None:
        _metric(cols[2], "In the adopted set's hotspots", inside,
                f"Incidents inside the cells of the set {set_name}, {inside.current[0]} to {inside.current[1]}.")
        if st.session_state.get("present"):  # the wall screen: the months alone (the rest is on the desk view)
            cols[2].caption(f"Counted over {inside.current[0]} to {inside.current[1]}.")
        else:
            cols[2].caption(markdown_plain(inside.line + (f" {chance}" if chance else "")))


def len_months(figures: PeriodFigures) -> int:
    from hotspot_engine.filters import months_between

    return len(months_between(*figures.current))
