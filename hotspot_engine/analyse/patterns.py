"""Space-time patterns per cell: ArcGIS Emerging Hot Spot Analysis classes from per-period Gi*
and a Mann-Kendall trend test on each cell's series of Gi* z-scores.

For each period (financial year, quarter...) Gi* is computed over the whole study area with the
same k-ring binary weights as the hotspot map, and a cell is a significant hot (cold) spot in that
period when its neighbourhood total is above (below) the period's expectation and the exact
Poisson p of that total, Benjamini-Hochberg adjusted over that period's cells, is below ``alpha``
(the hotspot map's test: Gi*'s normal p flags chance clusters on sparse counts). The classes follow
ArcGIS Pro's "How Emerging Hot Spot Analysis works"; differences: the neighbourhood is spatial only
(no time-step neighbours), and the trend is the Mann-Kendall test of each cell's Gi* z-scores.

A final period that holds only part of its months (data ending in June for financial years) is
compared with whole ones: on the sample it turned 3 "new hot spots" into 32. It is flagged
(``last_period_incomplete`` and a note) so the reader chooses a window ending at a period's end.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from hotspot_engine.analyse.gistar import exact_neighbourhood_p, fdr_bh, gistar, neighbourhood_totals, special_functions
from hotspot_engine.errors import InputError
from hotspot_engine.reference import geography

#: ArcGIS: "ninety percent of the time-step intervals".
MOST_OF_THE_TIME = 0.9
#: ArcGIS needs at least ten time steps for a trend to mean much; fewer still runs, with a note.
RECOMMENDED_PERIODS = 10
#: Months in a whole period of each kind.
PERIOD_MONTHS = {"fy": 12, "year": 12, "quarter": 3, "month": 1}

PATTERN_LEGEND: dict[str, str] = {
    "new hot spot": "A significant hot spot in the last period for the first time.",
    "consecutive hot spot": "A single unbroken run of significant hot spots in the last two or more periods, never hot before, and hot in under 90% of periods.",
    "intensifying hot spot": "A significant hot spot in at least 90% of periods, including the last, with clustering of high values growing significantly stronger over time.",
    "persistent hot spot": "A significant hot spot in at least 90% of periods, including the last, with no significant trend in the strength of clustering.",
    "diminishing hot spot": "A significant hot spot in at least 90% of periods, including the last, with clustering of high values growing significantly weaker over time.",
    "sporadic hot spot": "A significant hot spot in the last period that has been on and off before, hot in under 90% of periods and never a cold spot.",
    "oscillating hot spot": "A significant hot spot in the last period that was a significant cold spot in an earlier one, hot in under 90% of periods.",
    "historical hot spot": "Not hot in the last period, but a significant hot spot in at least 90% of periods.",
    "new cold spot": "A significant cold spot in the last period for the first time.",
    "consecutive cold spot": "A single unbroken run of significant cold spots in the last two or more periods, never cold before, and cold in under 90% of periods.",
    "intensifying cold spot": "A significant cold spot in at least 90% of periods, including the last, with clustering of low values growing significantly stronger over time.",
    "persistent cold spot": "A significant cold spot in at least 90% of periods, including the last, with no significant trend in the strength of clustering.",
    "diminishing cold spot": "A significant cold spot in at least 90% of periods, including the last, with clustering of low values growing significantly weaker over time.",
    "sporadic cold spot": "A significant cold spot in the last period that has been on and off before, cold in under 90% of periods and never a hot spot.",
    "oscillating cold spot": "A significant cold spot in the last period that was a significant hot spot in an earlier one, cold in under 90% of periods.",
    "historical cold spot": "Not cold in the last period, but a significant cold spot in at least 90% of periods.",
    "no pattern": "None of the hot or cold spot patterns above.",
}
PATTERNS: tuple[str, ...] = tuple(PATTERN_LEGEND)


def mann_kendall(series: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mann-Kendall trend test on each row of ``series`` (cells x periods, in time order).

    Returns S, Kendall's tau-b against time, the normal z (tie-corrected variance, continuity
    correction, as in Hipel & McLeod 1994 and R's Kendall package) and the two-sided p.
    """
    x = np.atleast_2d(np.asarray(series, dtype=float))
    m, n = x.shape
    if n < 2:
        zeros = np.zeros(m)
        return zeros, zeros.copy(), zeros.copy(), np.ones(m)
    a, b = np.triu_indices(n, k=1)
    s = np.sign(x[:, b] - x[:, a]).sum(axis=1)

    # Tie groups in each row: sort, mark run starts, count run lengths.
    ordered = np.sort(x, axis=1)
    starts = np.ones((m, n), dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    run_id = np.cumsum(starts, axis=1) - 1 + (np.arange(m) * n)[:, None]
    t = np.bincount(run_id.ravel(), minlength=m * n).reshape(m, n).astype(float)
    tie_var = (t * (t - 1) * (2 * t + 5)).sum(axis=1)
    tie_pairs = (t * (t - 1) / 2).sum(axis=1)

    pairs = n * (n - 1) / 2
    var = (n * (n - 1) * (2 * n + 5) - tie_var) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, (s - np.sign(s)) / np.sqrt(var), 0.0)
        tau = np.where(pairs - tie_pairs > 0, s / np.sqrt((pairs - tie_pairs) * pairs), 0.0)
    p = 2 * special_functions().ndtr(-np.abs(z))  # the normal tail: scipy.stats costs every command 0.4-0.6 s to import
    return s, tau, z, p


