"""Shared Streamlit plumbing for the pages: navigation, the sidebar filters (kept in the URL), the
banners every page shows, and small drawing helpers. Pages stay thin: ``page_setup`` gives the
filters, the page calls the service through :mod:`ui.cached` and draws with the ui/ modules.

The app uses Streamlit's ``pages/`` folder (each page its own script) with a navigation drawn here:
with ``st.navigation`` instead, the first request after a server start that names a page in its URL
runs that page without the main script, so a shared link would open without filters.
"""
from __future__ import annotations

import html
import math
import os
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from hotspot_engine.analyse.dosage import DOSAGE_PRESETS, OWN_TARGET
from hotspot_engine.errors import InputError
from hotspot_engine.filters import Filters, months_between, shift_month
from hotspot_engine.reference.geography import csp_lookup
from hotspot_engine.reference.offences import (
    POLICE_UK_SV_PROXY,
    POLICE_UK_WIDER,
    PROXY_NOTE,
    SV_GROUPS,
    group_label,
)
from hotspot_engine.render.text_safety import html_plain, markdown_plain
from hotspot_engine.service import Extent
from ui.access import require_sign_in
from ui.cached import data_version, extent, quality_warning, sample_status, settings
from ui.sets import set_picker

# A local file: a Material or emoji page icon makes the browser fetch it from the internet.
FAVICON = Path(__file__).resolve().parent.parent / "static" / "favicon.png"
SYNTHETIC_NOTE = "SYNTHETIC SAMPLE DATA — generated for demonstration; no real incidents."
DEMO_HOW_TO = ("This is a demo. To see your own data, load your files on Data & export (they replace the sample), "
               "or start the app on them: see the README, \"Your own data\".")
MIXED_NOTE = ("The store holds the built-in SYNTHETIC SAMPLE and real data together: every figure counts both. "
              "Remove the sample on Data & export.")



# -- sidebar filters (shared by every page, mirrored in the URL) ---------------------------------

_URL_KEYS = {"csp": "f_csp", "district": "f_district", "offence": "f_offence", "from": "f_from", "to": "f_to",
             "res": "f_res", "present": "present"}


def _one_of(*choices):
    return lambda text: text if text in choices else None


def _int_in(low: int, high: int):
    return lambda text: int(text) if text.lstrip("-").isdigit() and low <= int(text) <= high else None


def _float_in(low: float, high: float):
    def parse(text: str):
        try:
            value = float(text)
        except ValueError:
            return None
        return value if low <= value <= high else None
    return parse


