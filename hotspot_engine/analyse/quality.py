"""Data-quality guard (issue 24 item 4, issue 29 item 4): force-months whose counts of a crime type
are far off that type's own neighbouring months, and force-months missing or partial.

Why this test. A real police.uk year was seen with one month 2-5 times off its neighbours, type by
type (one type at 4.6 times, another at a fifth), loading silently into the hotspots. Each
(force, type, month) count ``y`` is compared with ``usual``, the median of the same force and type in
the months around it (up to :data:`WINDOW` either side, the month itself left out, at least
:data:`MIN_NEIGHBOURS` of them: with fewer there is nothing to judge by). A median of neighbours is
not moved by the bad month itself, and a month of a neighbouring bad month drags it little.

A month is flagged when both hold:
- the ratio ``(y + 0.5) / (usual + 0.5)`` is at least :data:`RATIO` or at most ``1 / RATIO`` (real
  seasons and trends move a type by a third, not by half or double);
- the difference is beyond noise: ``|y - usual| / sqrt(phi * max(usual, 1)) >= Z`` where ``phi`` is
  the neighbours' own overdispersion (their robust variance, 1.4826 x MAD squared, over the usual
  level; never below 1, Poisson), so a small or erratic type needs a bigger step to be flagged;
- and ``max(y, usual) >= MIN_COUNT``: a type with a handful of incidents a month is not judged.

Measured (tests/test_quality.py): a month planted at 4 times one type's level is flagged; the real
Hampshire months 2024-01..04 and the built-in sample raise no flag.

The same test on a force-month's total (all types) calls a month "partial" when it is low; a month
with no rows between a force's first and last month is "missing". police.uk rows are grouped by
their force ("Falls within"); other sources (force extracts, the sample) count as one force.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from hotspot_engine.filters import months_between

WINDOW = 6
MIN_NEIGHBOURS = 3
RATIO = 2.0
Z = 5.0
MIN_COUNT = 20
#: The force name shown for rows that carry none (force extracts, the sample).
STORE_FORCE = "force records"

FLAG_COLUMNS = ["force", "month", "crime_type", "count", "usual", "ratio", "z"]
GAP_COLUMNS = ["force", "month", "status", "count", "usual"]


def _month_index(months: pd.Series) -> np.ndarray:
    years, mons = months.str.slice(0, 4).astype(int), months.str.slice(5, 7).astype(int)
    return (years * 12 + mons - 1).to_numpy()


def _judge(series: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(usual, ratio, z) per month of one count series; NaN where there are too few neighbours.
    ``present`` marks the months the force has data for (missing months are no neighbours)."""
    n = len(series)
    usual, ratio, z = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    for i in range(n):
        if not present[i]:
            continue
        lo, hi = max(0, i - WINDOW), min(n, i + WINDOW + 1)
        near = np.concatenate([series[lo:i][present[lo:i]], series[i + 1:hi][present[i + 1:hi]]])
        if len(near) < MIN_NEIGHBOURS:
            continue
        med = float(np.median(near))
        spread = 1.4826 * float(np.median(np.abs(near - med)))
        phi = max(1.0, spread ** 2 / max(med, 1.0))
        usual[i] = med
        ratio[i] = (series[i] + 0.5) / (med + 0.5)
        z[i] = (series[i] - med) / np.sqrt(phi * max(med, 1.0))
    return usual, ratio, z