def classify(hot: np.ndarray, cold: np.ndarray, trend_z: np.ndarray, trend_p: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Emerging hot spot class per row from significant hot/cold flags (cells x periods, in time
    order) and the Mann-Kendall trend of the Gi* z series. See :data:`PATTERN_LEGEND`."""
    hot = np.atleast_2d(np.asarray(hot, dtype=bool))
    cold = np.atleast_2d(np.asarray(cold, dtype=bool))
    trend_z = np.asarray(trend_z, dtype=float)
    trend_p = np.asarray(trend_p, dtype=float)
    out = np.full(hot.shape[0], "no pattern", dtype=object)
    for flags, against, side, rising in ((hot, cold, "hot", 1.0), (cold, hot, "cold", -1.0)):
        _classify_side(out, flags, against, side, rising * trend_z, trend_p, alpha)
    return out


def _classify_side(out: np.ndarray, flags: np.ndarray, against: np.ndarray, side: str,
                   strengthening: np.ndarray, trend_p: np.ndarray, alpha: float) -> None:
    """Fill ``out`` for one side; ``strengthening`` > 0 when clustering on this side grows stronger
    (rising z for hot spots, falling z for cold spots)."""
    m, n = flags.shape
    share = flags.sum(axis=1) / n
    last = flags[:, -1]
    mostly = share >= MOST_OF_THE_TIME - 1e-12
    # Length of the final unbroken run of flags, and whether any flag lies before that run.
    not_flag = ~flags[:, ::-1]
    run = np.where(not_flag.any(axis=1), not_flag.argmax(axis=1), n)
    before_run = (flags.sum(axis=1) - run) > 0
    ever_against = against.any(axis=1)
    trend = trend_p < alpha

    rules = [
        (mostly & ~last, "historical"),
        (mostly & last & trend & (strengthening > 0), "intensifying"),
        (mostly & last & trend & (strengthening < 0), "diminishing"),
        (mostly & last, "persistent"),
        (~mostly & last & (run == 1) & ~before_run, "new"),
        (~mostly & last & (run >= 2) & ~before_run, "consecutive"),
        (~mostly & last & ever_against, "oscillating"),
        (~mostly & last & before_run & ~ever_against, "sporadic"),
    ]
    todo = out == "no pattern"
    for mask, name in rules:
        hit = todo & mask
        out[hit] = f"{name} {side} spot"
        todo &= ~hit


def emerging_hotspots(cell_period_values: pd.DataFrame, study_cells: pd.DataFrame, k: int = 1, alpha: float = 0.05,
                      period_months: dict[str, tuple[int, int]] | None = None) -> pd.DataFrame:
    """Emerging hot spot pattern per study cell.

    cell_period_values: h3 (uint64 or hex), period (sortable label: '2019-20', '2023Q1'...),
    value; missing (cell, period) pairs count as 0. study_cells: h3 (+ anything), every cell of
    the study area. Returns one row per study cell: h3 (hex), pattern, mk_tau, mk_z, mk_p, n_hot,
    n_cold, last_z, last_bin (+1 hot / -1 cold / 0 in the last period), periods,
    last_period_incomplete; in ``.attrs``: ``periods`` (list), ``notes`` and
    ``incomplete_periods``. ``period_months``: period -> (months covered, months in a whole
    period), from :func:`period_coverage`; None: every period taken as whole.
    """
    if not 0 < alpha < 1:
        raise InputError(f"alpha: must be between 0 and 1, got {alpha}")
    cells = np.unique(_as_uint64(study_cells["h3"]))
    periods = sorted(pd.unique(cell_period_values["period"].astype(str))) if len(cell_period_values) else []
    if len(periods) < 2:
        raise InputError("emerging hot spots: need at least two periods of data")
    grid = np.zeros((cells.size, len(periods)))
    keys = _as_uint64(cell_period_values["h3"])
    pos = np.searchsorted(cells, keys)
    pos = np.clip(pos, 0, max(cells.size - 1, 0))
    inside = cells[pos] == keys
    col = pd.Index(periods).get_indexer(cell_period_values["period"].astype(str))
    np.add.at(grid, (pos[inside], col[inside]), pd.to_numeric(cell_period_values["value"]).to_numpy(dtype=float)[inside])

    i, j = geography.ring_neighbours(cells, int(k))
    z = np.zeros_like(grid)
    significant = np.zeros(grid.shape, dtype=bool)
    totals, size = neighbourhood_totals(grid, i, j)
    for t in range(len(periods)):
        z[:, t] = gistar(grid[:, t], i, j).z
        expected = size * grid[:, t].sum() / max(cells.size, 1)
        significant[:, t] = fdr_bh(exact_neighbourhood_p(totals[:, t], expected)) < alpha  # once per period
    hot = significant & (z > 0)
    cold = significant & (z < 0)
    _, tau, mk_z, mk_p = mann_kendall(z)
    pattern = classify(hot, cold, mk_z, mk_p, alpha)

    frame = pd.DataFrame({
        "h3": geography.cell_to_str(cells), "pattern": pattern, "mk_tau": tau, "mk_z": mk_z, "mk_p": mk_p,
        "n_hot": hot.sum(axis=1), "n_cold": cold.sum(axis=1), "last_z": z[:, -1],
        "last_bin": hot[:, -1].astype(int) - cold[:, -1].astype(int), "periods": len(periods),
    })
    notes = [f"Periods: {', '.join(periods)}; exact Poisson test of each ring-{k} neighbourhood's total, BH-adjusted "
             f"p < {alpha} in each period; Mann-Kendall trend on each cell's Gi* z-scores."]
    if len(periods) < RECOMMENDED_PERIODS:
        notes.append(f"Only {len(periods)} periods: ArcGIS recommends at least {RECOMMENDED_PERIODS} for a trend test; "
                     "with few periods 'intensifying' and 'diminishing' need every period to move the same way.")
    # Last, so a page that shows one note shows this one.
    partial = {p: c for p, c in (period_months or {}).items() if p in periods and c[0] < c[1]}
    frame["last_period_incomplete"] = periods[-1] in partial
    if periods[-1] in partial:
        have, whole = partial[periods[-1]]
        notes.append(f"The last period ({periods[-1]}) holds only {have} of its {whole} months: 'new', 'consecutive', "
                     "'sporadic' and the other classes that hinge on the last period compare a part-period with whole "
                     "ones. Choose a window that ends where a period ends.")
    if periods[0] in partial:
        have, whole = partial[periods[0]]
        notes.append(f"The first period ({periods[0]}) holds only {have} of its {whole} months.")
    frame.attrs["incomplete_periods"] = sorted(partial)
    frame.attrs["periods"] = periods
    frame.attrs["notes"] = notes
    return frame


def period_of(month: pd.Series, by: str = "fy") -> pd.Series:
    """Period label of 'YYYY-MM' months: 'fy' -> '2022-23' (April to March), 'year' -> '2022',
    'quarter' -> '2022Q3' (calendar), 'month' -> unchanged."""
    text = month.astype(str)
    year = text.str.slice(0, 4).astype(int)
    mon = text.str.slice(5, 7).astype(int)
    if by == "fy":
        start = year - (mon < 4).astype(int)
        return start.astype(str) + "-" + ((start + 1) % 100).map("{:02d}".format)
    if by == "year":
        return year.astype(str)
    if by == "quarter":
        return year.astype(str) + "Q" + ((mon - 1) // 3 + 1).astype(str)
    if by == "month":
        return text
    raise InputError(f"period: expected fy, year, quarter or month, got '{by}'")


def period_coverage(months: list[str], by: str = "fy") -> dict[str, tuple[int, int]]:
    """Period -> (months of ``months`` in it, months in a whole period), e.g. a window from
    2023-04 to 2024-06 by 'fy' gives {'2023-24': (12, 12), '2024-25': (3, 12)}."""
    if by not in PERIOD_MONTHS:
        raise InputError(f"period: expected fy, year, quarter or month, got '{by}'")
    labels = period_of(pd.Series(sorted(set(months)), dtype=object), by)
    counts = labels.value_counts()
    return {str(p): (int(n), PERIOD_MONTHS[by]) for p, n in counts.items()}


def periodise(cell_month_counts: pd.DataFrame, by: str = "fy", measure: str = "count") -> pd.DataFrame:
    """query.cell_month_counts (h3, month, count, harm) -> h3, period, value for
    :func:`emerging_hotspots`."""
    if measure not in ("count", "harm"):
        raise InputError(f"measure: expected count or harm, got '{measure}'")
    frame = pd.DataFrame({"h3": cell_month_counts["h3"].to_numpy(), "period": period_of(cell_month_counts["month"], by).to_numpy(),
                          "value": pd.to_numeric(cell_month_counts[measure]).to_numpy(dtype=float)})
    return frame.groupby(["h3", "period"], as_index=False)["value"].sum()


def window_months(first: str | None, last: str | None, months: pd.DataFrame) -> list[str]:
    """Every month from ``first`` to ``last`` (the data's own first and last month where None):
    what :func:`period_coverage` needs to tell a part-period from a whole one."""
    from hotspot_engine.filters import months_between

    present = sorted(months["month"].astype(str).unique()) if len(months) else []
    first = first or (present[0] if present else None)
    last = last or (present[-1] if present else None)
    return months_between(first, last) if first and last else present


def _as_uint64(values) -> np.ndarray:
    series = pd.Series(values)
    if series.dtype.kind in "iuf":
        return series.to_numpy().astype(np.uint64)
    return np.array([int(s, 16) for s in series.astype(str)], dtype=np.uint64)


__all__ = ["PATTERN_LEGEND", "PATTERNS", "mann_kendall", "classify", "emerging_hotspots", "period_of", "periodise",
           "period_coverage", "window_months"]