def _iso_date(text: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _int_pair(text: str):
    low, _, high = text.partition("-")
    return (int(low), int(high)) if low.isdigit() and high.isdigit() and 5 <= int(low) <= int(high) <= 60 else None


def _flag(text: str):
    return text in ("1", "true", "on")


def _month(text: str):
    return text if len(text) == 7 and text[4] == "-" and text[:4].isdigit() and text[5:] in MONTH_NUMBERS else None


MONTH_NUMBERS = tuple(f"{m:02d}" for m in range(1, 13))


DOSAGE_TARGET_NAMES = (*DOSAGE_PRESETS, OWN_TARGET)

#: Page settings in the URL too (issue 19: a shared link showed the map's hotspots with another
#: window and method): session key -> (URL name, parse, default written as absent). A default of
#: None means the value is always written once set (it depends on the data, e.g. the intervention).
PAGE_URL = {
    "m_method": ("method", _one_of("predict", "gistar", "top-n", "harm-share"), "predict"),
    "m_measure": ("measure", _one_of("count", "harm"), "count"),
    "m_colour": ("colour", _one_of("count", "harm", "gi_bin", "pattern", "patrols"), "count"),
    "m_window": ("window", lambda t: int(t) if t in ("12", "6", "3", "0") else None, 12),
    "m_top": ("top", _int_in(1, 500), 19),
    "m_share": ("share", _float_in(0.1, 0.9), 0.5),
    "m_mode": ("cells", _one_of("window", "months"), "window"),
    "m_lsoa": ("lsoa", _flag, False),
    "m_patrols": ("dosage", _flag, False),
    "i_date": ("intervention", _iso_date, None),
    "i_model": ("model", _one_of("negbin", "poisson"), "negbin"),
    "i_buffer": ("rings", lambda t: int(t) if t in ("1", "2") else None, 1),
    "i_period": ("periods", _one_of("month", "week"), "month"),
    "i_to": ("impact_to", _month, ""),  # '' = the end of the set's year (impact_last_month)
    "p_preset": ("target", lambda t: t if t in DOSAGE_TARGET_NAMES else None, DOSAGE_TARGET_NAMES[0]),
    "p_visits": ("visits", _int_in(1, 6), 1),
    "p_band": ("visit_minutes", _int_pair, (10, 20)),
    "p_green": ("green", _float_in(0.5, 1.0), 0.8),
    "p_week": ("plan_week", _iso_date, None),
    "p_seed": ("seed", _int_in(0, 999_999), 1),
    "p_focus": ("focus", lambda t: t or None, None),
    "s_set": ("set", lambda t: t or None, ""),  # '' = the latest adopted set (ui/sets.py)
}


def _url_text(value) -> str:
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, tuple):
        return "-".join(str(v) for v in value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _page_settings_from_url() -> None:
    for key, (name, parse, _default) in PAGE_URL.items():
        if name in st.query_params:
            value = parse(st.query_params.get_all(name)[-1])
            if value is not None:
                st.session_state[key] = value


def _page_settings_to_url() -> None:
    for key, (name, _parse, default) in PAGE_URL.items():
        value = st.session_state.get(key)
        text = "" if value is None or value == default else _url_text(value)
        if not text:
            if name in st.query_params:
                del st.query_params[name]
        elif st.query_params.get(name) != text:
            st.query_params[name] = text


def _from_url() -> None:
    """Seed the widgets from the query string once per session, so a shared link opens the same view."""
    if st.session_state.get("_url_loaded"):
        return
    st.session_state["_url_loaded"] = True
    params = st.query_params
    _page_settings_from_url()
    for url_key, state_key in _URL_KEYS.items():
        if url_key not in params:
            continue
        values = params.get_all(url_key)
        if state_key in ("f_csp", "f_district", "f_offence"):
            st.session_state[state_key] = [v for v in values if v]
        elif state_key == "f_res":
            try:
                st.session_state[state_key] = int(values[-1])
            except ValueError:
                pass
        elif state_key == "present":
            st.session_state[state_key] = values[-1] in ("1", "true", "on")
        else:
            st.session_state[state_key] = values[-1]


def _to_url(filters: Filters) -> None:
    wanted = {
        "csp": list(filters.csps), "district": list(filters.districts), "offence": list(filters.offences),
        "from": filters.date_from or "", "to": filters.date_to or "", "res": str(filters.res),
        "present": "1" if st.session_state.get("present") else "",
    }
    for key, value in wanted.items():
        if value in ("", []):
            if key in st.query_params:
                del st.query_params[key]
        elif st.query_params.get_all(key) != (value if isinstance(value, list) else [value]):
            st.query_params[key] = value
    _page_settings_to_url()


def offence_choices(ext: Extent) -> list[str]:
    """The offence categories the store can hold: on police.uk data alone only its two proxy
    categories and its two broad types exist, so the other six serious-violence categories are not
    offered (choosing one would show an empty map, not a finding)."""
    police_uk = list(POLICE_UK_SV_PROXY.values()) + list(POLICE_UK_WIDER.values())
    if ext.incidents and ext.proxy_share >= 1:
        return police_uk
    groups = list(SV_GROUPS) + ["other_violence"]
    if ext.proxy_share > 0:
        groups += list(POLICE_UK_WIDER.values())
    return groups


#: Page widgets whose values outlive a page switch too: the map's method settings are what the
#: Data & export page exports "as on screen", and presentation mode hides (does not draw) them.
PAGE_KEYS = ("m_method", "m_measure", "m_colour", "m_window", "m_top", "m_share", "m_patrols", "m_lsoa", "m_mode",
             "i_date", "i_model", "i_buffer", "i_period", "i_to", "s_set")


def _restore_widget_state() -> None:
    """Streamlit drops a widget's state when another page runs; a plain copy survives, so the
    filters follow the user from page to page."""
    for key in (*_URL_KEYS.values(), "f_months", *PAGE_KEYS):
        keep = "_keep_" + key
        if key in st.session_state:
            # Re-assigning marks the value as set by the app, so the next page's widget takes it
            # instead of its default.
            st.session_state[key] = st.session_state[key]
        elif keep in st.session_state:
            st.session_state[key] = st.session_state[keep]


def _keep_widget_state() -> None:
    for key in (*_URL_KEYS.values(), "f_months", *PAGE_KEYS):
        if key in st.session_state:
            st.session_state["_keep_" + key] = st.session_state[key]


def sidebar_filters() -> Filters:
    """Draw the shared filters and return them as one Filters value (also kept in session state)."""
    _from_url()
    _restore_widget_state()
    ext = extent(data_version())
    lookup = csp_lookup()
    months = months_between(ext.first_month, ext.last_month) if ext.first_month else []
    with st.sidebar:
        st.markdown("### Filters")
        csps = st.multiselect("Community Safety Partnership", sorted(lookup["csp"].unique()), key="f_csp",
                              help="Empty means the whole force area.")
        district_options = sorted(lookup.loc[lookup["csp"].isin(csps), "district"]) if csps else sorted(lookup["district"])
        st.session_state["f_district"] = [d for d in st.session_state.get("f_district", []) if d in district_options]
        districts = st.multiselect("District", district_options, key="f_district")
        choices = offence_choices(ext)
        st.session_state["f_offence"] = [o for o in st.session_state.get("f_offence", []) if o in choices]
        offences = st.multiselect(
            "Offence category", choices, key="f_offence", format_func=group_label,
            help="Empty means all serious violence: " + _sv_scope(ext) + ".")
        if months:
            current = tuple(st.session_state.get("f_months", ()))
            if not (len(current) == 2 and current[0] in months and current[1] in months):
                # First run, a link with from/to, or data whose months changed: seed from f_from/f_to.
                first = st.session_state.get("f_from", months[0])
                last = st.session_state.get("f_to", months[-1])
                st.session_state["f_months"] = (first if first in months else months[0],
                                                last if last in months else months[-1])
            # value= makes Streamlit treat the slider as a range; the session-state value wins.
            chosen = st.select_slider("Months", options=months, value=(months[0], months[-1]), key="f_months")
            st.session_state["f_from"], st.session_state["f_to"] = chosen
        if st.session_state.get("f_res") not in (7, 8, 9, 10, 11):
            st.session_state["f_res"] = 9
        res = st.select_slider("H3 resolution", options=[7, 8, 9, 10, 11], key="f_res",
                               help="9 ≈ 200 m hexagons (0.105 km²); 10 ≈ 80 m; 8 ≈ 530 m.")
        st.toggle("Presentation mode", key="present",
                  help="Large type, high contrast, controls hidden: for the wall screen in partnership meetings.")
    try:
        filters = Filters(
            date_from=st.session_state.get("f_from") if months else None,
            date_to=st.session_state.get("f_to") if months else None,
            districts=tuple(districts), csps=tuple(csps), offences=tuple(offences), sv_only=not offences, res=int(res),
            exclude_flagged=settings().exclude_flagged_months,
        )
    except InputError as exc:
        st.sidebar.error(str(exc))
        filters = Filters()
    st.session_state["filters"] = filters
    _keep_widget_state()
    _to_url(filters)
    return filters


def current_filters() -> Filters:
    return st.session_state.get("filters") or Filters(sv_only=True)


def presentation() -> bool:
    return bool(st.session_state.get("present"))


def _leave_presentation() -> None:
    st.session_state["present"] = False


def apply_presentation_style() -> None:
    """Presentation mode: bigger type, high contrast, sidebar hidden (readable from the back of a
    room), and a visible button back out, since the sidebar toggle is hidden with the sidebar."""
    if not presentation():
        return
    st.markdown(
        """<style>
        html, body, [class*="css"], .stMarkdown p, .stDataFrame, [data-testid="stTable"] table { font-size: 22px !important; }
        h1 { font-size: 2.6rem !important; padding-top: 0 !important; } h2, h3 { font-size: 2rem !important; }
        [data-testid="stCaptionContainer"] p { font-size: 1.15rem !important; color: #222 !important; }
        [data-testid="stMetricValue"] { font-size: 3rem !important; font-weight: 700; }
        [data-testid="stMetricLabel"] p { font-size: 1.35rem !important; font-weight: 600; color: #111; }
        [data-testid="stMetricDelta"] { font-size: 1.3rem !important; }
        [data-testid="stMetricLabel"] *, [data-testid="stMetricDelta"] *, [data-testid="stMetricValue"] * { white-space: normal !important;
            overflow: visible !important; text-overflow: clip !important; }
        [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"] { display: none; }
        header[data-testid="stHeader"] { display: none; }
        .block-container { padding-top: 0.8rem !important; padding-bottom: 0.5rem !important; max-width: 100% !important; }
        [class*="st-key-viewport_"] { display: none !important; }
        @media (max-height: 800px) {
          html, body, [class*="css"], .stMarkdown p, .stDataFrame, [data-testid="stTable"] table { font-size: 16px !important; }
          h1 { font-size: 1.9rem !important; } h2, h3 { font-size: 1.4rem !important; }
          [data-testid="stCaptionContainer"] p { font-size: 0.95rem !important; }
          [data-testid="stMetricValue"] { font-size: 2rem !important; }
          [data-testid="stMetricLabel"] p, [data-testid="stMetricDelta"] { font-size: 1rem !important; }
          .hs-large { font-size: 14px !important; line-height: 1.15 !important; }
          .hs-large div { margin: 0 !important; }
        }
        </style>""",
        unsafe_allow_html=True,
    )
    st.button("Exit presentation mode", key="exit_present", on_click=_leave_presentation,
              icon=":material/close_fullscreen:", help="Back to the normal view with the filters in the sidebar.")


NAVIGATION = (
    ("app.py", "Overview", ":material/insights:"),
    ("pages/1_Hotspot_map.py", "Hotspot map", ":material/map:"),
    ("pages/2_Patrols.py", "Patrols", ":material/local_police:"),
    ("pages/3_Impact.py", "Impact", ":material/trending_down:"),
    ("pages/4_Data_and_export.py", "Data & export", ":material/database:"),
    ("pages/5_Partner_data.py", "Partner data", ":material/diversity_3:"),
    ("pages/6_Hotspot_sets.py", "Hotspot sets", ":material/push_pin:"),
)


def page_setup(title: str) -> Filters:
    """Every page starts here: page config, sign-in gate, navigation, filters, header. Returns the filters."""
    st.set_page_config(page_title=f"{title} · Hotspot", page_icon=str(FAVICON), layout="wide",
                       initial_sidebar_state="collapsed" if st.session_state.get("present") else "expanded")
    require_sign_in(settings())
    with st.sidebar:
        st.markdown("## :material/local_fire_department: Hotspot")
        for script, label, icon in NAVIGATION:
            st.page_link(script, label=label, icon=icon)
        st.divider()
    filters = sidebar_filters()
    set_picker()
    _page_settings_to_url()  # the set chosen just now
    page_header(title, filters)
    return filters


def page_header(title: str, filters: Filters) -> None:
    """Title, the one-line filter summary, and the labels the data needs (synthetic, proxy)."""
    ext = extent(data_version())
    st.markdown("<style>.block-container { padding-top: 2.2rem !important; }</style>", unsafe_allow_html=True)
    if presentation():
        left, right = st.columns([4, 1.2], vertical_alignment="center")
        with left:
            st.title(title)
        with right:
            apply_presentation_style()
    else:
        st.title(title)
    st.caption("Filters: " + markdown_plain(describe(filters)))  # names from the URL and the data
    status = sample_status()
    if status != "none":
        if presentation():
            st.markdown(f"<span style='background:#b2182b;color:#fff;padding:2px 10px;font-weight:700'>"
                        f"{SYNTHETIC_NOTE if status == 'only' else MIXED_NOTE}</span>", unsafe_allow_html=True)
        elif status == "only":
            st.warning(f"{SYNTHETIC_NOTE} {DEMO_HOW_TO}", icon=":material/science:")
        else:
            st.warning(MIXED_NOTE, icon=":material/warning:")
    warning = quality_warning(filters, data_version())
    if presentation():
        _compact_notices(ext.proxy_share, warning)
        return
    if ext.proxy_share > 0:
        st.info(f"{ext.proxy_share:.0%} of stored incidents come from data.police.uk. {PROXY_NOTE}", icon=":material/info:")
    if warning:  # crime types and force names come from the data: shown as text
        st.warning(markdown_plain(warning), icon=":material/rule:")


def _compact_notices(proxy_share: float, warning: str | None) -> None:
    """Presentation mode: the proxy caveat and the data-quality line as one small line each, not boxes
    (the proxy notice took about 15% of a 1080-pixel wall screen, issue 27)."""
    lines = []
    if proxy_share > 0:
        lines.append(f"{proxy_share:.0%} police.uk proxy: {PROXY_NOTE.split(': ', 1)[1].split(';')[0]}.")
    if warning:
        lines.append(warning)
    if lines:
        st.markdown("<div style='font-size:0.8rem;line-height:1.25;color:#333'>"
                    + "<br>".join(html_plain(line) for line in lines) + "</div>", unsafe_allow_html=True)


def _sv_scope(ext: Extent) -> str:
    """What 'all serious violence' covers in this store: data.police.uk gives only two of the
    partnership's eight categories (robbery, possession of a weapon)."""
    if ext.incidents and ext.proxy_share >= 1:
        return "the 2 categories data.police.uk gives (robbery, possession of a weapon)"
    if ext.proxy_share > 0:
        return "the partnership's 8 categories (2 of them in the data.police.uk rows)"
    return "the partnership's 8 categories"


def describe(filters: Filters) -> str:
    ext = extent(data_version())
    scope = "2 police.uk categories" if ext.incidents and ext.proxy_share >= 1 else "8 categories"
    offences = ", ".join(group_label(o) for o in filters.offences) if filters.offences else f"serious violence ({scope})"
    places = ", ".join(filters.csps + filters.districts) or "whole force area"
    return f"{filters.period()} · {places} · {offences} · H3 res {filters.res}"


def legend_html(title: str, entries: list[tuple[str, tuple[int, int, int]]], large: bool = False) -> str:
    size = "20px" if large else "13px"
    rows = "".join(
        f'<div style="display:flex;align-items:center;gap:8px;margin:2px 0">'
        f'<span style="width:18px;height:14px;background:rgb{tuple(c)};border:1px solid #555;display:inline-block"></span>'
        f"<span>{html.escape(label)}</span></div>"
        for label, c in entries
    )
    return (f'<div class="{"hs-large" if large else ""}" style="font-size:{size};line-height:1.3">'
            f"<b>{html.escape(title)}</b>{rows}</div>")


#: Set by the test suite: every chart is then checked against the Vega-Lite schema as it is drawn.
VALIDATE_CHARTS = os.environ.get("HOTSPOT_VALIDATE_CHARTS") == "1"


def draw_chart(chart: alt.TopLevelMixin, datasets: dict[str, pd.DataFrame], where=None, **kwargs) -> None:
    """Draw an Altair chart whose data are named (``alt.Data(name=...)``, frames in ``datasets``).

    ``st.altair_chart`` re-validates the whole spec against the Vega-Lite schema on every run, inside a
    lock shared by all sessions, and Altair hashes inline frames through their text repr when it
    layers charts: over a quarter of the script time of a filter change in a profile. With named data
    and no validation a chart costs about half; the test suite sets HOTSPOT_VALIDATE_CHARTS=1, so every
    chart the tests draw is still validated against the schema."""
    spec = chart.to_dict(validate=VALIDATE_CHARTS)
    # Altair's default theme fixes the view at 300 px; Streamlit draws Altair charts without it
    # (theme "none"), so width="stretch" fills the column.
    config = spec.pop("config", {})
    view = {key: value for key, value in config.pop("view", {}).items()
            if not (key in ("continuousWidth", "continuousHeight") and value == 300)}
    config = {**config, "view": view} if view else config
    if config:
        spec["config"] = config
    spec["datasets"] = dict(datasets)
    (where or st).vega_lite_chart(spec, **kwargs)


def change_text(change: int, pct: float, before_year: str) -> str:
    """'+12 (+3.4%)', or in words when the earlier year holds nothing to compare with (a percentage of
    nothing read '+786 (+nan%)' on real police.uk months with a gap of years)."""
    if not math.isfinite(pct):
        return f"none stored in {before_year} to compare with"
    return f"{change:+,} ({pct:+.1f}%)"


def _delta(change: int, pct: float, before_year: str) -> dict:
    """st.metric's delta arguments: a change from nothing is grey words, with no arrow."""
    finite = math.isfinite(pct)
    return {"delta": change_text(change, pct, before_year), "delta_color": "inverse" if finite else "off",
            "delta_arrow": "auto" if finite else "off"}


def headline_metrics(head, columns: int = 4, compact: bool = False) -> None:
    """The annual report's four headline figures as metrics, in ``columns`` columns (4 across the
    Overview, 2 beside the map in presentation mode). ``compact``: the years once above short
    labels that stay on one line (beside the map the long labels wrapped onto three lines)."""
    labels = (f"Serious violence {head.fy_after}", "Serious-violence hotspots", f"Patrols in hotspots {head.fy_after}",
              "Serious violence in hotspots")
    box = st.container(key="headline_compact") if compact else st.container()
    if compact:
        labels = ("Serious violence", "Hotspots", "Hotspot patrols", "SV in hotspots")
        box.markdown(f"<style>.st-key-headline_compact [data-testid='stMetricLabel'] p {{ white-space: nowrap !important; "
                     f"font-size: 1.15rem !important; }}</style><b>{head.fy_after} against {head.fy_before}</b>",
                     unsafe_allow_html=True)
    with box:
        cols = st.columns(columns) if columns > 1 else [st.container()] * 4
    cols[0].metric(labels[0], f"{head.sv_after:,}",
                   **_delta(head.sv_change, head.sv_change_pct, head.fy_before),
                   help=f"{head.fy_before}: {head.sv_before:,} offences. Places and offences follow the filters.")
    cols[1 % len(cols)].metric(labels[1], f"{head.hotspots}",
                               help=f"Gi* hotspot areas on {head.fy_before} (the year before patrols), "
                                    f"{head.hotspot_cells} H3 cells.")
    cols[2 % len(cols)].metric(labels[2], f"{head.patrols_after:,}",
                               help=f"{head.patrol_minutes_after:,.0f} patrol minutes recorded inside hotspot cells.")
    cols[3 % len(cols)].metric(
        labels[3], f"{head.hotspot_sv_after:,}",
        **_delta(head.hotspot_sv_after - head.hotspot_sv_before, head.hotspot_change_pct, head.fy_before),
        help=f"{head.fy_before}: {head.hotspot_sv_before:,}. Simple before/after count, the report's kind "
             "of figure; the Impact page models it with interrupted time series.")


#: Words of engine column names written out for readers (the rest is sentence-cased).
_WORDS = {"csp": "CSP", "its": "ITS", "cits": "CITS", "ci": "CI", "pct": "%", "wdq": "WDQ", "sm": "SM", "bdm": "BDM",
          "i2": "I²", "tau2": "τ²", "id": "id", "h3": "H3", "gi": "Gi*", "z": "z", "p": "p", "fdr": "FDR",
          "lsoa": "LSOA", "k": "k", "no": "No."}


def readable(column: str) -> str:
    """'ci_low_pct' -> 'CI low %', 'csp' -> 'CSP', 'patrol_minutes' -> 'Patrol minutes'."""
    text = " ".join(_WORDS.get(w, w) for w in str(column).split("_"))
    return text[:1].upper() + text[1:]


def display_table(frame: pd.DataFrame, digits: int = 1, rename: bool = True) -> pd.DataFrame:
    """A frame as a reader sees it: readable column names, and a dash where a figure cannot be
    estimated (a float column with gaps becomes text; an empty cell reads 'None' in the app)."""
    shown = frame.copy()
    for column in shown.columns:
        values = shown[column]
        if pd.api.types.is_float_dtype(values) and values.isna().any():
            shown[column] = ["–" if pd.isna(v) else (f"{v:.2e}" if 0 < abs(v) < 10 ** -digits else f"{v:,.{digits}f}")
                             for v in values]
        elif values.dtype == object or pd.api.types.is_string_dtype(values):
            shown[column] = values.fillna("–")
    return shown.rename(columns=readable) if rename else shown


def look_back(filters: Filters, months: int = 12) -> Filters:
    """The hotspot window: the last ``months`` of the selected range."""
    if not filters.date_to:
        return filters
    start = shift_month(filters.date_to, -(months - 1))
    if filters.date_from and start < filters.date_from:
        start = filters.date_from
    return filters.with_(date_from=start)


# -- cached engine calls (keyed on the Filters value and the data version) -----------------------

OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000", "#999999"]

def map_params():
    """The Hotspot map page's method settings as (HotspotParams, look-back months), defaults when
    the page has not been opened: what the Data & export page exports as 'on screen'."""
    from hotspot_engine.analyse.hotspots import HotspotParams

    state = st.session_state
    params = HotspotParams(method=state.get("m_method", "predict"), measure=state.get("m_measure", "count"),
                           top=int(state.get("m_top", 19)), harm_share=float(state.get("m_share", 0.5)))
    return params, int(state.get("m_window", 12))


def impact_inputs(ext: Extent, with_period: bool = False):
    """(intervention date, model, displacement rings) as set on the Impact page, or its defaults:
    the month of the first recorded patrol, negative binomial, one ring; with ``with_period`` a
    fourth item, the series period ('month', the default, or 'week')."""
    import datetime as dt

    state = st.session_state
    default = dt.date.fromisoformat(ext.first_patrol[:8] + "01") if ext.first_patrol else None
    inputs = (state.get("i_date", default), state.get("i_model", "negbin"), int(state.get("i_buffer", 1)))
    return inputs + (state.get("i_period", "month"),) if with_period else inputs


def set_year_end(adopted, last_month: str | None) -> str | None:
    """The default last month of an impact evaluation: the end of the adopted set's year (the 12
    months after the window it was chosen on, the year it was chosen for), or the store's last month
    when that is earlier or no set is chosen. Months after that year belong to another period (the
    sample's trial runs April to September 2024, after its report year): counting them would move
    the report year's estimate (-9.4% to -7.4% on the sample) without the user asking."""
    if adopted is None or not adopted.window_to or not last_month:
        return last_month
    return min(shift_month(adopted.window_to, 12), last_month)


def impact_last_month(ext: Extent, adopted) -> str | None:
    """The Impact page's last month evaluated: the month chosen there (URL ``impact_to``), or by
    default :func:`set_year_end`."""
    chosen = st.session_state.get("i_to", "")
    if chosen and ext.last_month and ext.first_month and ext.first_month <= chosen <= ext.last_month:
        return chosen
    return set_year_end(adopted, ext.last_month)


def hotspot_window(filters: Filters, window_months: int) -> Filters:
    return look_back(filters, window_months) if window_months else filters
