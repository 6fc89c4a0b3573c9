"""Static outputs for meetings: a map image (PNG) with title and legend, and a one-page A4 PDF
summary (map, headline figures, top hotspots table, filters, attribution).

Drawn with matplotlib's object API (``Figure`` + Agg canvas, never ``pyplot``), so nothing global
is touched and the functions are safe inside the Streamlit server's threads. Maps are drawn in
British National Grid (EPSG:27700) so hexagons keep their shape and the scale bar is true. Colours
and classes are those of every map (:mod:`hotspot_engine.render.classes`), so the PNG, the
PDF, the HTML map and the dashboard read the same way.
"""
from __future__ import annotations

import io
import math
import textwrap
from datetime import datetime

import numpy as np
import pandas as pd

from hotspot_engine import __version__
from hotspot_engine.render.classes import classify_cells, hex_colour
from hotspot_engine.render.html_map import (
    DISTRICT_COLOUR,
    HOTSPOT_OUTLINE,
    outline_districts,
    suppressed_flags,
)
from hotspot_engine.render.text_safety import matplotlib_plain

A4_LANDSCAPE_IN = (11.69, 8.27)
BNG = 27700
SYNTHETIC_BANNER = "SYNTHETIC SAMPLE DATA - NOT REAL INCIDENTS"
MAX_NAMED_AREAS = 8  # beyond this, areas are numbered on the map and named in the table
TABLE_ROWS = 12
ROW_HEIGHT = 0.068  # of the table's axes height


def _figure(size_in: tuple[float, float]):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size_in)
    FigureCanvasAgg(fig)
    return fig


def _cells_to_draw(cells, value_column: str):
    """(cells in BNG, colour per drawn cell, legend title, legend entries) with the classes of every
    map (:func:`hotspot_engine.render.classes.classify_cells`)."""
    classes = classify_cells(cells, value_column)
    # As on the interactive map, blanked partner-safe cells are not drawn (drawing them would
    # separate the cells with 1 to 4 incidents from those with none).
    draw = classes.drawn
    fill = np.array([hex_colour(classes.colours[k]) for k in classes.k[draw]], dtype=object)
    legend: list[tuple[str | None, str]] = [(hex_colour(c), label) for label, c in classes.legend.entries]
    if (suppressed_flags(cells) & ~draw).any():
        legend.append((None, "small numbers suppressed: not shown"))
    drawn = cells.loc[draw]
    if drawn.crs is None:
        drawn = drawn.set_crs(4326)
    return drawn.to_crs(BNG), fill, classes.legend.title, legend


def _area_labels(areas) -> list[str]:
    if areas is None or len(areas) == 0:
        return []
    if "hotspot_rank" in areas.columns:
        numbers = [str(int(r)) if pd.notna(r) else str(i + 1) for i, r in enumerate(areas["hotspot_rank"])]
    else:
        numbers = [str(i + 1) for i in range(len(areas))]
    if len(areas) <= MAX_NAMED_AREAS and "hotspot_name" in areas.columns:
        return [f"{n}. {matplotlib_plain(name)}" if pd.notna(name) else n for n, name in zip(numbers, areas["hotspot_name"])]
    return numbers


def _label_areas(ax, areas, points, blockers: list) -> None:
    """The areas' numbers (and names when few) placed by the placer every map uses
    (:func:`hotspot_engine.render.labels.place_texts`): no two overlap, none covers a hotspot, a
    number that had to move is joined to its hotspot by a line (issue 27: labels piled up)."""
    from hotspot_engine.render.labels import place_texts

    anchors = np.array([[p.x, p.y] for p in points], dtype=float).reshape(-1, 2)
    texts = [ax.text(x, y, label, fontsize=7, fontweight="bold", color=HOTSPOT_OUTLINE, ha="center", va="center",
                     zorder=6, bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})
             for label, (x, y) in zip(_area_labels(areas), anchors)]
    leaders = place_texts(ax, texts, anchors, ["number"] * len(texts), list(range(len(texts))), avoid=anchors,
                          blockers=blockers)
    for (ax0, ay0), (x1, y1) in leaders:
        ax.plot([ax0, x1], [ay0, y1], color=HOTSPOT_OUTLINE, linewidth=0.7, zorder=5)


