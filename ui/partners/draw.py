"""Drawing for the Partner data page: layer switches, the map, the funnel plot and the tables.
Frames in, Streamlit elements out; no SQL and no statistics here."""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from hotspot_engine.render.deck import fitted_force_view
from hotspot_engine.render.partner_deck import FLAG_COLOURS, build_partner_deck
from hotspot_engine.render.text_safety import markdown_plain
from ui.cached import window_label
from ui.common import draw_chart, legend_html
from ui.viewport import map_fit, measure_screen

KIND_LABELS = {"areas": "counts per LSOA", "events": "dated events", "places": "places"}
SHARING_HELP = {"open": "shown exactly everywhere",
                "partnership": "shown exactly on screen; small counts suppressed in partner-safe exports",
                "restricted": "small counts hidden and the rest rounded, on screen and in partner-safe exports"}


_KEPT_LAYERS = "_partner_layers_kept"
_KEPT_SOURCE = "_partner_source_kept"

def layer_table(layers: pd.DataFrame) -> None:
    shown = layers.assign(kind=layers["kind"].map(KIND_LABELS),
                          months=np.where(layers["first"] != "", layers["first"] + " to " + layers["last"], "—"),
                          handling=layers["sharing"].map(SHARING_HELP))
    st.dataframe(shown[["source", "kind", "owner", "sharing", "handling", "rows", "months"]], hide_index=True,
                 width="stretch", column_config={"source": "Layer", "kind": "Kind", "owner": "Owner", "sharing": "Sharing",
                                                 "handling": "Small counts", "months": "Months",
                                                 "rows": st.column_config.NumberColumn(
                                                     "Rows", format="%d", help="Restricted layers: rounded, and "
                                                     "blank below the partner-safe threshold, like their counts")})


def layer_switches(layers: pd.DataFrame, present: bool = False) -> tuple[bool, list[dict]]:
    """(shade LSOAs by the funnel?, point layers switched on) from toggles, one per layer. The wall
    screen draws no toggles (issue 27: controls hidden) and keeps what was last chosen at the desk:
    Streamlit forgets a widget's value once it is not drawn, so the choice is kept under its own key."""
    drawable = layers[layers["kind"] != "areas"].sort_values("kind", ascending=False).to_dict("records")
    if present:
        shade, sources = st.session_state.get(_KEPT_LAYERS, (True, [layer["source"] for layer in drawable]))
        return shade, [layer for layer in drawable if layer["source"] in sources]
    st.markdown("**Map layers**")
    shade = st.toggle("LSOAs higher or lower than police data suggests", value=True, key="p_shade")
    chosen = []
    # Places first, so events (fewer, and the ones that move) are drawn on top of them.
    for layer in drawable:
        if st.toggle(f"{markdown_plain(layer['source'])} ({KIND_LABELS[layer['kind']]})", value=True, key=f"p_layer_{layer['source']}"):
            chosen.append(layer)
    st.session_state[_KEPT_LAYERS] = (shade, [layer["source"] for layer in chosen])
    return shade, chosen


def compared_source(countable: list[str], present: bool = False) -> str | None:
    """The partner layer set against police data: a choice at the desk, the desk's last choice (or the
    first layer) on the wall screen."""
    if not countable:
        return None
    if present:
        kept = st.session_state.get(_KEPT_SOURCE)
        return kept if kept in countable else countable[0]
    source = st.selectbox("Compare with police data", countable, key="p_source",
                          help="Partner counts per LSOA against what police-recorded violence predicts.")
    st.session_state[_KEPT_SOURCE] = source
    return source


def partner_map(lsoa_geojson: dict | None, point_layers: dict[str, pd.DataFrame], outlines: dict | None,
                map_style: str, present: bool = False) -> None:
    """The layers over the force; in presentation mode as tall as the screen below the map's top, the
    whole force fitted into it (ui/viewport.py)."""
    view = None
    height = 560
    if present:
        fit = map_fit(900, 560, page="partners")
        view, height = fitted_force_view(fit.width_px, fit.height_px), fit.height_px
    deck, legend = build_partner_deck(lsoa_geojson, point_layers, outlines, view=view, map_style=map_style)
    left, right = st.columns([5, 1.3])
    left.pydeck_chart(deck, height=height)
    if present:
        measure_screen(page="partners")
    entries = [("higher than police data suggests", tuple(FLAG_COLOURS["higher"][:3])),
               ("lower than police data suggests", tuple(FLAG_COLOURS["lower"][:3]))] if lsoa_geojson else []
    entries += [(name, tuple(colour)) for name, colour in legend]
    right.markdown(legend_html("Layers", entries, large=present), unsafe_allow_html=True)  # read from the room
    right.caption("Black outlines: police hotspot areas.")


