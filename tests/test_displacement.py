"""Weighted Displacement Quotient (Bowers & Johnson 2003, J Quant Criminol 19(3):275-301)."""
from __future__ import annotations

import math

import pytest

from hotspot_engine.analyse.displacement import wdq


def test_worked_example_complete_displacement():
    """DOMAIN.md worked check: A 100->50, B 100->150, C 100->100 gives SM -0.5, BDM +0.5, WDQ -1."""
    r = wdq(a0=100, a1=50, b0=100, b1=150, c0=100, c1=100)
    assert r.sm == pytest.approx(-0.5)
    assert r.bdm == pytest.approx(0.5)
    assert r.wdq == pytest.approx(-1.0)
    assert r.defined and r.undefined_reason is None
    assert "complete displacement" in r.reading.lower()


def test_control_area_scales_the_measures():
    """SM and BDM are ratios to the control: doubling C after halves the 'after' terms."""
    r = wdq(a0=100, a1=50, b0=100, b1=150, c0=100, c1=200)
    assert r.sm == pytest.approx(50 / 200 - 1)
    assert r.bdm == pytest.approx(150 / 200 - 1)
    assert r.wdq == pytest.approx((150 / 200 - 1) / (50 / 200 - 1))


@pytest.mark.parametrize(
    "b1, words",
    [
        (80, "diffusion of benefits"),    # buffer fell too: WDQ > 0
        (100, "no displacement"),         # buffer unchanged: WDQ = 0
        (120, "net benefit"),             # 0 > WDQ > -1
        (200, "outweighs"),               # WDQ < -1
    ],
)
def test_readings(b1, words):
    r = wdq(100, 50, 100, b1, 100, 100)
    assert words in r.reading.lower()


def test_no_success_is_said():
    r = wdq(100, 120, 100, 100, 100, 100)
    assert r.sm > 0 and "no success" in r.reading.lower()


@pytest.mark.parametrize(
    "args, words",
    [
        ((100, 50, 100, 150, 0, 100), "control area has no incidents before"),
        ((100, 50, 100, 150, 100, 0), "control area has no incidents after"),
        ((100, 50, 100, 150, 0, 0), "before and after"),
        ((100, 100, 100, 150, 100, 100), "success measure is zero"),
        ((100, -1, 100, 150, 100, 100), "negative"),
        ((100, float("nan"), 100, 150, 100, 100), "missing"),
    ],
)
def test_undefined_cases_say_why(args, words):
    r = wdq(*args)
    assert math.isnan(r.wdq) and not r.defined
    assert words in r.undefined_reason
    assert r.reading.startswith("WDQ undefined")