def _scale_bar(ax, xmin: float, xmax: float, ymin: float, ymax: float):
    """A true-length bar (BNG metres) of a round length about a fifth of the map width; returns its label."""
    width = xmax - xmin
    target = width / 5
    length = 10 ** math.floor(math.log10(target))
    for step in (5, 2, 1):
        if step * length <= target:
            length *= step
            break
    x0 = xmin + width * 0.04
    y0 = ymin + (ymax - ymin) * 0.04
    ax.plot([x0, x0 + length], [y0, y0], color="#222222", linewidth=3, solid_capstyle="butt", zorder=6)
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    return ax.text(x0 + length / 2, y0 + (ymax - ymin) * 0.015, label, ha="center", va="bottom", fontsize=7, zorder=6)


def draw_map(ax, cells, areas, districts, value_column: str = "count", legend: bool = True) -> None:
    """Draw cells (coloured by ``value_column``), hotspot outlines with labels, and district
    outlines onto a matplotlib Axes, in British National Grid, with a legend and a scale bar."""
    from matplotlib.artist import Artist
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    drawn, fill, title, entries = _cells_to_draw(cells, value_column)
    areas_bng = areas.to_crs(BNG) if areas is not None and len(areas) else None
    districts_bng = outline_districts(districts).to_crs(BNG) if districts is not None and len(districts) else None

    if len(drawn):
        xmin, ymin, xmax, ymax = drawn.total_bounds
    elif areas_bng is not None:
        xmin, ymin, xmax, ymax = areas_bng.total_bounds
    elif districts_bng is not None:
        xmin, ymin, xmax, ymax = districts_bng.total_bounds
    else:
        xmin, ymin, xmax, ymax = 420000, 80000, 480000, 160000  # Hampshire, roughly
    pad = max(xmax - xmin, ymax - ymin, 1000) * 0.08
    xmin, xmax, ymin, ymax = xmin - pad, xmax + pad, ymin - pad, ymax + pad

    ax.set_facecolor("#f4f4f2")
    if len(drawn):
        # Cell edges help at town scale; at county scale they would swamp the fill colour.
        edge = 0.2 if (xmax - xmin) < 20000 else 0.0
        drawn.plot(ax=ax, color=list(fill), edgecolor="#555555", linewidth=edge, alpha=0.9, zorder=2)
    if districts_bng is not None:
        districts_bng.boundary.plot(ax=ax, color=DISTRICT_COLOUR, linewidth=0.8, linestyle=(0, (4, 3)), zorder=3)
    if areas_bng is not None:
        areas_bng.boundary.plot(ax=ax, color=HOTSPOT_OUTLINE, linewidth=1.6, zorder=4)
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")  # geopandas labels the CRS axes; a meeting map needs none
    ax.set_ylabel("")
    blockers = [_scale_bar(ax, xmin, xmax, ymin, ymax)]
    if legend:
        handles: list[Artist] = [
            Patch(facecolor=c, edgecolor="#777777", label=label) if c else Patch(facecolor="none", edgecolor="none", label=label)
            for c, label in entries
        ]
        if areas_bng is not None:
            handles.append(Line2D([], [], color=HOTSPOT_OUTLINE, linewidth=1.6, label="hotspot area"))
        handles.append(Line2D([], [], color=DISTRICT_COLOUR, linewidth=0.8, linestyle=(0, (4, 3)), label="district boundary"))
        blockers.append(ax.legend(
            handles=handles, title=title, loc="lower right", fontsize=7,
            title_fontsize=8, framealpha=0.92,
        ))
    if areas_bng is not None:  # last, so the numbers keep clear of the legend and the scale bar
        _label_areas(ax, areas, areas_bng.representative_point(), blockers)


def _attribution() -> str:
    from hotspot_engine.reference.geography import ATTRIBUTION

    return ATTRIBUTION


