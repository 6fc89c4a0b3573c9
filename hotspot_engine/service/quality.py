"""The data-quality guard as the front ends see it: rebuilt after every load, read back for the
ingest report, the pages' one-line warning, the Data page's coverage table and the exports' methods
sidecar (the test itself is :mod:`hotspot_engine.analyse.quality`)."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from hotspot_engine.analyse import quality as guard
from hotspot_engine.filters import Filters
from hotspot_engine.store import quality as tables


@dataclass
class QualityReport:
    """``flags``: analyse.quality.FLAG_COLUMNS; ``gaps``: analyse.quality.GAP_COLUMNS."""

    flags: pd.DataFrame
    gaps: pd.DataFrame

    def flag_lines(self) -> list[str]:
        return guard.flag_lines(self.flags)

    def gap_lines(self) -> list[str]:
        return guard.gap_lines(self.gaps)

    def lines(self) -> list[str]:
        """What ``ingest`` prints: one line per flagged month, one per force with coverage gaps."""
        return guard.report_lines(self.flags, self.gaps)

    def within(self, filters: Filters) -> QualityReport:
        """The flags and gaps in the filters' months."""
        return QualityReport(guard.in_window(self.flags, filters.date_from, filters.date_to),
                             guard.in_window(self.gaps, filters.date_from, filters.date_to))


def refresh_quality(con) -> QualityReport:
    """Judge every force-month of the store again and store the result (after every load)."""
    counts = tables.type_counts(con)
    report = QualityReport(guard.flag_months(counts), guard.coverage_gaps(counts))
    tables.replace_quality(con, report.flags, report.gaps)
    return report


def quality_report(con) -> QualityReport:
    """The flags and gaps as the last load left them."""
    flags, gaps = tables.read_quality(con)
    return QualityReport(flags, gaps)


def quality_warning(con, filters: Filters) -> str | None:
    """One line for every page whose window holds a flagged or partial month, or a month one of the
    filters' forces lacks while another holds it, else None."""
    report = quality_report(con).within(filters)
    partial = report.gaps[report.gaps["status"] == "partial"]
    uneven = _uneven(con, report.gaps, filters)
    if report.flags.empty and partial.empty:
        return uneven
    flagged = report.flag_lines()
    parts = flagged[:3] + ([f"and {len(flagged) - 3} more flagged month(s)"] if len(flagged) > 3 else [])
    parts += [f"{row.force} {row.month} is partial ({int(row.count):,} rows, usually {float(row.usual):,.0f})"
              for row in partial.itertuples()]
    action = ("left out of these figures ([quality] exclude_flagged_months)" if filters.exclude_flagged else
              "counted in these figures; set [quality] exclude_flagged_months = true to leave them out")
    return "Data quality: " + "; ".join(parts) + f". Months far off their neighbours are {action}." + (
        f" {uneven[len('Data quality: '):]}" if uneven else "")


def _uneven(con, gaps: pd.DataFrame, filters: Filters) -> str | None:
    """The forces of the filters' places that lack months another force holds: a store of Cleveland
    2021 and Durham 2021-10..12 drew a rise in October on the Overview that was Durham's data arriving,
    and chose no Durham hotspot on twelve months where Durham holds three."""
    from hotspot_engine.store.query import stored_months

    forces = tables.forces_in(con, filters)
    lines = guard.uneven_lines(gaps[gaps["force"].isin(forces)], stored_months(con))
    if not lines:
        return None
    return ("Data quality: " + "; ".join(lines) + ": figures that take in its places count those months as "
            "none there (choose months every force holds to compare like with like).")
