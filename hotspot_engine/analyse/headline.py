"""The annual report's headline figures, computed live for any filter set.

"Serious violence down 4.8% (-241) force-wide; 2,934 patrols in 19 hotspots; serious violence in
the hotspots down 17%": the latest complete financial year (April-March) against the one before,
with the hotspots identified on the year before (the 12 months before the patrols started). That
is how the report did it, and it flatters the figure: places picked for a high year fall back the
next year with no patrols at all (regression to the mean; in real police.uk data the busiest cells
fell 18% against the force a year later). The hotspot change here is the report's kind of figure,
shown as such; the estimate corrected for regression to the mean is the impact's
(:mod:`hotspot_engine.analyse.rtm`), and the Overview puts the two side by side.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Headline:
    fy_before: str  # '2022-23'
    fy_after: str  # '2023-24'
    sv_before: int
    sv_after: int
    hotspots: int
    hotspot_cells: int
    patrols_after: int
    patrol_minutes_after: float
    hotspot_sv_before: int
    hotspot_sv_after: int
    notes: list[str] = field(default_factory=list)
    #: The adopted set the hotspot figures count in (issue 26), or None when chosen on the year today.
    hotspot_set: str | None = None

    @property
    def sv_change(self) -> int:
        return self.sv_after - self.sv_before

    @property
    def sv_change_pct(self) -> float:
        return pct_change(self.sv_before, self.sv_after)

    @property
    def hotspot_change_pct(self) -> float:
        return pct_change(self.hotspot_sv_before, self.hotspot_sv_after)


def pct_change(before: float, after: float) -> float:
    return float("nan") if before == 0 else (after / before - 1.0) * 100.0


def latest_complete_fy(last_month: str) -> int:
    """Start year of the latest financial year whose March is in the data."""
    year, month = map(int, last_month.split("-"))
    return year - 1 if month >= 3 else year - 2