def map_png(cells, areas, districts, title: str, value_column: str = "count", dpi: int = 150, synthetic: bool = False,
            subtitle: str = "") -> bytes:
    """The map as PNG bytes (about 1500 x 1200 px at the default dpi): title, cells coloured by
    ``value_column`` with a legend, hotspot outlines and labels, district outlines, scale bar and
    the boundary attribution; a 'synthetic sample data' banner when ``synthetic``."""
    fig = _figure((10, 8))
    # With a subtitle (the source and its caveat, up to three lines) the map starts lower, so no text
    # lies over it.
    ax = fig.add_axes((0.02, 0.06, 0.96, 0.80 if subtitle else 0.86))
    draw_map(ax, cells, areas, districts, value_column)
    # Titles wrap rather than leave the page (issue 27); the subtitle is the data source and its caveat.
    fig.suptitle(matplotlib_plain(_wrap(title, 80)), fontsize=14 if len(title) <= 80 else 12, fontweight="bold",
                 y=0.985, va="top")
    if subtitle:
        fig.text(0.5, 0.95, matplotlib_plain(_wrap(subtitle, 160)), ha="center", va="top", fontsize=6.5,
                 color="#444444")
    if synthetic:
        fig.text(0.5, 0.885 if subtitle else 0.935, SYNTHETIC_BANNER, ha="center", va="center", fontsize=10, fontweight="bold", color="white",
                 bbox={"boxstyle": "square,pad=0.3", "fc": "#b2182b", "ec": "none"})
    fig.text(0.02, 0.02, _wrap(_attribution(), 150), fontsize=6, color="#444444", va="bottom")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _wrap(text: str, width: int) -> str:
    """Each line of ``text`` wrapped at ``width`` characters (a subtitle's data-quality line stays its own line)."""
    return "\n".join(wrapped for line in text.split("\n") for wrapped in textwrap.wrap(line, width))


def _cell_text(value) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if number.is_integer() and abs(number) < 1e12:
            return f"{int(number):,}"
        return f"{number:,.1f}" if abs(number) >= 10 else f"{number:.2f}"
    # Names wrap, never cut (issue 27: the meeting PDF truncated hotspot names).
    return matplotlib_plain(_wrap(str(value), 30) or str(value))


def _fit_columns(fig, ax, table, n_columns: int, font_size: float = 7.0, min_font_size: float = 5.0) -> None:
    """Size each column to its widest text as rendered, shrinking the font if the table would
    overflow its box (so no name is hidden under the next column)."""
    renderer = fig.canvas.get_renderer()
    box_px = ax.get_window_extent(renderer).width
    cells = table.get_celld()
    need = np.zeros(n_columns)
    for (_, col), cell in cells.items():
        need[col] = max(need[col], cell.get_text().get_window_extent(renderer).width + 10)
    if need.sum() > box_px:
        size = max(min_font_size, font_size * box_px / need.sum())
        table.set_fontsize(size)
        need *= size / font_size
    for (_, col), cell in cells.items():
        cell.set_width(need[col] / need.sum())


def _summary_map_top(subtitle: str) -> float:
    """Where the summary's map ends at the top: below the subtitle's lines (source and caveat, the
    chance line, a flagged month); with four lines the fourth ran under the map's top edge (0.89)."""
    lines = len(_wrap(subtitle, 200).split("\n")) if subtitle else 0
    return min(0.89, 0.918 - 0.0125 * lines - 0.008)


