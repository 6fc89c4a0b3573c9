"""Map labels that never overlap: the two cities' names first, then hotspot numbers, then the other
towns, placed for the view the map opens at.

deck.gl's TextLayer draws every label where it is told, so at force zoom the numbers of nearby
hotspots pile onto each other and onto the city names (on the sample: 19/10/9/7 on Portsmouth,
18/12/14 on Southampton). Placement here is greedy in priority order, the way cartographic label
engines start: each label tries a ring of candidate positions around its anchor, nearest first, and
takes the first whose box is free. A hotspot number is never dropped: it moves further out and a
leader line joins it to its hotspot. A town label that finds no free place is dropped (the lesser
label); no label covers a hotspot. Positions are projected with Web Mercator at the opening zoom; zooming in only spreads
labels apart, since their text stays the same size in pixels while the ground stretches.

Box sizes are estimated from the font size: a proportional sans-serif averages about 0.6 em a
character (digits and capitals a little more), plus the TextLayer's background padding.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

TILE_PX = 512  # deck.gl's world size at zoom 0
CHAR_EM = 0.62
#: Hotspot numbers move out along these rings (pixels) before giving up; 16 directions each.
NUMBER_RINGS_PX = (20, 32, 46, 62, 82, 106)
#: Town names may shift a little, then are dropped; a city name (kind ``city``) may move further.
TOWN_RINGS_PX = (0, 12, 22, 34)
CITY_RINGS_PX = (0, 12, 22, 34, 48, 64, 82)
RINGS_PX = {"number": NUMBER_RINGS_PX, "city": CITY_RINGS_PX, "town": TOWN_RINGS_PX}
LEADER_MIN_PX = 24  # below this a number still reads as sitting on its hotspot
#: Half the side of the square kept clear around each hotspot (its outline at force zoom).
AVOID_HALF_PX = 7


@dataclass(frozen=True)
class Viewport:
    """What the map shows when it opens: centre, zoom and its size in pixels."""

    latitude: float
    longitude: float
    zoom: float
    width_px: int = 1050
    height_px: int = 640

    @classmethod
    def from_view(cls, view: dict, width_px: int = 1050, height_px: int = 640) -> Viewport:
        return cls(float(view["latitude"]), float(view["longitude"]), float(view["zoom"]), int(width_px), int(height_px))


def _world_px(lat: np.ndarray, lon: np.ndarray, zoom: float) -> tuple[np.ndarray, np.ndarray]:
    scale = TILE_PX * 2.0 ** zoom
    x = (np.asarray(lon, dtype=float) + 180.0) / 360.0 * scale
    phi = np.radians(np.clip(np.asarray(lat, dtype=float), -85.05, 85.05))
    y = (1 - np.log(np.tan(phi) + 1 / np.cos(phi)) / math.pi) / 2 * scale
    return x, y


def project(lat, lon, viewport: Viewport) -> tuple[np.ndarray, np.ndarray]:
    """Screen pixels (origin top left) of WGS84 points in ``viewport``."""
    x, y = _world_px(lat, lon, viewport.zoom)
    cx, cy = _world_px(np.array([viewport.latitude]), np.array([viewport.longitude]), viewport.zoom)
    return x - cx[0] + viewport.width_px / 2, y - cy[0] + viewport.height_px / 2


def unproject(x, y, viewport: Viewport) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 (lat, lon) of screen pixels in ``viewport``: the inverse of :func:`project`."""
    scale = TILE_PX * 2.0 ** viewport.zoom
    cx, cy = _world_px(np.array([viewport.latitude]), np.array([viewport.longitude]), viewport.zoom)
    wx = np.asarray(x, dtype=float) + cx[0] - viewport.width_px / 2
    wy = np.asarray(y, dtype=float) + cy[0] - viewport.height_px / 2
    lon = wx / scale * 360.0 - 180.0
    lat = np.degrees(np.arctan(np.sinh(math.pi * (1 - 2 * wy / scale))))
    return lat, lon


def box_size(text: str, size_px: float, padding_px: tuple[float, float] = (4, 2)) -> tuple[float, float]:
    """Width and height in pixels of a label's box (text plus background padding)."""
    return len(str(text)) * CHAR_EM * size_px + 2 * padding_px[0], 1.2 * size_px + 2 * padding_px[1]