def funnel_plot(table: pd.DataFrame, limits: pd.DataFrame, source: str, hide_below: int | None) -> None:
    """Ratio of partner to expected count against the expected count, with 95% and 99.8% limits."""
    points = table[table["expected"] > 0].copy()
    if hide_below:
        points = points[points["partner_count"] >= hide_below]
    points["flag"] = points["flag"].replace("", "within limits")
    lines = limits.melt(id_vars=["expected", "level"], value_vars=["lower_ratio", "upper_ratio"], var_name="side",
                        value_name="limit").dropna()
    lines["limit_name"] = lines["level"].map({0.95: "95% limit", 0.998: "99.8% limit"})
    lines["series"] = lines["limit_name"] + " " + lines["side"].str.replace("_ratio", "")
    top = float(min(max(points["ratio"].max(), 2.0), 8.0)) if not points.empty else 2.0
    lines = lines[lines["limit"] <= top * 1.05]
    x = alt.X("expected:Q", title=f"Expected {source} (police-recorded violence × force-wide ratio)")
    dots = alt.Chart(alt.Data(name="points")).mark_circle(size=38, opacity=0.75).encode(
        x=x, y=alt.Y("ratio:Q", title="Partner count ÷ expected", scale=alt.Scale(domain=[0, top], clamp=True)),
        color=alt.Color("flag:N", title="", scale=alt.Scale(domain=["higher", "lower", "within limits"],
                                                            range=["#bd0026", "#2166ac", "#9e9e9e"])),
        tooltip=[alt.Tooltip("lsoa_code:N", title="LSOA"), alt.Tooltip("district:N"),
                 alt.Tooltip("partner_count:Q", title=source), alt.Tooltip("police_count:Q", title="police violence"),
                 alt.Tooltip("expected:Q", format=".1f"), alt.Tooltip("ratio:Q", format=".2f")])
    limit_lines = alt.Chart(alt.Data(name="limits")).mark_line(interpolate="step-after").encode(
        x=x, y="limit:Q", detail="series:N",
        strokeDash=alt.StrokeDash("limit_name:N", title="", scale=alt.Scale(domain=["95% limit", "99.8% limit"],
                                                                            range=[[4, 3], [1, 0]])),
        color=alt.value("#444"))
    one = alt.Chart(alt.Data(name="one")).mark_rule(color="#888").encode(y="y:Q")
    chart = (limit_lines + one + dots).properties(height=380)
    draw_chart(chart, {"points": points, "limits": lines, "one": pd.DataFrame({"y": [1.0]})}, width="stretch")


def flagged_table(table: pd.DataFrame, source: str, hide_below: int | None) -> None:
    flagged = table[table["flag"] != ""].copy()
    if flagged.empty:
        st.info("No LSOA lies outside the 99.8% limits in these months.")
        return
    counts = flagged["partner_count"].astype(float)
    if hide_below:
        counts = counts.where(counts >= hide_below)
        flagged["ratio"] = flagged["ratio"].where(counts.notna())  # ratio × expected is the hidden count
    flagged[source] = counts
    st.dataframe(flagged[["lsoa_code", "district", "csp", source, "police_count", "expected", "ratio", "flag"]],
                 hide_index=True, width="stretch",
                 column_config={"lsoa_code": "LSOA", "district": "District", "csp": "CSP", "flag": "Flag",
                                "police_count": "Police-recorded violence",
                                "expected": st.column_config.NumberColumn("Expected", format="%.1f"),
                                "ratio": st.column_config.NumberColumn("Ratio to expected", format="%.2f"),
                                source: st.column_config.NumberColumn(source, format="%d")})