def summary_figure(
    title: str,
    headline: dict[str, str],
    cells,
    areas,
    districts,
    table: pd.DataFrame,
    filters_line: str = "",
    synthetic: bool = False,
    value_column: str = "count",
    when: datetime | None = None,
    subtitle: str = "",
):
    """The one-page summary as a matplotlib Figure (A4 landscape): the map on the left; headline
    figures and the top hotspots table on the right; filters, attribution and the time of making
    along the bottom; a red 'synthetic sample data' banner when ``synthetic``."""
    fig = _figure(A4_LANDSCAPE_IN)
    # The synthetic banner takes the right third of the title's line: the title wraps short of it (the
    # sample's title had run under the banner).
    room = 44 if synthetic else 60
    long_title = len(title) > room
    fig.text(0.03, 0.975, matplotlib_plain(_wrap(title, (58 if synthetic else 78) if long_title else room)),
             fontsize=12 if long_title else 16, fontweight="bold", va="top")
    if subtitle:
        fig.text(0.03, 0.918, matplotlib_plain(_wrap(subtitle, 200)), fontsize=6.5, color="#444444", va="top")
    if synthetic:
        fig.text(0.97, 0.975, SYNTHETIC_BANNER, ha="right", va="center", fontsize=10, fontweight="bold", color="white",
                 bbox={"boxstyle": "square,pad=0.35", "fc": "#b2182b", "ec": "none"})

    map_ax = fig.add_axes((0.03, 0.11, 0.50, _summary_map_top(subtitle) - 0.11))
    draw_map(map_ax, cells, areas, districts, value_column)

    # Headline figures: label above a large value, two per row.
    items = list(headline.items())[:6]
    for i, (label, value) in enumerate(items):
        col, row = i % 2, i // 2
        x = 0.56 + col * 0.21
        y = 0.87 - row * 0.085
        fig.text(x, y, matplotlib_plain(label), fontsize=8, color="#555555", va="top")
        fig.text(x, y - 0.022, matplotlib_plain(value), fontsize=15, fontweight="bold", color="#08306b", va="top")

    top = 0.87 - ((len(items) + 1) // 2) * 0.085 - 0.02
    table_ax = fig.add_axes((0.56, 0.11, 0.41, max(top - 0.11, 0.2)))
    table_ax.axis("off")
    shown = table.head(TABLE_ROWS).iloc[:, :6] if table is not None else pd.DataFrame()
    if len(shown):
        table_ax.set_title("Top hotspots", loc="left", fontsize=10, fontweight="bold")
        cell_text = [[_cell_text(v) for v in row] for row in shown.itertuples(index=False)]
        headers = [matplotlib_plain(str(c).replace("_", " ")) for c in shown.columns]
        # Column widths follow their longest text, so the table always fits its box.
        lengths = np.array([max([len(h)] + [len(r[i]) for r in cell_text]) for i, h in enumerate(headers)], dtype=float)
        widths = list((lengths + 2) / (lengths + 2).sum())
        lines = [1] + [max(text.count("\n") + 1 for text in row) for row in cell_text]
        height = min(1.0, ROW_HEIGHT * sum(lines))
        drawn = table_ax.table(
            cellText=cell_text, colLabels=headers, colWidths=widths, cellLoc="left", colLoc="left",
            bbox=(0.0, 1.0 - height, 1.0, height),
        )
        for (row, _), cell in drawn.get_celld().items():
            cell.set_height(lines[row])  # relative: the bbox scales rows to fit, keeping wrapped rows taller
        drawn.auto_set_font_size(False)
        drawn.set_fontsize(7)
        for (row, _), cell in drawn.get_celld().items():
            cell.set_edgecolor("#cccccc")
            if row == 0:
                cell.set_facecolor("#e8eef6")
                cell.set_text_props(fontweight="bold")
        _fit_columns(fig, table_ax, drawn, len(headers))
        if len(table) > TABLE_ROWS:
            table_ax.text(0, 1.0 - height - 0.03, f"... and {len(table) - TABLE_ROWS} more in the exported table", fontsize=7,
                          color="#555555", va="top", transform=table_ax.transAxes)
    else:
        table_ax.text(0, 0.9, "No hotspots selected for these filters.", fontsize=9, transform=table_ax.transAxes)

    when = when or datetime.now()
    footer = f"Filters: {matplotlib_plain(filters_line)}" if filters_line else "Filters: none"
    fig.text(0.03, 0.065, _wrap(footer, 190), fontsize=7.5, va="top")
    fig.text(0.03, 0.035, _wrap(f"{_attribution()}  Made {when:%Y-%m-%d %H:%M} with hotspot_engine {__version__}.", 220), fontsize=6, color="#444444", va="top")
    return fig


def summary_pdf(
    title: str,
    headline: dict[str, str],
    cells,
    areas,
    districts,
    table: pd.DataFrame,
    filters_line: str = "",
    synthetic: bool = False,
    value_column: str = "count",
    when: datetime | None = None,
    subtitle: str = "",
) -> bytes:
    """The one-page A4 landscape PDF summary (see :func:`summary_figure`) as bytes."""
    fig = summary_figure(title, headline, cells, areas, districts, table, filters_line, synthetic, value_column, when,
                         subtitle)
    from matplotlib import rc_context

    from hotspot_engine.render.labels import PDF_FONTS

    buffer = io.BytesIO()
    with rc_context(PDF_FONTS):
        fig.savefig(buffer, format="pdf", metadata={"Title": title, "Creator": f"hotspot_engine {__version__}"})
    return buffer.getvalue()


__all__ = ["draw_map", "map_png", "summary_figure", "summary_pdf", "SYNTHETIC_BANNER"]