def _overlaps(box: tuple[float, float, float, float], placed: list[tuple[float, float, float, float]]) -> bool:
    x0, y0, x1, y1 = box
    return any(x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1 for b in placed)


def _candidates(rings: tuple[int, ...]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for radius in rings:
        if radius == 0:
            out.append((0.0, 0.0))
            continue
        # Above first (where a reader looks for a label), then round the compass.
        for k in range(16):
            angle = -math.pi / 2 + k * math.pi / 8
            out.append((radius * math.cos(angle), radius * math.sin(angle)))
    return out


def place_labels(labels: pd.DataFrame, viewport: Viewport, avoid: pd.DataFrame | None = None) -> pd.DataFrame:
    """Place ``labels`` (columns ``text, lat, lon, size_px, kind, priority``; kind ``number``,
    ``city`` or ``town``; lower priority first, ties in row order) so that no two boxes overlap in ``viewport``,
    and none covers a point of ``avoid`` (columns ``lat, lon``: the hotspots themselves).

    A number starts just above its hotspot, so the outline under it stays visible. Returns the drawn labels with ``lat, lon`` moved to where the label
    sits, ``anchor_lat, anchor_lon`` where it belongs, ``leader`` (True when the label moved far
    enough to need a line back) and the box in screen pixels ``x0, y0, x1, y1``. Numbers are
    always drawn; towns that find no free place are left out.
    """
    columns = ["text", "lat", "lon", "size_px", "kind", "anchor_lat", "anchor_lon", "leader", "x0", "y0", "x1", "y1"]
    if labels is None or len(labels) == 0:
        return pd.DataFrame(columns=columns)
    ordered = labels.sort_values("priority", kind="stable").reset_index(drop=True)
    ax, ay = project(ordered["lat"].to_numpy(), ordered["lon"].to_numpy(), viewport)
    placed: list[tuple[float, float, float, float]] = []
    if avoid is not None and len(avoid):
        vx, vy = project(avoid["lat"].to_numpy(), avoid["lon"].to_numpy(), viewport)
        placed += [(x - AVOID_HALF_PX, y - AVOID_HALF_PX, x + AVOID_HALF_PX, y + AVOID_HALF_PX) for x, y in zip(vx, vy)]
    rows = []
    for i, label in enumerate(ordered.itertuples(index=False)):
        width, height = box_size(label.text, label.size_px)
        is_number = label.kind == "number"
        spot = None
        for dx, dy in _candidates(RINGS_PX.get(label.kind, TOWN_RINGS_PX)):
            x, y = ax[i] + dx, ay[i] + dy
            box = (x - width / 2, y - height / 2, x + width / 2, y + height / 2)
            if not _overlaps(box, placed):
                spot = (x, y, box, math.hypot(dx, dy))
                break
        if spot is None and not is_number:
            continue  # the lesser label gives way
        if spot is None:  # crowded beyond every ring: stack outward until free (rare; still no overlap)
            x, y = ax[i], ay[i] - NUMBER_RINGS_PX[-1]
            box = (x - width / 2, y - height / 2, x + width / 2, y + height / 2)
            while _overlaps(box, placed):
                y -= height + 2
                box = (x - width / 2, y - height / 2, x + width / 2, y + height / 2)
            spot = (x, y, box, abs(ay[i] - y))
        x, y, box, moved = spot
        placed.append(box)
        lat, lon = unproject(np.array([x]), np.array([y]), viewport)
        rows.append({"text": label.text, "lat": float(lat[0]), "lon": float(lon[0]), "size_px": label.size_px,
                     "kind": label.kind, "anchor_lat": float(label.lat), "anchor_lon": float(label.lon),
                     "leader": bool(is_number and moved >= LEADER_MIN_PX),
                     "x0": box[0], "y0": box[1], "x1": box[2], "y1": box[3]})
    return pd.DataFrame(rows, columns=columns)


def overlapping_pairs(placed: pd.DataFrame) -> list[tuple[str, str]]:
    """Pairs of label texts whose boxes overlap (for tests and checks: should be empty)."""
    boxes = placed[["x0", "y0", "x1", "y1"]].to_numpy(dtype=float)
    texts = placed["text"].astype(str).tolist()
    pairs = []
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            a, b = boxes[i], boxes[j]
            if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                pairs.append((texts[i], texts[j]))
    return pairs


__all__ = ["Viewport", "box_size", "overlapping_pairs", "place_labels", "project", "unproject"]
