"""The one colour classification every map uses: the dashboard (:mod:`.deck`), the offline HTML map
(:mod:`.html_map`) and the PNG and PDF meeting maps (:mod:`.static_map`).

Why one module: the exports used to class cells on their own (iterated quantiles for counts, raw
Gi* z cut at 1.645/1.960/2.576). On the sample with the default filters the dashboard showed 576
cells above expectation and the exported meeting map 940 (z above 1.645), and six count classes
against the dashboard's five; now all four maps show the same 576 cells. A partner reading the PDF
and an officer reading the dashboard must see the same cells in the same colours under the same
legend, so the classes, palettes and legend labels live here and the renderers only draw them.

- Counts, harm, patrols (any non-negative magnitude): up to five classes (:data:`MAGNITUDE_CLASSES`)
  over the non-zero values with geometric upper bounds rounded to whole numbers (:func:`nice_breaks`),
  because crime counts are skewed (most cells 1, a few 80): equal-interval classes put almost every
  cell in the first class, and quantile classes of mostly-1 data collapse. Zero and blank
  (partner-safe) cells are not drawn. The number of classes does not depend on the palette: the
  dark (wall-screen) ramp has six shades and the light one five, and taking the class count from
  the palette gave the same cells different classes desk and wall (real store: "1-2, 3, 4-5, 6-8,
  9-13" against "1-2, 3, 4, 5-6, 7-9, 10-13", audit 3 item 8). Each base has five shades, one a
  class.
- Adjacent classes must be told apart, also by the 1 in 12 men with a colour-vision deficiency. The
  earlier light ramp (ColorBrewer YlOrRd 6 without its palest) put #feb24c ("3") beside #fd8d3c
  ("4-5"): CIEDE2000 12.5 for normal vision but 5.3 for a deuteranope (Machado et al. 2009,
  severity 1), 4.2 once drawn at the desk map's 75% opacity over its base; the wall ramp's
  #fed976/#feb24c pair read 6.3. Both ramps are now five YlOrRd (9-class) shades picked so that no
  neighbouring pair falls below 11 on a swatch for normal, protan, deutan or tritan vision (desk
  11.3, wall 11.3; drawn on the map 8.8 and 11.3), the desk's palest class unchanged (its contrast
  with the light base, 18.7, is why the palest shades are left out there) and its top class one
  step darker, #800026 (tests/test_legend_contrast.py measures all of this).
- Significance: the classes are the hotspot engine's ``gi_bin`` column (-3..3: the exact test's
  FDR-adjusted p below 1/5/10%, signed above or below expectation), never recomputed from ``gi_z``
  here: what a bin means (which p-value, which correction) is the analysis's decision, and a
  renderer that re-derived it from z would disagree with the analysis as soon as that changes.
  Non-significant cells are drawn (light grey) only where something happened (count above zero).
- Space-time patterns: one fixed colour per pattern class, only the classes present are listed.

Palettes are colour-blind safe (ColorBrewer YlOrRd for magnitude, RdBu for significance bins, a viridis
ramp for patrol dosage), so hot reads as hot to every viewer and nothing depends on red/green.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hotspot_engine.errors import InputError

RGB = tuple[int, int, int]

#: ColorBrewer YlOrRd shades #ffffcc, #fed976, #fd8d3c, #f03b20, #bd0026 for the dark (wall-screen)
#: base, where the palest shows. Not #feb24c, which a deuteranope hardly tells from its neighbours
#: (module docstring).
YLORRD: list[RGB] = [(255, 255, 204), (254, 217, 118), (253, 141, 60), (240, 59, 32), (189, 0, 38)]
#: On a light base the palest YlOrRd shade almost vanishes: there the classes start one step darker
#: and end one darker (#800026). Every export is drawn on a light background, so it uses this
#: palette, as the dashboard does by day.
YLORRD_ON_LIGHT: list[RGB] = [*YLORRD[1:], (128, 0, 38)]
VIRIDIS: list[RGB] = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]
GI_BIN_COLOURS: dict[int, RGB] = {
    -3: (33, 102, 172), -2: (103, 169, 207), -1: (209, 229, 240), 0: (240, 240, 240),
    1: (253, 219, 199), 2: (239, 138, 98), 3: (178, 24, 43),
}
#: Class index k of a cell coloured by ``gi_bin`` is ``gi_bin + 3``: this order.
GI_BIN_ORDER = (-3, -2, -1, 0, 1, 2, 3)
#: gi_bin comes from the exact test's Benjamini-Hochberg adjusted p (analyse/hotspots.py): the
#: labels say that, not "90/95/99% confidence", which the normal approximation cannot promise here.
GI_BIN_LABELS: dict[int, str] = {
    3: "Above expectation, FDR < 1%", 2: "Above, FDR < 5%", 1: "Above, FDR < 10%", 0: "Not significant",
    -1: "Below, FDR < 10%", -2: "Below, FDR < 5%", -3: "Below expectation, FDR < 1%",
}
#: Space-time (emerging hot spot) classes: reds/oranges for hot, blues for cold, with the
#: "intensifying/persistent" classes darkest and the transient ones pale; the oscillating classes
#: lean to magenta/purple and the historical ones to brown/teal so that no pair depends on red/green
#: contrast (hues from ColorBrewer RdYlBu, PuOr, BrBG). "no pattern" is light grey and not drawn.
PATTERN_COLOURS: dict[str, RGB] = {
    "intensifying hot spot": (165, 0, 38), "persistent hot spot": (215, 48, 39),
    "diminishing hot spot": (244, 109, 67), "consecutive hot spot": (253, 174, 97),
    "new hot spot": (254, 224, 144), "sporadic hot spot": (253, 212, 158),
    "oscillating hot spot": (197, 27, 125), "historical hot spot": (140, 81, 10),
    "intensifying cold spot": (8, 48, 107), "persistent cold spot": (33, 102, 172),
    "diminishing cold spot": (67, 147, 195), "consecutive cold spot": (158, 202, 225),
    "new cold spot": (198, 219, 239), "sporadic cold spot": (171, 217, 233),
    "oscillating cold spot": (118, 42, 131), "historical cold spot": (53, 151, 143),
    "no pattern": (220, 220, 220),
}
NO_PATTERN = "no pattern"
#: The legend's title for each way of colouring the cells (the dashboard's panel and every export).
LEGEND_TITLES: dict[str, str] = {
    "gi_bin": "Exact test, false discovery rate", "count": "Incidents per cell", "harm": "Harm (days) per cell",
    "patrols": "Patrols per cell", "patrol_minutes": "Patrol minutes per cell", "pattern": "Space-time pattern",
}
#: Patrol columns are dosage, not harm: a different hue so the two are never confused.
DOSAGE_COLUMNS = ("patrols", "patrol_minutes")


@dataclass(frozen=True)
class Legend:
    title: str
    entries: list[tuple[str, RGB]]


@dataclass(frozen=True)
class CellClasses:
    """The classes of a frame of cells, row for row: ``k`` is each row's class index (-1: not
    drawn), ``colours[k]`` its colour; ``legend`` lists the classes as every map shows them."""
    k: np.ndarray
    colours: list[RGB]
    legend: Legend

    @property
    def drawn(self) -> np.ndarray:
        return self.k >= 0


def magnitude_palette(dark: bool) -> list[RGB]:
    return YLORRD if dark else YLORRD_ON_LIGHT


def palette_for(colour_by: str, dark: bool = False) -> list[RGB]:
    return VIRIDIS if colour_by in DOSAGE_COLUMNS else magnitude_palette(dark)


def hex_colour(rgb: RGB) -> str:
    """'#rrggbb' for Leaflet and matplotlib."""
    return "#{:02x}{:02x}{:02x}".format(*(int(c) for c in rgb))


def value_grain(values: np.ndarray) -> int:
    """The step every positive value is a whole multiple of (5 for partner-safe counts rounded to
    fives), else 1: classes then hold values that can occur (a partner-safe legend read '8' and
    '11 – 13', which no rounded count can be)."""
    positive = np.asarray(values, dtype=float)
    positive = positive[np.isfinite(positive) & (positive > 0)]
    if positive.size == 0 or not np.all(positive == np.round(positive)) or positive.max() > 2**62:
        return 1
    return max(1, int(np.gcd.reduce(positive.astype(np.int64))))


def nice_breaks(values: np.ndarray, n: int) -> np.ndarray:
    """Upper bounds of up to ``n`` classes over the non-zero values: geometric steps rounded to
    whole numbers (to whole steps of :func:`value_grain`), so a skewed count (most cells 1, a few 90)
    still gets readable classes."""
    positive = values[values > 0]
    if positive.size == 0:
        return np.array([1.0])
    top = float(positive.max())
    low = float(positive.min())
    if top <= low:
        return np.array([top])
    raw = low * (top / low) ** (np.arange(1, n + 1) / n)
    # Two significant figures above 10 (12, 45, 230, 1,200), whole numbers below.
    magnitude = 10.0 ** (np.floor(np.log10(np.maximum(raw, 1e-9))) - 1)
    rounded = np.where(raw < 10, np.ceil(raw), np.ceil(raw / magnitude) * magnitude)
    grain = value_grain(positive)
    rounded = np.unique(np.ceil(rounded / grain) * grain if grain > 1 else rounded)
    rounded[-1] = max(rounded[-1], top)
    return rounded


#: Classes of a magnitude on every map, whatever its palette (see the module docstring).
MAGNITUDE_CLASSES = 5


def classify_colours(values: np.ndarray, palette: list[RGB]) -> tuple[np.ndarray, Legend, np.ndarray]:
    """Colour per value by class; returns colours (n x 3), a legend and the class index. The
    values are expected positive (callers leave zeros and blanks out before)."""
    values = np.asarray(values, dtype=float)
    uppers = nice_breaks(values, min(len(palette), MAGNITUDE_CLASSES))
    # Spread the classes over the palette so the top class is always the darkest colour.
    shades = np.round(np.linspace(0, len(palette) - 1, len(uppers))).astype(int)
    idx = np.clip(np.searchsorted(uppers, values, side="left"), 0, len(uppers) - 1)
    colours = np.array(palette)[shades[idx]] if values.size else np.zeros((0, 3), dtype=int)
    lower = float(values[values > 0].min()) if (values > 0).any() else 0.0
    grain = value_grain(values)
    entries = []
    for k, upper in enumerate(uppers):
        lo = lower if k == 0 else uppers[k - 1] + (grain if float(uppers[k - 1]).is_integer() else 0)
        label = f"{lo:,.0f}" if round(lo) >= round(upper) else f"{lo:,.0f} – {upper:,.0f}"
        entries.append((label, palette[shades[k]]))
    return colours, Legend("", entries), idx


def value_classes(values: np.ndarray, palette: list[RGB]) -> tuple[np.ndarray, Legend, list[RGB]]:
    """Class index per value and the colour of each class (see :func:`classify_colours`)."""
    _, legend, idx = classify_colours(values, palette)
    return idx, legend, [colour for _, colour in legend.entries]


def _numeric(cells: pd.DataFrame, column: str) -> np.ndarray:
    return np.asarray(pd.to_numeric(cells[column], errors="coerce"), dtype=float)


def gi_bin_classes(cells: pd.DataFrame) -> CellClasses:
    """Classes from the engine's ``gi_bin``: every significant cell, and non-significant cells
    where the count is above zero (grey: something happened there, nothing unusual)."""
    bins = _numeric(cells, "gi_bin")
    known = np.isfinite(bins)
    keep = known & (bins != 0)
    if "count" in cells.columns:
        keep |= known & (_numeric(cells, "count") > 0)
    k = np.where(keep, np.nan_to_num(bins, nan=0.0).astype(int) + 3, -1)
    legend = Legend(LEGEND_TITLES["gi_bin"], [(GI_BIN_LABELS[b], GI_BIN_COLOURS[b]) for b in reversed(GI_BIN_ORDER)])
    return CellClasses(k.astype(int), [GI_BIN_COLOURS[b] for b in GI_BIN_ORDER], legend)


def pattern_classes(cells: pd.DataFrame) -> CellClasses:
    """Cells with a space-time ``pattern`` other than 'no pattern'; class index over the classes
    present only, in the order of :data:`PATTERN_COLOURS`; the legend lists those classes."""
    pattern = cells["pattern"].astype(str).to_numpy()
    shown = pattern != NO_PATTERN
    present = [p for p in PATTERN_COLOURS if p != NO_PATTERN and p in set(pattern[shown])]
    k = np.full(len(cells), -1, dtype=int)
    if present:
        k[shown] = pd.Index(present).get_indexer(pattern[shown])
    legend = Legend(LEGEND_TITLES["pattern"], [(p, PATTERN_COLOURS[p]) for p in present])
    return CellClasses(k, [PATTERN_COLOURS[p] for p in present], legend)


def magnitude_classes(cells: pd.DataFrame, column: str, dark: bool = False, palette: list[RGB] | None = None) -> CellClasses:
    """Classes of a non-negative figure (count, harm, patrols...) over its values above zero;
    zero and blank (partner-safe) cells are not drawn."""
    values = _numeric(cells, column)
    shown = np.isfinite(values) & (values > 0)
    idx, legend, colours = value_classes(values[shown], palette or palette_for(column, dark))
    k = np.full(len(cells), -1, dtype=int)
    k[shown] = idx
    return CellClasses(k, colours, Legend(LEGEND_TITLES.get(column, column.replace("_", " ")), legend.entries))


def classify_cells(cells: pd.DataFrame, colour_by: str, dark: bool = False) -> CellClasses:
    """The classes of ``cells`` coloured by ``colour_by``: 'gi_bin', 'pattern' or a numeric
    column. ``dark``: the dashboard's dark (presentation) base, where the palest shade shows."""
    if colour_by == "gi_z":
        raise InputError("cells: significance colours come from the column 'gi_bin' (the analysis's classes), "
                         "not 'gi_z'")
    if colour_by not in cells.columns:
        raise InputError(f"cells: no column '{colour_by}' to colour the map by")
    if colour_by == "gi_bin":
        return gi_bin_classes(cells)
    if colour_by == "pattern":
        return pattern_classes(cells)
    return magnitude_classes(cells, colour_by, dark)


__all__ = [
    "CellClasses", "MAGNITUDE_CLASSES", "GI_BIN_COLOURS", "GI_BIN_LABELS", "GI_BIN_ORDER", "LEGEND_TITLES", "Legend", "NO_PATTERN",
    "PATTERN_COLOURS", "VIRIDIS", "YLORRD", "YLORRD_ON_LIGHT", "classify_cells", "classify_colours", "gi_bin_classes",
    "hex_colour", "magnitude_classes", "magnitude_palette", "nice_breaks", "palette_for", "pattern_classes",
    "value_classes",
]