def _as_text(values: pd.Series, threshold: int, decimals: int = 0) -> pd.Series:
    """Counts as text, with a hidden (suppressed) count shown as "< threshold", never as blank or None."""
    return values.map(lambda v: f"< {threshold}" if pd.isna(v) else f"{v:,.{decimals}f}")


def hotspot_partner_table(table: pd.DataFrame, threshold: int) -> None:
    partner_columns = [c for c in table.columns if c.endswith("_count")]
    shown = table[["hotspot_rank", "hotspot_name", "district", "count", "harm"]].copy()
    for column in partner_columns:
        shown[column[:-6]] = _as_text(table[column], threshold)
    st.dataframe(shown, hide_index=True, width="stretch",
                 column_config={"hotspot_rank": "Rank", "hotspot_name": "Hotspot", "district": "District",
                                "count": "Police SV incidents",
                                "harm": st.column_config.NumberColumn("Police harm (days)", format="%.0f")})
    if "suppressed" in table and table["suppressed"].any():
        st.caption(f"'< {threshold}': a restricted layer's count below the partner-safe threshold, not shown; its "
                   f"other counts are rounded to {threshold}s, as in a partner-safe export.")


def weight_sliders(layers: pd.DataFrame) -> dict[str, float]:
    """One slider per measure; the weights are what the ranking uses and stay on screen."""
    weights = {"police": st.slider("Police harm", 0.0, 1.0, 0.5, 0.05, key="p_w_police",
                                   help="Cambridge Crime Harm Index days of serious violence in the cell.")}
    for layer in layers.to_dict("records"):
        weights[layer["source"]] = st.slider(markdown_plain(layer["source"]), 0.0, 1.0, 0.5 if layer["kind"] != "places" else 0.0,
                                             0.05, key=f"p_w_{layer['source']}")
    return weights


def ranking_table(ranking: pd.DataFrame, weights: dict[str, float], threshold: int, top: int = 20) -> None:
    used = {k: v for k, v in weights.items() if v > 0}
    total = sum(used.values()) or 1.0
    formula = " + ".join(f"{v / total:.0%} × share of {'police harm' if k == 'police' else markdown_plain(k)}" for k, v in used.items())
    st.caption(f"Score = {formula}. Each measure is divided by its total over the study area first, so a "
               "weight is the share of the score it carries, whatever its units.")
    head = ranking.head(top)
    shown = head[["rank", "h3", "hotspot_name", "district", "harm"]].copy()
    for name in (k for k in used if k != "police" and k in head.columns):
        whole = bool((head[name].dropna() % 1 == 0).all())
        shown[name] = _as_text(head[name], threshold, 0 if whole else 1)
    shown["score"] = head["score"]
    st.dataframe(shown, hide_index=True, width="stretch",
                 column_config={"rank": "Rank", "h3": "H3 cell", "hotspot_name": "Hotspot", "district": "District",
                                "harm": st.column_config.NumberColumn("Police harm (days)", format="%.0f"),
                                "score": st.column_config.NumberColumn("Score", format="%.4f")})
    st.caption("A&E-style counts per LSOA are shared equally among the cells whose centre lies in the LSOA, "
               "so they can be fractions.")
    if "suppressed" in ranking and ranking["suppressed"].any():
        st.caption(f"Restricted layers count as shown: rounded to {threshold}s, and '< {threshold}' as 0, so a "
                   "score gives away no hidden count.")


def hotspot_table_window(hotspot_filters, layers: pd.DataFrame, version: int) -> str:
    """The hotspots' partner table's window line: the police months (and how many of them the store
    holds: the real store's 2023-05 to 2024-04 held 4 months, audit item 14) and each layer's own
    months, which may differ (a partner row counts only inside the window)."""
    police = window_label(hotspot_filters.date_from, hotspot_filters.date_to, version, hotspot_filters)
    own = "; ".join(f"{row.source} {row.first} to {row.last}" for row in layers.itertuples()
                    if isinstance(row.first, str) and row.first)
    return markdown_plain(
        "Area counts in the LSOAs each hotspot touches; events and places inside its cells. Police incidents: "
        f"{police}. Partner layers count their own rows inside that window, and their months may differ"
        + (f" ({own})." if own else "."))
