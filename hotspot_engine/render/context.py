"""What every output says about itself: area, window, data source and its caveat, and the adopted
hotspot set's name when there is one (issue 27: every meeting output was titled "Serious violence
hotspots, 2025-01 to 2025-12", with no area and no proxy warning).

One small value, built once per output request by :func:`output_context` and passed to every
renderer (meeting PNG/PDF/HTML, briefing), so no renderer builds its own title and they cannot
disagree. ``set_name`` is optional: the adopted-sets work (issue 26) fills it.
"""
from __future__ import annotations

from dataclasses import dataclass

from hotspot_engine.filters import Filters
from hotspot_engine.reference.offences import PROXY_NOTE

FORCE_WIDE = "force-wide"


@dataclass(frozen=True)
class OutputContext:
    """``area``: CSPs/districts or "force-wide"; ``window``: "YYYY-MM to YYYY-MM"; ``source``: where
    the incidents come from; ``caveat``: the source's warning ("" when none); ``set_name``: the
    adopted hotspot set's name, or None."""

    area: str
    window: str
    source: str
    caveat: str = ""
    set_name: str | None = None
    subject: str = "Serious violence hotspots"
    quality: str = ""  # the data-quality guard's line for flagged or partial months in the window, or ""
    chance: str = ""  # how many hotspots stand out beyond chance (:func:`chance_line`), or ""

    @property
    def title(self) -> str:
        """One line: subject, area, window (and the set's name first when there is one)."""
        named = f"{self.set_name}: " if self.set_name else ""
        return f"{named}{self.subject}, {self.area}, {self.window}"

    @property
    def source_line(self) -> str:
        """The data source with its caveat, for a subtitle or footer."""
        return f"Data: {self.source}." + (f" {self.caveat}" if self.caveat else "")

    @property
    def subtitle(self) -> str:
        """The source line, and on a line of its own any flagged month the window uses (issue 24: a
        bad month is named on every output that uses it)."""
        return (self.source_line + (f"\n{self.chance}" if self.chance else "")
                + (f"\n{self.quality}" if self.quality else ""))

    def lines(self) -> list[str]:
        """Title, source line and data-quality line: what a sidecar or a page header shows."""
        return ([self.title, self.source_line] + ([self.chance] if self.chance else [])
                + ([self.quality] if self.quality else []))

    def as_dict(self) -> dict[str, str]:
        """For the methods sidecar."""
        return {"area": self.area, "window": self.window, "source": self.source, "caveat": self.caveat,
                "hotspot_set": self.set_name or ""}


def chance_line(flags, recorded_when: str = "they were chosen", short: bool = False) -> str:
    """One line on how many hotspots stand out from their surroundings beyond chance (``flags``: one
    value per hotspot, True/False, <NA> or None where it was not recorded). The map titles every
    hotspot a "Serious violence hotspot"; on the real 2024 months none of the 19 did (audit 2026-12-07
    item 4), and a meeting should know the ranking is then of the busiest places, not of places that
    stand out. '' when there are no hotspots. ``short``: the wall screen's one line of large type (the
    full sentence took three and pushed the side panel 14 px below a 1920x1080 screen)."""
    import pandas as pd

    values = pd.Series(flags, dtype="boolean") if flags is not None else pd.Series([], dtype="boolean")
    n = len(values)
    if n == 0:
        return ""
    if values.isna().any():
        if short:
            return "Beyond chance: not recorded"
        return (f"Whether these {n} hotspots stand out from their surroundings beyond chance was not recorded when "
                f"{recorded_when}.")
    k = int(values.sum())
    if short:
        return f"{k} of {n} stand out beyond chance" + (": busiest places, ranked" if k == 0 else "")
    if k == 0:
        return f"0 of {n} hotspots stand out from their surroundings beyond chance: these are the busiest places, ranked."
    if k == n:
        return f"All {n} hotspots stand out from their surroundings beyond chance."
    return (f"{k} of {n} hotspots stand out from their surroundings beyond chance; the other {n - k} are busy places, "
            "ranked.")


def area_of(filters: Filters) -> str:
    """The filters' CSPs and districts in words, or "force-wide"."""
    names = list(filters.csps) + list(filters.districts)
    return ", ".join(names) if names else FORCE_WIDE


def output_context(window: Filters, proxy_share: float, set_name: str | None = None, quality: str | None = None
                   ) -> OutputContext:
    """The context of outputs about ``window`` (its months and area). ``proxy_share``: the share of
    stored incidents classified from police.uk's broad types (store extent); any share above zero
    carries the proxy warning, since some of the hotspots then rest on it. ``quality``: the data-quality
    guard's line for the window (:func:`hotspot_engine.service.quality.quality_warning`), or None."""
    if proxy_share >= 1:
        source, caveat = "data.police.uk street-level crime (month and approximate location only)", PROXY_NOTE
    elif proxy_share > 0:
        source = f"force records with {proxy_share:.0%} from data.police.uk"
        caveat = PROXY_NOTE
    else:
        source, caveat = "force crime records", ""
    return OutputContext(area_of(window), f"{window.date_from} to {window.date_to}", source, caveat, set_name,
                         quality=quality or "")
