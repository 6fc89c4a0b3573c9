"""One frozen value that carries every filter from the sidebar, the URL or the command line to SQL."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from hotspot_engine.errors import InputError

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
MIN_RES, MAX_RES, DEFAULT_RES = 7, 11, 9


def parse_month(value: str, what: str = "month") -> str:
    """Validate 'YYYY-MM' and return it unchanged."""
    m = MONTH_RE.match(value.strip()) if isinstance(value, str) else None
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise InputError(f"{what}: expected YYYY-MM, got '{value}'")
    return value.strip()


@dataclass(frozen=True)
class Filters:
    """Dates are inclusive months 'YYYY-MM'; empty tuples mean 'all'."""

    date_from: str | None = None
    date_to: str | None = None
    districts: tuple[str, ...] = ()
    csps: tuple[str, ...] = ()
    offences: tuple[str, ...] = ()
    sv_only: bool = False
    res: int = DEFAULT_RES
    #: Leave out force-months the data-quality guard flagged ([quality] exclude_flagged_months).
    exclude_flagged: bool = False

    def __post_init__(self) -> None:
        for name in ("date_from", "date_to"):
            value = getattr(self, name)
            if value is not None:
                parse_month(value, name.replace("_", " "))
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InputError(f"date range: from {self.date_from} is after to {self.date_to}")
        if not MIN_RES <= int(self.res) <= MAX_RES:
            raise InputError(f"resolution: must be between {MIN_RES} and {MAX_RES}, got {self.res}")
        for name in ("districts", "csps", "offences"):
            object.__setattr__(self, name, tuple(sorted(set(getattr(self, name)))))

    def with_(self, **changes) -> Filters:
        return replace(self, **changes)

    def period(self) -> str:
        """The months in words: "2024-01 to 2024-04"; an open end says what it takes ("all stored
        months", "2024-01 to the last stored month"). "start to end", for `impact` without --from,
        read as if the words were a placeholder (audit 3 item 13)."""
        if self.date_from and self.date_to:
            return f"{self.date_from} to {self.date_to}"
        if self.date_from:
            return f"{self.date_from} to the last stored month"
        if self.date_to:
            return f"the first stored month to {self.date_to}"
        return "all stored months"

    def describe(self) -> str:
        """One line for the export sidecar (filters_text). The page header words its own line,
        ui/common.describe, with offence labels rather than codes."""
        parts = [
            self.period(),
            "CSP: " + (", ".join(self.csps) if self.csps else "all"),
            "district: " + (", ".join(self.districts) if self.districts else "all"),
            "offences: " + (", ".join(self.offences) if self.offences else ("serious violence" if self.sv_only else "all")),
            f"H3 res {self.res}",
        ] + (["flagged months left out"] if self.exclude_flagged else [])
        return " | ".join(parts)


def months_between(first: str, last: str) -> list[str]:
    """Inclusive list of 'YYYY-MM' strings."""
    y, m = map(int, first.split("-"))
    ly, lm = map(int, last.split("-"))
    out: list[str] = []
    while (y, m) <= (ly, lm):
        out.append(f"{y:04d}-{m:02d}")
        m += 1
        if m == 13:
            y, m = y + 1, 1
    return out


def shift_month(month: str, delta: int) -> str:
    y, m = map(int, month.split("-"))
    index = y * 12 + (m - 1) + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def as_tuple(values: Iterable[str] | None) -> tuple[str, ...]:
    return tuple(values or ())
