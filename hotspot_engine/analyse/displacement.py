"""Spatial displacement of crime around a hotspot: the Weighted Displacement Quotient.

Bowers & Johnson (2003), "Measuring the geographical displacement and diffusion of benefit effects
of crime prevention activity", Journal of Quantitative Criminology 19(3):275-301.
A = target (the hotspot), B = buffer around it, C = control area; 0 = before, 1 = after::

    SM  = A1/C1 - A0/C0     success measure: the target's change relative to the control
    BDM = B1/C1 - B0/C0     buffer displacement measure
    WDQ = BDM / SM
"""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Wdq:
    """``wdq`` is NaN when undefined; ``undefined_reason`` then says why in plain English.
    ``reading`` is a one-sentence interpretation for the page and the table."""

    sm: float
    bdm: float
    wdq: float
    reading: str
    undefined_reason: str | None = None

    @property
    def defined(self) -> bool:
        return self.undefined_reason is None


def _reading(sm: float, wdq: float) -> str:
    """Interpretation bands of Bowers & Johnson (2003), as listed in DOMAIN.md."""
    if sm >= 0:
        return ("No success to measure displacement against: the hotspot did not fall relative to the "
                "control area (SM >= 0), so the WDQ is not meaningful.")
    if wdq > 0:
        return "Diffusion of benefits: crime also fell in the buffer around the hotspot (WDQ > 0)."
    if wdq == 0:
        return "No displacement: the buffer did not change relative to the control area (WDQ = 0)."
    if wdq > -1:
        return ("Some displacement into the buffer, but less than the reduction in the hotspot: "
                "a net benefit (0 > WDQ > -1).")
    if wdq == -1:
        return "Complete displacement: the rise in the buffer equals the fall in the hotspot (WDQ = -1)."
    return ("Displacement outweighs the benefit: the rise in the buffer is larger than the fall in the "
            "hotspot (WDQ < -1).")


def wdq(a0: float, a1: float, b0: float, b1: float, c0: float, c1: float) -> Wdq:
    """Weighted Displacement Quotient from before (0) and after (1) counts in target A, buffer B and
    control C. Never raises: undefined cases return NaN with the reason."""
    nan = float("nan")
    values = (a0, a1, b0, b1, c0, c1)
    if any(v is None or not math.isfinite(float(v)) or float(v) < 0 for v in values):
        reason = "a count is missing or negative"
        return Wdq(nan, nan, nan, f"WDQ undefined: {reason}.", reason)
    a0, a1, b0, b1, c0, c1 = map(float, values)
    if c0 == 0 or c1 == 0:
        which = "before and after" if c0 == 0 and c1 == 0 else ("before" if c0 == 0 else "after")
        reason = f"the control area has no incidents {which} the intervention, so the ratios cannot be formed"
        return Wdq(nan, nan, nan, f"WDQ undefined: {reason}.", reason)
    sm = a1 / c1 - a0 / c0
    bdm = b1 / c1 - b0 / c0
    if sm == 0:
        reason = "the success measure is zero (the hotspot changed exactly as the control area did)"
        return Wdq(sm, bdm, nan, f"WDQ undefined: {reason}.", reason)
    quotient = bdm / sm
    return Wdq(sm, bdm, quotient, _reading(sm, quotient))
