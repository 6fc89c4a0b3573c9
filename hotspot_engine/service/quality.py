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


@dataclass
class ForceGaps:
    """The window's months some police force of the store holds no data for while another does.
    ``gaps``: district, month (every district of such a force, for the hotspot engine:
    :func:`hotspot_engine.analyse.hotspots.score_cells`); ``months``: force -> (months of the window
    the force holds, months of the window the store holds), for the forces with gaps only."""

    gaps: pd.DataFrame
    months: dict[str, tuple[int, int]]
    missing: dict[str, list[str]]

    def short_forces(self, districts: set[str]) -> dict[str, tuple[int, int]]:
        """Force -> (months held, months of the window) for the forces of ``districts`` with gaps."""
        forces = set(self.gaps.loc[self.gaps["district"].isin(districts), "force"])
        return {force: held for force, held in sorted(self.months.items()) if force in forces}

    def window_words(self, districts: set[str]) -> str:
        """'; Durham Constabulary 3 of 12 months' for a title's window ('' with no gaps)."""
        return "".join(f"; {force} {held} of {stored} months" for force, (held, stored)
                       in self.short_forces(districts).items())

    def lines(self, districts: set[str] | None = None) -> list[str]:
        """One sentence per force with gaps (among those of ``districts``, None: every force): what
        the figures do with its unstored months."""
        months = self.months if districts is None else self.short_forces(districts)
        return [f"{force} holds no data for {', '.join(guard.runs(self.missing[force]))}, which other forces' data "
                + (f"cover: its places' rates, predictions and tests count its {held} month{'s' * (held != 1)} held of "
                   f"the window's {stored}" if held else "cover: its places are not ranked (it holds none of the window's "
                   f"{stored} months)") + " (unstored months are no data, not zero incidents)"
                for force, (held, stored) in sorted(months.items())]


def no_data_months(con, filters: Filters) -> pd.DataFrame:
    """force, month (sorted, once each): the force-months of the filters' window (``date_from`` ..
    ``date_to``, both needed) that are no data for that force's places. A missing force-month (a
    coverage gap), and with ``exclude_flagged`` a flagged or partial one, whose rows every query then
    leaves out (store.query.where_incidents). The one rule :func:`force_gaps` (the hotspots) and
    :func:`held_months` (series, before/after figures, means a month) both count on: before, only the
    hotspots counted the flagged months, so a series kept a month the hotspots read as no data."""
    first, last = filters.date_from, filters.date_to
    if not first or not last:
        raise ValueError("no_data_months: the filters need date_from and date_to")
    missing = tables.missing_months(con, first, last)
    if not filters.exclude_flagged:
        return missing
    left_out = tables.left_out_months(con, first, last)
    if left_out.empty:
        return missing
    both = pd.concat([missing, left_out]) if len(missing) else left_out
    return both.drop_duplicates().sort_values(["force", "month"]).reset_index(drop=True)


def force_gaps(con, filters: Filters) -> ForceGaps:
    """The filters' window's months (``date_from``..``date_to``) that a force of the store holds no
    data for while another force holds them (:func:`no_data_months`: coverage gaps, and with
    ``exclude_flagged`` the force-months left out): a store of Cleveland 2021 and Durham 2021-10..12
    chose its hotspots with Durham's first nine months read as zero incidents. Months no force holds
    are the store's own gaps, left out of every figure already. A force's months missing between its
    own first and last month are treated the same way: a missing force-month is no data wherever it
    falls."""
    from hotspot_engine.filters import months_between
    from hotspot_engine.store.query import stored_months

    empty = ForceGaps(pd.DataFrame(columns=["district", "month", "force"]), {}, {})
    if not filters.date_from or not filters.date_to:
        return empty
    missing = no_data_months(con, filters)
    if missing.empty:
        return empty
    window = set(months_between(filters.date_from, filters.date_to)) & stored_months(con)
    missing = missing[missing["month"].isin(window)]
    if missing.empty:
        return empty
    districts = tables.district_forces(con)
    # A month every force lacks (a flagged month of the only force, left out) is no force's data: the
    # hotspots' month grid is the months of the rows kept (analyse.hotspots._held_mask), so it leaves
    # that month out already, as it does months no force holds; it is no one force's gap beside another's.
    lacking = missing.groupby("month")["force"].nunique()
    nowhere = set(lacking[lacking >= max(districts["force"].nunique(), 1)].index)
    missing, window = missing[~missing["month"].isin(nowhere)], window - nowhere
    if missing.empty:
        return empty
    gaps = missing.merge(districts, on="force")[["district", "month", "force"]]
    by_force = {str(force): sorted(rows["month"]) for force, rows in missing.groupby("force")}
    return ForceGaps(gaps.reset_index(drop=True), {force: (len(window) - len(months), len(window))
                                                   for force, months in by_force.items()}, by_force)


def held_months(con, filters: Filters) -> set[str]:
    """The stored months that every police force of the filters' places holds
    (:func:`~hotspot_engine.store.quality.forces_in`) data for: what a series, a before/after or a
    mean a month over those places may count. A month one of their forces lacks while another holds
    it is no data for those places, not a month of that force's zeros: on Cleveland 2021 + Durham
    2021-10..12, the Overview drew an October rise (Robbery 65 -> 102) that was Durham's data
    arriving. With one force (or forces holding the same months) and the default settings it is the
    store's stored months.

    The no-data force-months are :func:`no_data_months`' (the hotspots' rule), flagged and partial
    ones too with ``exclude_flagged``. Unlike :func:`force_gaps`, a month every force lacks is left
    out here as well: a series' months are the stored ones (query.stored_months, whatever the
    filters), so nothing else leaves out a flagged month of the only force. Counted as held, it read
    as that month's zeros: the sample with 2022-06 flagged had the headline (FY 2022-23 against
    2023-24) a rise of 4,570 -> 4,780 where the 11 months kept in both years fell, 4,570 -> 4,380."""
    from hotspot_engine.store.query import stored_months

    stored = stored_months(con)
    if not stored:
        return stored
    missing = no_data_months(con, filters.with_(date_from=min(stored), date_to=max(stored)))
    missing = missing[missing["month"].isin(stored)]
    if missing.empty:
        return stored
    return stored - set(missing.loc[missing["force"].isin(tables.forces_in(con, filters)), "month"])


def no_data_words(filters: Filters) -> str:
    """How a note names the months :func:`held_months` leaves out, after 'one police force of these
    places': with ``exclude_flagged`` they include a flagged month of the only force, which no other
    force holds."""
    return "holds no data for while another does" + (
        " (or whose rows that month are left out as flagged or partial)" if filters.exclude_flagged else "")


def _uneven(con, gaps: pd.DataFrame, filters: Filters) -> str | None:
    """The forces of the filters' places that lack months another force holds: a store of Cleveland
    2021 and Durham 2021-10..12 drew a rise in October on the Overview that was Durham's data arriving,
    and chose no Durham hotspot on twelve months where Durham holds three."""
    from hotspot_engine.store.query import stored_months

    forces = tables.forces_in(con, filters)
    lines = guard.uneven_lines(gaps[gaps["force"].isin(forces)], stored_months(con))
    if not lines:
        return None
    return ("Data quality: " + "; ".join(lines) + ": those months are no data for its places, not zero "
            "incidents (hotspot rates, predictions and tests count each force's months held; series, "
            "before/after figures and means a month leave those months out).")
