"""The annual report's headline figures, computed live for any filter set.

"Serious violence down 4.8% (-241) force-wide; 2,934 patrols in 19 hotspots; serious violence in
the hotspots down 17%": the latest complete financial year (April-March) against the one before,
with the hotspots identified on the year before (the 12 months before the patrols started), so the
comparison is not flattered by picking hotspots on the year being evaluated.
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


