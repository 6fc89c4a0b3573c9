"""Spatial displacement of crime around a hotspot: the Weighted Displacement Quotient.

Bowers & Johnson (2003), "Measuring the geographical displacement and diffusion of benefit effects
of crime prevention activity", Journal of Quantitative Criminology 19(3):275-301.
A = target (the hotspot), B = buffer around it, C = control area; 0 = before, 1 = after::

    SM  = A1/C1 - A0/C0     success measure: the target's change relative to the control
    BDM = B1/C1 - B0/C0     buffer displacement measure
    WDQ = BDM / SM

Uncertainty (issue 17: under no effect a bare WDQ read "diffusion" 32% of the time): every count is
redrawn from a Poisson distribution with the observed count as its mean (:func:`wdq_interval`), and
the 95% intervals of SM and WDQ are the central 95% of the redraws. A reading is given only when the
success measure's interval lies below zero; otherwise the hotspot's fall is within chance and no
displacement reading is made. The WDQ's interval is given only then too: when SM's redraws cross
zero the quotient's redraws run to plus and minus infinity, and their percentiles are no interval at
all (issue 27: a WDQ of +30.03 was shown with "-8.70 to +10.25", its SM being nearly zero).

Total Net Effect (Guerette & Bowers 2009, "Assessing the extent of crime displacement and diffusion
of benefits", Criminology 47(4)): incidents prevented in target and buffer together. Issue 27
measured the textbook form, (A0 C1/C0 - A1) + (B0 C1/C0 - B1) with Poisson-redraw intervals: it takes
the selection year as "before", so under no effect its interval excluded zero in 42% of simulated
histories. :func:`net_effect` derives it instead from the corrected counterfactual of target plus
buffer (see :mod:`hotspot_engine.analyse.rtm`): observed after-period total x (exp(-b) - 1), b the
corrected log effect, with the interval from b's (a monotone map, so the point is always inside).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


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
    if wdq > 1:
        return ("Diffusion larger than the direct effect: crime fell more in the buffer than in the hotspot, "
                "relative to the control area (WDQ > 1).")
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


WDQ_DRAWS = 4000


@dataclass(frozen=True)
class WdqInterval:
    """95% intervals from Poisson redraws of the six counts; ``significant`` when the SM interval lies
    below zero; ``reading`` the WDQ reading only then, otherwise why none is given. ``wdq_low`` and
    ``wdq_high`` are NaN unless ``significant`` (see the module docstring)."""

    sm_low: float
    sm_high: float
    wdq_low: float
    wdq_high: float
    significant: bool
    reading: str


@dataclass(frozen=True)
class NetEffect:
    """Total Net Effect: incidents fewer than the corrected counterfactual expects in target and
    buffer together over the after-period (positive = net benefit), with its 95% interval."""

    tne: float
    low: float
    high: float


def net_effect(observed_after: float, log_effect: float, log_se: float) -> NetEffect:
    """TNE from the corrected model of target + buffer: ``observed_after`` x (exp(-b) - 1), interval
    from b -/+ 1.96 se. NaN when the model gave no estimate."""
    nan = float("nan")
    if not (math.isfinite(log_effect) and math.isfinite(log_se) and log_se > 0 and observed_after >= 0):
        return NetEffect(nan, nan, nan)
    def prevented(b: float) -> float:
        return float(observed_after * math.expm1(-b))
    return NetEffect(prevented(log_effect), prevented(log_effect + 1.959964 * log_se),
                     prevented(log_effect - 1.959964 * log_se))


def wdq_interval(a0: float, a1: float, b0: float, b1: float, c0: float, c1: float,
                 draws: int = WDQ_DRAWS, seed: int = 0) -> WdqInterval:
    """Poisson-redraw intervals for SM, WDQ and TNE (see the module docstring). Seeded."""
    nan = float("nan")
    point = wdq(a0, a1, b0, b1, c0, c1)
    if not point.defined:
        return WdqInterval(nan, nan, nan, nan, False, point.reading)
    rng = np.random.default_rng(seed)
    A0, A1, B0, B1, C0, C1 = (rng.poisson(float(v), draws).astype(float) for v in (a0, a1, b0, b1, c0, c1))
    ok = (C0 > 0) & (C1 > 0)
    sm = A1[ok] / C1[ok] - A0[ok] / C0[ok]
    bdm = B1[ok] / C1[ok] - B0[ok] / C0[ok]
    nonzero = sm != 0
    quotient = bdm[nonzero] / sm[nonzero]
    sm_low, sm_high = np.percentile(sm, [2.5, 97.5])
    significant = bool(sm_high < 0)
    wdq_low, wdq_high = np.percentile(quotient, [2.5, 97.5]) if quotient.size and significant else (nan, nan)
    reading = point.reading if significant else (
        "No reading: the hotspot's change relative to the control area is within chance (the success "
        "measure's 95% interval includes zero), so there is no effect to be displaced.")
    return WdqInterval(float(sm_low), float(sm_high), float(wdq_low), float(wdq_high), significant, reading)
