"""Patrol briefings: one A4 page per hotspot that an officer can take out and use, printed in black
and white.

Each page: where the hotspot is on the ground (the outline drawn over the streets, the streets in
and around it with their incident counts, the British National Grid reference and lat/lon of its
centre), the dosage target and the last weeks' dosage, this week's planned visits, and when
incidents happen only where incidents carry times; otherwise one line says why there is no grid.

Streets: a loaded street layer (``ingest --format streets``) is drawn with its names; without one,
the incidents' own location text (police.uk snap points are street names with coordinates) is
placed at its coordinates. Everything is drawn offline with matplotlib.

Text from data (hotspot names, locations, street names) is escaped before matplotlib sees it: a '$'
would otherwise start mathtext, and ``$\\undefinedcmd{x}$`` in a location made the whole PDF fail.
Status is written as a word, not only a colour, so it survives a black-and-white printer.
"""
from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from hotspot_engine.analyse.dosage import DAY_NAMES, PatrolReport
from hotspot_engine.analyse.patrol_plan import PatrolPlan, peak_windows
from hotspot_engine.analyse.places import is_generic
from hotspot_engine.analyse.trial_plan import is_control_row
from hotspot_engine.render.context import OutputContext
from hotspot_engine.render.labels import PDF_FONTS, place_texts
from hotspot_engine.render.text_safety import matplotlib_plain

#: Weeks of dosage the page lists (most recent last).
RECENT_WEEKS_SHOWN = 6
#: Streets listed per hotspot.
STREETS_SHOWN = 12
GREY = "#333333"


def plain(text: object) -> str:
    """Data text made safe for matplotlib: shown as typed, never parsed as mathtext (one helper for
    every renderer: render.text_safety)."""
    return matplotlib_plain(text)


