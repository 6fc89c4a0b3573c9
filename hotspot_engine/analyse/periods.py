"""The Overview's comparison for whatever months are loaded (issue 26: a store of one calendar year
showed no figures at all, because the headline needs two complete financial years).

Three cases, each said in one line:

* 24 months or more: the last 12 months against the 12 before;
* 13 to 23 months: the months that have a year-earlier month in the store (the last n - 12) against
  those same months a year earlier (like with like: the same seasons);
* 12 months or fewer: totals alone (no earlier year exists, and comparing the first half of a year
  with the second mixes seasons with change).

Months are counted from the store's first to its last month (a month with no incident inside is a
month with a zero, not a missing month), so the windows are the calendar's, not the data's. But an
earlier window the store does not wholly hold (no incident of any kind in some month: real police.uk
downloads skip years) is no comparison: the real months 2018-03 and 2024-01..04 read "+1,039" against
an empty 2022-23, so then the current window's total stands alone.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from hotspot_engine.filters import months_between, shift_month

CASES = ("last-12", "same-months", "totals")


@dataclass(frozen=True)
class PeriodFigures:
    """``current``/``previous``: (first, last) months; ``previous`` None for totals alone."""

    case: str
    line: str
    months: int
    current: tuple[str, str]
    previous: tuple[str, str] | None
    count_current: int
    count_previous: int | None
    #: months of ``current`` the store holds (None: all of them); a mean per month divides by these
    months_held: int | None = None

    @property
    def per_month(self) -> float:
        """The mean per stored month of ``current``: an unstored month is no data, not a month of zeros
        (the real months read 86.6 a month over 2023-05..2024-04, four months of 260 over twelve)."""
        held = self.months_held if self.months_held is not None else len(months_between(*self.current))
        return self.count_current / max(held, 1)

    @property
    def change_pct(self) -> float | None:
        if self.count_previous is None or self.count_previous == 0:
            return None
        return (self.count_current / self.count_previous - 1.0) * 100.0


def _total(monthly: pd.DataFrame, first: str, last: str) -> int:
    months = monthly["month"].astype(str)
    return int(monthly.loc[(months >= first) & (months <= last), "count"].sum())


def compare_periods(monthly: pd.DataFrame, first: str, last: str, stored: set[str] | None = None,
                    held_by: str = "stored") -> PeriodFigures:
    """The comparison for the months ``first``..``last`` held by the store; ``monthly``: month
    ('YYYY-MM'), count; ``stored``: the months the store holds any incident in (None: every month);
    ``held_by``: how the line words those months ("stored", or "held by every police force of these
    places" when ``stored`` are the months every force of the places holds)."""
    n = len(months_between(first, last))
    if n >= 24:
        current, previous = (shift_month(last, -11), last), (shift_month(last, -23), shift_month(last, -12))
        line = (f"The last 12 months ({current[0]} to {current[1]}) against the 12 before ({previous[0]} to "
                f"{previous[1]}).")
        case = "last-12"
    elif n >= 13:
        current = (shift_month(first, 12), last)
        previous = (first, shift_month(last, -12))
        line = (f"{n} months are loaded: the last {n - 12} ({current[0]} to {current[1]}) against the same months a "
                f"year earlier ({previous[0]} to {previous[1]}); 24 months give the last 12 against the 12 before.")
        case = "same-months"
    else:
        current, previous = (first, last), None
        line = (f"{n} month{'s' if n != 1 else ''} loaded ({first} to {last}): no earlier year to compare with, so "
                "totals alone.")
        case = "totals"
    if previous is not None and stored is not None and not set(months_between(*previous)) <= stored:
        line = (f"{current[0]} to {current[1]}: the months before ({previous[0]} to {previous[1]}) are not all "
                f"{held_by}, so totals alone.")
        previous, case = None, "totals"
    window = months_between(*current)
    held = len(window) if stored is None else len(set(window) & stored)
    if held < len(window):
        line += f" Only {held} of the {len(window)} months {current[0]} to {current[1]} are {held_by}."
    return PeriodFigures(case, line, n, current, previous, _total(monthly, *current),
                         None if previous is None else _total(monthly, *previous), held)
