"""Neighbouring classes of the magnitude legend can be told apart (desk and wall screen), for normal
vision and the three common colour-vision deficiencies: CIEDE2000 between adjacent swatches, as
drawn in the legend and as drawn on the map (the cell layer's opacity over the base's background).

The desk legend's "3" (#feb24c) and "4-5" (#fd8d3c) read 5.3 for a deuteranope (4.2 on the map);
hotspot_engine/render/classes.py gives the palettes and the figures.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from hotspot_engine.render import classes

ROOT = Path(__file__).resolve().parent.parent

#: Machado, Oliveira and Fernandes (2009), severity 1, applied to linear RGB.
SIMULATIONS = {
    "normal vision": np.eye(3),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
#: Neighbouring classes closer than this (CIEDE2000) look alike at a glance on a small swatch; on the
#: map, where the cells are drawn part-transparent over the base, a little less is asked.
MIN_SWATCH, MIN_ON_MAP = 10.0, 8.0


def _linear(rgb) -> np.ndarray:
    c = np.asarray(rgb, dtype=float) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab_of_linear(linear: np.ndarray) -> tuple[float, float, float]:
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ np.clip(linear, 0, 1)
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])  # D65 white
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return float(116 * f[1] - 16), float(500 * (f[0] - f[1])), float(200 * (f[1] - f[2]))


def _seen(rgb, vision: str) -> tuple[float, float, float]:
    """CIELAB of ``rgb`` as a viewer with ``vision`` sees it."""
    return _lab_of_linear(SIMULATIONS[vision] @ _linear(rgb))


def ciede2000(lab1, lab2) -> float:
    """CIEDE2000 colour difference (Sharma, Wu and Dalal 2005), kL = kC = kH = 1."""
    (L1, a1, b1), (L2, a2, b2) = lab1, lab2
    c_bar = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_bar**7 / (c_bar**7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1, c2 = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1 = math.degrees(math.atan2(b1, a1p)) % 360 if c1 else 0.0
    h2 = math.degrees(math.atan2(b2, a2p)) % 360 if c2 else 0.0
    dh = 0.0 if c1 * c2 == 0 else (h2 - h1 + 180) % 360 - 180
    d_big_h = 2 * math.sqrt(c1 * c2) * math.sin(math.radians(dh / 2))
    l_bar, c_barp = (L1 + L2) / 2, (c1 + c2) / 2
    if c1 * c2 == 0:
        h_bar = h1 + h2
    elif abs(h1 - h2) <= 180:
        h_bar = (h1 + h2) / 2
    else:
        h_bar = (h1 + h2 + 360) / 2 if h1 + h2 < 360 else (h1 + h2 - 360) / 2
    t = (1 - 0.17 * math.cos(math.radians(h_bar - 30)) + 0.24 * math.cos(math.radians(2 * h_bar))
         + 0.32 * math.cos(math.radians(3 * h_bar + 6)) - 0.20 * math.cos(math.radians(4 * h_bar - 63)))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / math.sqrt(20 + (l_bar - 50) ** 2)
    s_c, s_h = 1 + 0.045 * c_barp, 1 + 0.015 * c_barp * t
    r_t = (-2 * math.sqrt(c_barp**7 / (c_barp**7 + 25**7))
           * math.sin(math.radians(60 * math.exp(-(((h_bar - 275) / 25) ** 2)))))
    dl, dc, dhh = (L2 - L1) / s_l, (c2 - c1) / s_c, d_big_h / s_h
    return math.sqrt(dl**2 + dc**2 + dhh**2 + r_t * dc * dhh)


@pytest.mark.parametrize("lab1, lab2, expected", [  # Sharma, Wu and Dalal (2005), table 1: pairs 1, 7, 17, 25
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
])
def test_ciede2000_gives_the_published_differences(lab1, lab2, expected):
    assert ciede2000(lab1, lab2) == pytest.approx(expected, abs=1e-4)
    assert ciede2000(lab2, lab1) == pytest.approx(expected, abs=1e-4)


def _legend_colours(dark: bool) -> list:
    """The five swatches of a count legend as the map draws them (1 to 100 incidents a cell)."""
    cells = __import__("pandas").DataFrame({"count": np.arange(1, 101)})
    found = classes.magnitude_classes(cells, "count", dark=dark)
    assert len(found.legend.entries) == classes.MAGNITUDE_CLASSES
    return [colour for _, colour in found.legend.entries]


def _base(style: str) -> np.ndarray:
    colour = json.loads((ROOT / "static" / style).read_text(encoding="utf-8"))["layers"][0]["paint"]["background-color"]
    return np.array([int(colour[k:k + 2], 16) for k in (1, 3, 5)], dtype=float)


def _closest_neighbours(colours: list, over=None, opacity: float = 1.0) -> tuple[float, str]:
    drawn = [np.asarray(c, dtype=float) if over is None else opacity * np.asarray(c) + (1 - opacity) * over
             for c in colours]
    return min((ciede2000(_seen(a, v), _seen(b, v)), f"{v}: classes {k + 1} and {k + 2}")
               for v in SIMULATIONS for k, (a, b) in enumerate(zip(drawn, drawn[1:])))


@pytest.mark.parametrize("dark, style, opacity", [(False, "blank_style.json", 0.75), (True, "dark_style.json", 0.92)],
                         ids=["desk", "wall screen"])
def test_neighbouring_legend_classes_are_told_apart_for_every_common_vision(dark, style, opacity):
    colours = _legend_colours(dark)
    swatch, where = _closest_neighbours(colours)
    assert swatch >= MIN_SWATCH, f"legend swatches {where} differ by only {swatch:.1f} (CIEDE2000)"
    # Opacities of the desk (0.75) and wall-screen (0.92) cell layers: render/deck.py, deck_for_cells.
    on_map, where = _closest_neighbours(colours, _base(style), opacity)
    assert on_map >= MIN_ON_MAP, f"cells on the map {where} differ by only {on_map:.1f} (CIEDE2000)"


def test_the_old_desk_palette_fails_the_check():
    """The check tells the swatches the desk showed before apart from the ones it shows now."""
    old = [(254, 217, 118), (254, 178, 76), (253, 141, 60), (240, 59, 32), (189, 0, 38)]
    swatch, where = _closest_neighbours(old)
    assert swatch < 6 and where == "deuteranopia: classes 2 and 3"