def grid_reference(lat: float, lon: float) -> str:
    """Ordnance Survey grid reference to 10 m ('SU 4213 1185') of a WGS84 point, or '' off the grid."""
    from pyproj import Transformer

    easting, northing = Transformer.from_crs(4326, 27700, always_xy=True).transform(lon, lat)
    if not (0 <= easting < 700_000 and 0 <= northing < 1_300_000):
        return ""
    e100k, n100k = int(easting // 100_000), int(northing // 100_000)
    first = (19 - n100k) - (19 - n100k) % 5 + (e100k + 10) // 5
    second = (19 - n100k) * 5 % 25 + e100k % 5
    letters = "".join(chr(65 + v + (1 if v > 7 else 0)) for v in (first, second))  # the grid skips 'I'
    return f"{letters} {int(easting % 100_000) // 10:04d} {int(northing % 100_000) // 10:04d}"


def briefing_pdf(report: PatrolReport, plan: PatrolPlan | None = None, hotspot_ids: Sequence[str] | None = None,
                 synthetic: bool = False, context: OutputContext | None = None) -> bytes:
    """A printable PDF, one A4 portrait page per hotspot (see the module docstring). ``context``: the
    area, hotspot window, data source and caveat, adopted set and flagged months every output carries
    (:mod:`hotspot_engine.render.context`), printed on every page."""
    from matplotlib.backends.backend_pdf import PdfPages

    if context is not None and report.chance and not context.chance:
        context = replace(context, chance=report.chance)
    ids = list(hotspot_ids) if hotspot_ids is not None else report.dosage.sort_values("hotspot_rank")["hotspot_id"].tolist()
    from matplotlib import rc_context

    buffer = io.BytesIO()
    with rc_context(PDF_FONTS), PdfPages(buffer) as pdf:
        for hotspot_id in ids:
            pdf.savefig(briefing_page(report, plan, hotspot_id, synthetic, context))
        info = pdf.infodict()
        info["Title"] = "Hotspot patrol briefing"
        info["Creator"] = "Hotspot"
    return buffer.getvalue()


def _centre(report: PatrolReport, hotspot_id: str) -> tuple[float, float]:
    from hotspot_engine.reference import geography

    cells = report.hotspot_cells.loc[report.hotspot_cells["hotspot_id"] == hotspot_id, "h3"].to_numpy(np.uint64)
    lat, lon = geography.cell_centres(cells)
    return float(np.mean(lat)), float(np.mean(lon))


def briefing_page(report: PatrolReport, plan: PatrolPlan | None, hotspot_id: str, synthetic: bool = False,
                  context: OutputContext | None = None):
    """One hotspot's page as a matplotlib Figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    row = report.dosage.set_index("hotspot_id").loc[hotspot_id]
    fig = Figure(figsize=(8.27, 11.69))
    FigureCanvasAgg(fig)
    first, last = report.period
    lat, lon = _centre(report, hotspot_id)
    # Long names wrap and shrink rather than run off the page (issue 27: "Southampton - Landguard Road /
    # Blechynden Terrace (parking" ran past the right edge).
    text, size = _title_lines(f"#{int(row['hotspot_rank'])}  {row['hotspot_name']}", synthetic)
    fig.text(0.05, 0.97, plain(text), fontsize=size, fontweight="bold", va="top")
    fig.text(0.05, 0.942, f"Centre: grid ref {grid_reference(lat, lon) or 'off the OS grid'}  ·  {lat:.5f}, {lon:.5f}  ·  "
                          f"{plain(row['district'])}  ·  hotspot {plain(hotspot_id)}, {int(row['n_cells'])} cells",
             fontsize=9.5, va="top")
    fig.text(0.05, 0.925, plain(_where_line(context, first, last)), fontsize=8, color=GREY, va="top")
    # Its own line at the foot: beside the area line a long CSP name would run into it.
    fig.text(0.05, 0.05, "Status is written in words: readable printed in black and white", fontsize=6.5, color=GREY,
             va="top")
    if context is not None:  # the source, its caveat and any flagged month, above the footer
        fig.text(0.05, 0.125, plain("\n".join(textwrap.wrap(context.subtitle.replace("\n", " "), 150)[:5])),
                 fontsize=6.5, color=GREY, va="top", linespacing=1.3)
    if synthetic:
        fig.text(0.95, 0.97, "SYNTHETIC SAMPLE DATA", fontsize=9, fontweight="bold", ha="right", va="top",
                 bbox={"boxstyle": "square,pad=0.3", "fc": "white", "ec": "black", "lw": 1.5})
    draw_street_map(fig.add_axes((0.05, 0.50, 0.56, 0.385)), report, hotspot_id)
    _dosage_panel(fig, report, row)
    _streets_panel(fig, report, hotspot_id)
    _weeks_panel(fig, report, hotspot_id)
    _timing_panel(fig, report, hotspot_id)
    _plan_panel(fig, plan, hotspot_id)
    if report.predicted:  # above the data source lines, in the gap the panels leave
        fig.text(0.05, 0.132, plain("\n".join(textwrap.wrap(RANKED_LINE, 150))), fontsize=6.5, color=GREY,
                 va="bottom", linespacing=1.3)
    fig.text(0.05, 0.018, f"Target: {report.target.describe()}. Stay visible for the planned minutes; vary arrival "
             "times.", fontsize=6.5, color=GREY, wrap=True)
    return fig


def _where_line(context: OutputContext | None, first: object, last: object) -> str:
    """Area, the adopted set and the figures' months (the rank in the title is the number the set's maps
    show). With a context, the months in the words of the pages and the meeting maps' titles
    (``context.window``: "2023-05 to 2024-04, 4 of 12 months stored"): on the real police.uk store the
    dates "2023-05-01 to 2024-04-30" alone read as a year of figures resting on 4 months (audit 3
    item 12)."""
    if context is None:
        return f"Figures {first} to {last}"
    named = f"  ·  hotspot set '{context.set_name}'" if context.set_name else ""
    return f"{context.area}{named}  ·  figures {context.window}"


def _title_lines(title: str, synthetic: bool) -> tuple[str, float]:
    """(text, font size) of a page title that stays on the page and above the next line: one line at
    15 pt when it fits, else at most two lines at 8.5 pt (two lines of 8.5 pt end above the centre
    line at 0.942; the synthetic banner takes the right of the first line)."""
    if len(title) <= (42 if synthetic else 56):
        return title, 15.0
    room = 68 if synthetic else 88
    lines = textwrap.wrap(title, room)
    if len(lines) > 2:
        lines = textwrap.wrap(textwrap.shorten(title, 2 * room - 4, placeholder="..."), room)[:2]
    return "\n".join(lines), 8.5


def _dosage_panel(fig, report: PatrolReport, row: pd.Series) -> None:
    required = report.target.required_days(int(row["days"]))
    mean = "-" if not np.isfinite(row["mean_minutes"]) else f"{row['mean_minutes']:.0f} min"
    # Without patrol data, "0 / 0" and "0 of 366" read as measured failures; they were never measured.
    unmeasured = bool(report.summary.get("no_patrol_data"))
    lines = [
        ("Dosage status", f"{row['status'].upper()}  ({row['compliance']:.0%} of required days)"
         if pd.notna(row["compliance"]) else "no patrol data loaded"),
        ("Target", f"{report.target.visits_per_day} x {report.target.min_minutes:g}-{report.target.max_minutes:g} min, "
                   f"{report.target.days_per_week} days/week"),
        ("Visits / minutes in hotspot", "-" if unmeasured else f"{int(row['patrols']):,} / {row['minutes']:,.0f}"),
        ("Mean visit", mean),
        ("Days dosed", f"- (of {required:.0f} required)" if unmeasured else f"{int(row['dosed_days'])} of {required:.0f} required"),
        _incidents_line(report, row),
    ]
    y = 0.905
    for label, value in lines:
        fig.text(0.64, y, label, fontsize=8, color=GREY, va="top")
        fig.text(0.64, y - 0.014, value, fontsize=10, fontweight="bold", va="top")
        y -= 0.041


#: Under the panel when the hotspots were ranked by prediction: why #16 with 1 incident outranks
#: places with 15 (audit item 3; the words of hotspots.RANKED_BY_PREDICTION_TEXT, shortened to a line).
RANKED_LINE = ("Ranked by predicted rate a month, not by count: each cell's own count blended with its surroundings "
               "(about 600 m) and its other crime, so a place with few incidents can rank above busier ones.")


def _incidents_line(report: PatrolReport, row: pd.Series) -> tuple[str, str]:
    """The period's incidents, with the predicted rate the hotspot was ranked on beside them when known
    (an adopted set's as adopted; "not recorded" for a set adopted before the rate was stored)."""
    incidents = f"{int(row['incidents']):,}"
    if row.name not in report.predicted:
        return "Incidents in the period", incidents
    rate = report.predicted[row.name]
    if rate is None:  # an adopted set from before its rates were stored: never shown as 0
        return "Incidents in the period  ·  predicted a month", f"{incidents}  ·  not recorded"
    return "Incidents in the period  ·  predicted a month", f"{incidents}  ·  {rate:.1f}"


def _streets_panel(fig, report: PatrolReport, hotspot_id: str) -> None:
    fig.text(0.64, 0.655, "Streets in and around (incidents)", fontsize=9, fontweight="bold", va="top")
    streets = _streets_of(report, hotspot_id)
    places = _streets_of(report, hotspot_id, generic=True)
    if streets.empty and places.empty:
        fig.text(0.64, 0.637, "no location text in the records", fontsize=8, va="top")
        return
    lines = [f"{plain(r.street)[:34]:<34} {int(r.n):>4}{'' if r.inside else ' *'}" for r in streets.itertuples()]
    fig.text(0.64, 0.637, "\n".join(lines), fontsize=7, family="monospace", va="top", linespacing=1.25)
    below = 0.637 - 0.0115 * (len(lines) + 0.5)
    fig.text(0.64, below, "* just outside the outline", fontsize=6.5, color=GREY, va="top")
    if not places.empty:
        # Generic snap points (Parking Area, Supermarket...) qualify the streets; they are not streets.
        # Starred like the streets: the real #1's "Sports/Recreation Area (3)" lay wholly in the ring around it.
        named = ", ".join(f"{plain(r.street)} ({int(r.n)}){'' if r.inside else ' *'}" for r in places.itertuples())
        fig.text(0.64, below - 0.014, textwrap.fill(f"Also recorded at police.uk place points: {named}", 62),
                 fontsize=6.5, color=GREY, va="top")


def _streets_of(report: PatrolReport, hotspot_id: str, generic: bool = False) -> pd.DataFrame:
    """The hotspot's named streets, or with ``generic`` its police.uk generic place points
    (:data:`hotspot_engine.analyse.places.GENERIC_PLACES`), which are never listed as streets."""
    if report.streets is None or report.streets.empty:
        return pd.DataFrame(columns=["street", "n", "lat", "lon", "inside"])
    mine = report.streets[report.streets["hotspot_id"] == hotspot_id]
    mine = mine[is_generic(mine["street"].astype(str)) == generic]
    return mine.sort_values(["inside", "n", "street"], ascending=[False, False, True]).head(STREETS_SHOWN)


def _weeks_panel(fig, report: PatrolReport, hotspot_id: str) -> None:
    weekly = report.weekly[report.weekly["hotspot_id"] == hotspot_id].sort_values("week").tail(RECENT_WEEKS_SHOWN)
    fig.text(0.05, 0.475, "Dosage, recent weeks", fontsize=9, fontweight="bold", va="top")
    if weekly.empty or report.summary.get("no_patrol_data"):
        fig.text(0.05, 0.457, "no patrol data loaded: visits cannot be counted" if not weekly.empty
                 else "no weeks in the period", fontsize=8, va="top")
        return
    required = report.target.days_per_week
    lines = [f"{'week from':<11}{'visits':>7}{'minutes':>9}{'days dosed':>12}"]
    lines += [f"{pd.Timestamp(w.week):%d %b %y}  {int(w.patrols):>7}{w.minutes:>9.0f}"
              f"{f'{int(w.dosed_days)} of {min(required, int(w.days))}':>12}" for w in weekly.itertuples()]
    fig.text(0.05, 0.457, "\n".join(lines), fontsize=7.5, family="monospace", va="top", linespacing=1.3)


def _timing_panel(fig, report: PatrolReport, hotspot_id: str) -> None:
    """Hour x day grid and peak windows only when incidents carry times; else one line why."""
    fig.text(0.05, 0.345, "When incidents happen", fontsize=9, fontweight="bold", va="top")
    if not report.has_times:
        fig.text(0.05, 0.327, "No grid: the records give a month only (police.uk), not a day or time.", fontsize=8,
                 va="top")
        return
    sub = report.grid[report.grid["hotspot_id"] == hotspot_id].sort_values(["dow", "hour"])
    values = sub["incidents"].to_numpy(float).reshape(7, 24)
    if values.sum() == 0:
        fig.text(0.05, 0.327, "No grid: none of this hotspot's incidents has a time.", fontsize=8, va="top")
        return
    ax = fig.add_axes((0.09, 0.225, 0.5, 0.095))
    ax.imshow(values, aspect="auto", cmap="Greys", interpolation="nearest", vmin=0)
    ax.set_yticks(range(7), DAY_NAMES, fontsize=6.5)
    ax.set_xticks(range(0, 24, 3), [f"{h:02d}" for h in range(0, 24, 3)], fontsize=6.5)
    ax.set_xlabel("hour of day (darker = more incidents)", fontsize=6.5)
    peaks = peak_windows(report.grid, hotspot_id)
    fig.text(0.05, 0.178, f"Busiest 2-hour windows: {', '.join(peaks)}", fontsize=7.5, va="top")
    fig.text(0.05, 0.163, report.times_note(), fontsize=7, color=GREY, va="top")


def plan_line(visit) -> str:
    """One planned visit as printed. The day printed is the day of the suggested start, so a start at
    00:16 in a 23:00-01:00 window is listed under the day it happens, not the day the window opened."""
    minutes = int(visit.minutes)
    if is_control_row(getattr(visit, "reason", "")):
        return f"{pd.Timestamp(visit.date):%a %d %b}  control day: no dedicated patrol"
    if pd.isna(visit.suggested_start):
        return f"{pd.Timestamp(visit.date):%a %d %b}  {minutes} min  time: team to set"
    start, window_start, window_end = (pd.Timestamp(visit.suggested_start), pd.Timestamp(visit.window_start),
                                       pd.Timestamp(visit.window_end))
    opened = "" if window_start.normalize() == start.normalize() else f"{window_start:%a} "
    return f"{start:%a %d %b} {start:%H:%M}  window {opened}{window_start:%H:%M}-{window_end:%H:%M}  {minutes} min"


def _plan_panel(fig, plan: PatrolPlan | None, hotspot_id: str) -> None:
    fig.text(0.62, 0.345, "Planned visits this week", fontsize=9, fontweight="bold", va="top")
    if plan is None or plan.visits.empty:
        fig.text(0.62, 0.327, "no plan", fontsize=8, va="top")
        return
    mine = plan.visits[plan.visits["hotspot_id"] == hotspot_id]
    lines = [plan_line(v) for v in mine.itertuples(index=False)]
    size = 5.9 if len(lines) <= 22 else max(4.5, 5.9 * 22 / len(lines))
    fig.text(0.62, 0.327, "\n".join(lines) or "none", fontsize=size, family="monospace", va="top")
    if not plan.has_times:
        fig.text(0.05, 0.312, "Times are for the team to set: the data give no incident times and no patrol history.",
                 fontsize=7.5, va="top")


def draw_street_map(ax, report: PatrolReport, hotspot_id: str) -> None:
    """The hotspot outline over its streets: the street layer's lines and names when loaded, else the
    incidents' location names at their coordinates. Black and white; a 100 or 500 m scale bar."""
    import geopandas as gpd

    from hotspot_engine.reference import geography

    cells = report.hotspot_cells.loc[report.hotspot_cells["hotspot_id"] == hotspot_id, "h3"].to_numpy(np.uint64)
    ax.set_xticks([])
    ax.set_yticks([])
    if cells.size == 0:
        ax.text(0.5, 0.5, "no cells", ha="center", va="center", transform=ax.transAxes)
        return
    polygons = geography.cell_polygons(cells).to_crs(27700)
    outline = gpd.GeoSeries([polygons.union_all()], crs=27700)
    xmin, ymin, xmax, ymax = outline.total_bounds
    pad = max(xmax - xmin, ymax - ymin) * 0.35 + 80
    ax.set_xlim(xmin - pad, xmax + pad)
    ax.set_ylim(ymin - pad, ymax + pad)
    ax.set_aspect("equal")  # before the labels: the placer measures the map as it will be drawn
    drawn = _draw_street_lines(ax, report, hotspot_id)
    if not drawn:
        _draw_snap_names(ax, report, hotspot_id)
    polygons.boundary.plot(ax=ax, color="#888888", linewidth=0.5, linestyle=":")
    outline.boundary.plot(ax=ax, color="black", linewidth=2.2)
    ax.set_xlabel("")
    ax.set_ylabel("")
    source = "street layer" if drawn else "incident locations (no street layer loaded)"
    ax.set_title(f"Outline (thick line) over streets from the {source}", fontsize=7, loc="left")
    bar = 100 if (xmax - xmin + 2 * pad) < 1500 else 500
    x0, y0 = xmin - pad * 0.8, ymin - pad * 0.8
    ax.plot([x0, x0 + bar], [y0, y0], color="black", linewidth=2.5)
    ax.text(x0, y0 + pad * 0.08, f"{bar} m", fontsize=7)
    ax.annotate("N", (0.96, 0.95), xycoords="axes fraction", ha="center", fontsize=9, fontweight="bold")


def _draw_street_lines(ax, report: PatrolReport, hotspot_id: str) -> bool:
    """Street-layer lines near the hotspot with one name label per street; False when none."""
    import geopandas as gpd
    import shapely

    lines = report.street_lines
    if lines is None or lines.empty:
        return False
    mine = lines[lines["hotspot_id"] == hotspot_id]
    if mine.empty:
        return False
    frame = gpd.GeoDataFrame(mine[["name"]].reset_index(drop=True),
                             geometry=shapely.from_wkb(mine["geometry"].to_numpy()), crs=4326).to_crs(27700)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    frame.plot(ax=ax, color="#444444", linewidth=1.6)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    view = shapely.box(x0, y0, x1, y1)
    names, anchors = [], []
    for name, group in frame.groupby("name"):
        if not str(name).strip():
            continue
        visible = shapely.intersection(shapely.union_all(group.geometry.to_numpy()), view)
        if visible.is_empty:
            continue
        point = visible if visible.geom_type == "Point" else visible.interpolate(0.5, normalized=True)
        names.append(name)
        anchors.append((point.x, point.y))
    texts = [ax.text(x, y, plain(name), fontsize=6.5, ha="center", va="center", clip_on=True,
                     bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8})
             for name, (x, y) in zip(names, anchors)]
    # The placer every map uses: a name that finds no free place is left out (the panel lists it).
    place_texts(ax, texts, np.array(anchors, dtype=float).reshape(-1, 2), ["town"] * len(texts),
                list(range(len(texts))))
    return True


def _draw_snap_names(ax, report: PatrolReport, hotspot_id: str) -> None:
    """The incidents' location names at their coordinates, with counts (police.uk snap points)."""
    from pyproj import Transformer

    streets = _streets_of(report, hotspot_id)
    if streets.empty:
        ax.text(0.5, 0.05, "no street names in the records", ha="center", fontsize=7, transform=ax.transAxes)
        return
    x, y = Transformer.from_crs(4326, 27700, always_xy=True).transform(streets["lon"].to_numpy(float),
                                                                        streets["lat"].to_numpy(float))
    ax.scatter(x, y, s=10, color="black", zorder=3)
    anchors = np.column_stack([x, y])
    texts = [ax.text(xi, yi, f"{plain(name)} ({int(n)})", fontsize=6, ha="center", va="center", clip_on=True,
                     bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8})
             for xi, yi, name, n in zip(x, y, streets["street"], streets["n"])]
    # Busiest first; a name beside its dot, never over another name or dot (issue 27: they overlapped).
    place_texts(ax, texts, anchors, ["town"] * len(texts), list(range(len(texts))), avoid=anchors)


__all__ = ["briefing_pdf", "briefing_page", "draw_street_map", "grid_reference", "plain", "plan_line"]