def _far_off(count: np.ndarray, usual: np.ndarray, ratio: np.ndarray, z: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return ((ratio >= RATIO) | (ratio <= 1 / RATIO)) & (np.abs(z) >= Z) & (np.maximum(count, usual) >= MIN_COUNT)


def _grid(counts: pd.DataFrame, key: str, store_span: bool = False
          ) -> list[tuple[str, str, list[str], np.ndarray, np.ndarray]]:
    """Per (force, key value): (force, value, months first..last of the force, counts, present).
    ``store_span``: the months run over the whole store's first..last month instead of the force's."""
    out = []
    for force, rows in counts.groupby("force", sort=True):
        span = counts["month"] if store_span else rows["month"]
        months = months_between(span.min(), span.max())
        present = np.isin(months, rows["month"].unique())
        for value, series in rows.groupby(key, sort=True):
            filled = series.groupby("month")["count"].sum().reindex(months, fill_value=0).to_numpy(dtype=float)
            out.append((str(force), str(value), months, filled, present))
    return out


def flag_months(counts: pd.DataFrame) -> pd.DataFrame:
    """Force-months far off a crime type's own history. ``counts``: force, month ('YYYY-MM'),
    crime_type, count (rows with a zero count may be left out). Returns :data:`FLAG_COLUMNS`, one row
    per flagged (force, month, type), the biggest departures first within a month."""
    rows = []
    for force, crime_type, months, series, present in _grid(counts, "crime_type"):
        usual, ratio, z = _judge(series, present)
        for i in np.flatnonzero(_far_off(series, usual, ratio, z)):
            rows.append((force, months[i], crime_type, int(series[i]), usual[i], ratio[i], z[i]))
    flags = pd.DataFrame(rows, columns=FLAG_COLUMNS)
    if flags.empty:
        return flags
    flags["_far"] = np.abs(np.log(flags["ratio"]))
    return flags.sort_values(["month", "force", "_far"], ascending=[True, True, False]).drop(columns="_far").reset_index(drop=True)


def coverage_gaps(counts: pd.DataFrame) -> pd.DataFrame:
    """Force-months missing (no rows in a month between the store's first and last month) or partial
    (the month's total far below its neighbours, by the same test as :func:`flag_months`). ``counts``:
    force, month, count (any finer rows are summed). Returns :data:`GAP_COLUMNS`.

    Missing runs over the store's months, not the force's own: force-wide windows span every force,
    so a store of Cleveland 2021-01..12 and Durham 2021-10..12 read Durham's first nine months as
    zero incidents (no hotspot in Durham, "12 months, 12 with data") with no gap reported."""
    totals = counts.groupby(["force", "month"], as_index=False)["count"].sum().assign(crime_type="all")
    rows = []
    for force, _, months, series, present in _grid(totals, "crime_type", store_span=True):
        usual, ratio, z = _judge(series, present)
        low = _far_off(series, usual, ratio, z) & (ratio < 1)
        for i, month in enumerate(months):
            if not present[i]:
                rows.append((force, month, "missing", 0, np.nan))
            elif low[i]:
                rows.append((force, month, "partial", int(series[i]), usual[i]))
    return pd.DataFrame(rows, columns=GAP_COLUMNS)


def _times(ratio: float) -> str:
    return f"{ratio:.1f} times" if ratio >= 0.1 else f"{ratio:.2f} times"


def flag_lines(flags: pd.DataFrame, with_force: bool | None = None) -> list[str]:
    """One line per flagged force-month: '2024-03: Violence and sexual offences at 4.6 times its usual
    level, Shoplifting at 0.2 times: flagged' (the force named first when the store holds several)."""
    if flags.empty:
        return []
    if with_force is None:
        with_force = flags["force"].nunique() > 1
    lines = []
    for (month, force), rows in flags.groupby(["month", "force"], sort=True):
        parts = []
        for k, row in enumerate(rows.itertuples()):
            parts.append(f"{row.crime_type} at {_times(float(row.ratio))}" + (" its usual level" if k == 0 else ""))
        prefix = f"{force} {month}: " if with_force else f"{month}: "
        lines.append(prefix + ", ".join(parts) + ": flagged")
    return lines


def runs(months: list[str]) -> list[str]:
    """Consecutive months as ranges: ['2024-02', '2024-03', '2024-05'] -> ['2024-02 to 2024-03', '2024-05']."""
    if not months:
        return []
    index = _month_index(pd.Series(sorted(months)))
    ordered = sorted(months)
    out, start = [], 0
    for k in range(1, len(ordered) + 1):
        if k == len(ordered) or index[k] != index[k - 1] + 1:
            out.append(ordered[start] if start == k - 1 else f"{ordered[start]} to {ordered[k - 1]}")
            start = k
    return out


def gap_lines(gaps: pd.DataFrame) -> list[str]:
    """One line per force with gaps: 'Hampshire Constabulary: missing 2018-04 to 2023-12 (69 months);
    partial 2024-02 (1,200 rows, usually 14,000)'."""
    lines = []
    for force, rows in gaps.groupby("force", sort=True):
        parts = []
        missing = rows.loc[rows["status"] == "missing", "month"].tolist()
        if missing:
            parts.append(f"missing {', '.join(runs(missing))} ({len(missing)} month{'s' * (len(missing) != 1)})")
        for row in rows[rows["status"] == "partial"].itertuples():
            parts.append(f"partial {row.month} ({int(row.count):,} rows, usually {float(row.usual):,.0f})")
        lines.append(f"{force}: " + "; ".join(parts))
    return lines


def uneven_lines(gaps: pd.DataFrame, stored: set[str]) -> list[str]:
    """One line per force missing months that other forces of the store hold ('Durham Constabulary
    holds no data for 2021-01 to 2021-09, which other forces' data cover'): those months are no data for
    that force's places (service.quality.held_months, the hotspots' exposure), not zero incidents.
    Months no force holds are the store's gaps, shown as gaps by the pages, and are left out here."""
    missing = gaps[(gaps["status"] == "missing") & gaps["month"].isin(stored)]
    return [f"{force} holds no data for {', '.join(runs(rows['month'].tolist()))}, which other forces' data cover"
            for force, rows in missing.groupby("force", sort=True)]


def in_window(frame: pd.DataFrame, date_from: str | None, date_to: str | None) -> pd.DataFrame:
    """The rows of a flag or gap table whose month falls in the window (None: open-ended)."""
    keep = np.ones(len(frame), dtype=bool)
    if date_from:
        keep &= (frame["month"] >= date_from).to_numpy()
    if date_to:
        keep &= (frame["month"] <= date_to).to_numpy()
    return frame[keep]


def report_lines(flags: pd.DataFrame, gaps: pd.DataFrame) -> list[str]:
    """What ``ingest`` prints and the methods sidecar keeps: one line per flagged month, one per force
    with coverage gaps."""
    return [f"data quality: {line}" for line in flag_lines(flags)] + [f"coverage: {line}" for line in gap_lines(gaps)]
