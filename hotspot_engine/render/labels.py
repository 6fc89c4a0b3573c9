"""Map labels that never overlap: one placer for every map (deck.gl on the pages, the meeting PNG
and PDF map, the briefing's street map, the offline HTML map), so no renderer piles labels up.

deck.gl's TextLayer draws every label where it is told, so at force zoom the numbers of nearby
hotspots pile onto each other and onto the city names (on the sample: 19/10/9/7 on Portsmouth,
18/12/14 on Southampton); the meeting PNG/PDF annotated each area at its point, the briefing put
snap-point names at their coordinates, and the HTML map drew every name (issue 27: overlaps in all
of them). Placement here (:func:`place_boxes`, in screen pixels) is greedy in priority order, the way
cartographic label engines start: each label tries a ring of candidate positions around its anchor,
nearest first, and takes the first whose box is free (and inside the frame, when one is given). A
hotspot number is never dropped: it moves further out and a leader line joins it to its hotspot. A
town or street label that finds no free place is dropped (the lesser label); no label covers a
hotspot.

A leader must be seen to be followed: a number whose box ends more than :data:`LEADER_GAP_PX` from its
hotspot gets one, and takes a place only where that line passes under no other label (and no later
label covers it). In a crowd (seven of the real 2024 Hampshire hotspots lie within 15 px of each other
in Southampton on a 1280x720 wall screen) the first numbers walled in the last, whose line then ran
under a box: number 9 read as a hotspot near Romsey (audit 3 item 8). So numbers keep clear of the
other hotspots nearby where they can (:data:`CLEAR_PX`), a walled-in or far-pushed number is placed
first on the next pass, and if that is not enough the city name beside it gives way. Measured
(tests/test_map_labels.py): on the real set, the sample's adopted set and the sample's truth, at nine
wall-screen map sizes from 640x360 to 1600x900 and at the desk, every number sits within 12 px of its
hotspot or has a leader under no label, none further than 150 px; on the real set the name Southampton
gives way at every wall size, Portsmouth on maps 801 px wide or less. Placing 19 numbers and 30 towns
takes 0.02-0.07 s of CPU (up to eight passes; 0.01 s before), measured on a shared machine.

The adapters differ only in how they get pixels: deck.gl projects with Web Mercator at the opening
zoom (:func:`place_labels`; zooming in only spreads labels apart, since text keeps its size in pixels
while the ground stretches); matplotlib measures each Text as its renderer will draw it
(:func:`place_texts`); the HTML map, whose opening zoom the browser chooses, is placed once per Leaflet
zoom (:func:`place_by_zoom`). For deck.gl and Leaflet, box sizes are estimated from the font size: a
proportional sans-serif averages about 0.6 em a character (digits and capitals a little more), plus
the background padding. Measured: the briefings of the sample and of the real Hampshire months
(19 pages each) and their meeting summaries have no two overlapping word boxes and none off the page
(tests/test_output_labels.py reads them back with poppler's pdftotext).
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
CITY_RINGS_PX = (0, 12, 22, 34, 48)
RINGS_PX = {"number": NUMBER_RINGS_PX, "city": CITY_RINGS_PX, "town": TOWN_RINGS_PX}
#: Further out, tried only when every ring above is taken (a number must find a place whose leader line
#: is clear; in Southampton on the real months, seven hotspots lie within 15 px at wall-screen zoom).
FAR_RINGS_PX = (46, 62, 82, 106, 132, 160, 196)
#: A number whose box ends further than this from its hotspot gets a leader line; nearer, it reads as
#: sitting on its hotspot (the hotspot's outline is about this size at force zoom).
LEADER_GAP_PX = 12
#: A number's box keeps this far from the other hotspots where it can (see ``_Taken.clear_of_others``).
CLEAR_PX = 12
#: ... but only this near its hotspot: further out, a nearer place beside the crowd is better.
CROWD_REACH_PX = 62
#: Greedy passes at most, each putting the numbers the last one walled in first (and from the
#: third on, without the city name nearest them).
REORDER_TRIES = 8
#: Passes at most that only bring far-out numbers (beyond :data:`CROWD_REACH_PX`) forward.
FAR_TRIES = 3
#: Half the side of the square kept clear around each hotspot (its outline at force zoom).
AVOID_HALF_PX = 7
#: Matplotlib settings for every PDF with labels: TrueType (Type 42) fonts, not the default Type 3, so a
#: PDF reader gets each word's true box (with Type 3, poppler read a 9.5 pt line as 18 pt tall) and the
#: text can be searched, copied and checked for overlaps.
PDF_FONTS: dict = {"pdf.fonttype": 42}


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


Box = tuple[float, float, float, float]
Segment = tuple[float, float, float, float]


def _overlaps(box: Box, placed: list[Box]) -> bool:
    x0, y0, x1, y1 = box
    return any(x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1 for b in placed)


def segment_crosses_box(segment: Segment, box: Box) -> bool:
    """True when the segment (x0, y0, x1, y1) passes through the inside of ``box`` (Liang-Barsky
    clipping; touching an edge does not count)."""
    x0, y0, x1, y1 = segment
    dx, dy = x1 - x0, y1 - y0
    t_in, t_out = 0.0, 1.0
    for p, q in ((-dx, x0 - box[0]), (dx, box[2] - x0), (-dy, y0 - box[1]), (dy, box[3] - y0)):
        if p == 0:
            if q <= 0:
                return False
            continue
        t = q / p
        if p < 0:
            t_in = max(t_in, t)
        else:
            t_out = min(t_out, t)
        if t_in >= t_out:
            return False
    return t_out - t_in > 1e-9


def gap_to_box(x: float, y: float, box: Box) -> float:
    """Pixels from the point (x, y) to the nearest point of ``box`` (0 inside it)."""
    return math.hypot(max(box[0] - x, 0.0, x - box[2]), max(box[1] - y, 0.0, y - box[3]))


def _candidates(rings: tuple[int, ...], directions: int = 16) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for radius in rings:
        if radius == 0:
            out.append((0.0, 0.0))
            continue
        # Above first (where a reader looks for a label), then round the compass.
        for k in range(directions):
            angle = -math.pi / 2 + k * 2 * math.pi / directions
            out.append((radius * math.cos(angle), radius * math.sin(angle)))
    return out


def _number_candidates() -> list[tuple[float, float]]:
    """A number's places: the rings, then (when a crowd of numbers has closed them) finer steps round
    the compass further out, so a leader line can pass between the boxes already placed."""
    return _candidates(NUMBER_RINGS_PX) + _candidates(FAR_RINGS_PX, directions=48)


@dataclass
class _Taken:
    """What a new label may not cover: boxes already placed (labels, a legend), the squares kept clear
    around the hotspots, and the leader lines already drawn. A number's own leader may not pass under
    a label or over another hotspot either: a line hidden under a box, or running through a second
    hotspot on its way, no longer says which hotspot the number belongs to (audit 3 item 8: number 9
    sat left of Southampton with its line under number 3's box, and read as a hotspot near Romsey)."""

    boxes: list[Box]
    squares: list[Box]
    leaders: list[Segment]
    anchors: np.ndarray  # the numbers' anchors (x, y): a number keeps its box clear of the others'

    def free(self, box: Box) -> bool:
        return (not _overlaps(box, self.boxes) and not _overlaps(box, self.squares)
                and not any(segment_crosses_box(line, box) for line in self.leaders))

    def clear_of_others(self, box: Box, own: tuple[float, float]) -> bool:
        """True when ``box`` keeps :data:`CLEAR_PX` from every number's anchor but its own: in a crowd,
        numbers that took the places between the hotspots walled in the later ones, whose leader could
        then leave only under a box (seven Southampton hotspots within 15 px on the real months)."""
        others = self.anchors[(self.anchors[:, 0] != own[0]) | (self.anchors[:, 1] != own[1])]
        dx = np.maximum(np.maximum(box[0] - others[:, 0], 0.0), others[:, 0] - box[2])
        dy = np.maximum(np.maximum(box[1] - others[:, 1], 0.0), others[:, 1] - box[3])
        return bool(np.all(np.hypot(dx, dy) >= CLEAR_PX))

    def clear_line(self, line: Segment) -> bool:
        return not any(segment_crosses_box(line, b) for b in self.boxes)


def _try_spot(row, dx: float, dy: float, half: tuple[float, float], taken: _Taken, inside,
              crowd: bool = False) -> tuple | None:
    """(x, y, box, leader segment or None) when the label of ``row`` may sit at anchor + (dx, dy);
    ``crowd``: keep the box clear of the other numbers' anchors too."""
    x, y = row.x + dx, row.y + dy
    box = (x - half[0], y - half[1], x + half[0], y + half[1])
    if not inside(box) or not taken.free(box) or (crowd and not taken.clear_of_others(box, (row.x, row.y))):
        return None
    line = None
    if row.kind == "number" and gap_to_box(row.x, row.y, box) > LEADER_GAP_PX:
        line = (x, y, row.x, row.y)
        if not taken.clear_line(line):
            return None
    return x, y, box, line


def _last_resort(row, half: tuple[float, float], taken: _Taken) -> tuple:
    """Crowded beyond every ring: stack upward until the box is free (rare; still no overlap)."""
    x, y = row.x, row.y - FAR_RINGS_PX[-1]
    box = (x - half[0], y - half[1], x + half[0], y + half[1])
    while math.isfinite(y) and not taken.free(box):  # a point that cannot be projected stays where it is
        y -= 2 * half[1] + 2
        box = (x - half[0], y - half[1], x + half[0], y + half[1])
    return x, y, box, (x, y, row.x, row.y)


_NUMBER_STEPS = _number_candidates()
#: (dx, dy, keep clear of the crowd): clear of the other hotspots within :data:`CROWD_REACH_PX`, then
#: anywhere. Clear at any distance first had sent a Portsmouth number 110 px away, to Sandown.
_NUMBER_TRIES = ([(dx, dy, True) for dx, dy in _NUMBER_STEPS if math.hypot(dx, dy) <= CROWD_REACH_PX]
                 + [(dx, dy, False) for dx, dy in _NUMBER_STEPS])


def place_boxes(boxes: pd.DataFrame, avoid_xy: np.ndarray | None = None,
                bounds: tuple[float, float, float, float] | None = None, avoid_half_px: float = AVOID_HALF_PX,
                gap_px: float = 0.0, blocked: list[tuple[float, float, float, float]] | None = None) -> pd.DataFrame:
    """The placer every map uses (deck.gl, the meeting PNG/PDF, the briefing, the offline HTML map), in
    screen pixels with y pointing down. ``boxes``: ``x, y`` (the anchor), ``w, h`` (the box), ``kind``
    (``number``, ``city`` or ``town``: its rings, :data:`RINGS_PX`) and ``priority`` (lower first, ties in
    row order). ``avoid_xy``: points no box may cover (the hotspots, or a street map's snap points);
    ``bounds``: (x0, y0, x1, y1) a box must lie inside (a page's map frame) or it tries the next place;
    ``gap_px``: clear space kept between boxes (a PDF reader's word boxes are a little larger than the
    ink); ``blocked``: boxes already taken (a legend, a scale bar).

    A number whose box ends more than :data:`LEADER_GAP_PX` from its anchor gets a leader line, and
    takes a place only where that line passes under no label; no later label covers it.

    Returns the placed boxes: ``index`` (the row of ``boxes``), ``x, y`` (where the box's centre sits),
    ``moved`` (pixels from the anchor), ``leader`` (True when a line joins the number to its anchor) and
    the box ``x0, y0, x1, y1``. Numbers are always placed; a town or street name that finds no free
    place is left out.
    """
    squares = [] if avoid_xy is None or not len(avoid_xy) else [
        (x - avoid_half_px, y - avoid_half_px, x + avoid_half_px, y + avoid_half_px) for x, y in np.asarray(avoid_xy, dtype=float)]
    order = list(boxes.sort_values("priority", kind="stable").index)
    priority, kinds = boxes["priority"].to_dict(), boxes["kind"].to_dict()
    best: tuple[tuple, list[dict]] | None = None
    for attempt in range(REORDER_TRIES):
        rows, stuck = _place_in_order(boxes.loc[order], squares, bounds, gap_px, list(blocked or []))
        far = [r["index"] for r in rows if kinds[r["index"]] == "number" and r["moved"] > CROWD_REACH_PX]
        names = sum(kinds[r["index"]] == "city" for r in rows)
        score = (len(stuck), -names, sum(r["moved"] for r in rows if r["index"] in far))
        if best is None or score < best[0]:
            best = (score, rows)
        if not stuck and (not far or attempt >= FAR_TRIES):
            break
        # A number walled in by the numbers placed before it (or pushed far out) goes first among its
        # equals next time: a crowd of hotspots closes every way out for the last of them. When that
        # is not enough, the city name placed nearest a walled-in number gives way (Southampton's
        # name, over seven hotspots at wall-screen zoom on the real months): a number is never
        # dropped, a name may be. The pass kept has the fewest walled-in numbers, then the most city
        # names, then the least far-out numbers.
        first = stuck or far
        rank = {i: k for k, i in enumerate(order)}
        order = sorted(order, key=lambda i: (priority[i], i not in first, rank[i]))
        if stuck and attempt >= 1:
            in_the_way = _names_in_the_way(boxes, rows, stuck)
            order = [i for i in order if i not in in_the_way]
    assert best is not None
    return pd.DataFrame(best[1], columns=["index", "x", "y", "moved", "leader", "x0", "y0", "x1", "y1"])


def _names_in_the_way(boxes: pd.DataFrame, rows: list[dict], stuck: list) -> set:
    """The city name placed nearest each walled-in number (within :data:`NUMBER_RINGS_PX`'s reach)."""
    kinds = boxes["kind"].to_dict()
    names = [r for r in rows if kinds[r["index"]] == "city"]
    out = set()
    for i in stuck:
        x, y = float(boxes.at[i, "x"]), float(boxes.at[i, "y"])
        near = [(gap_to_box(x, y, (r["x0"], r["y0"], r["x1"], r["y1"])), r["index"]) for r in names]
        near = [n for n in near if n[0] <= NUMBER_RINGS_PX[-1]]
        if near:
            out.add(min(near)[1])
    return out


def _place_in_order(boxes: pd.DataFrame, squares: list[Box], bounds: Box | None, gap_px: float,
                    blocked: list[Box]) -> tuple[list[dict], list]:
    """One greedy pass of :func:`place_boxes` in the order of ``boxes``: (placed rows, the numbers that
    found no place with a clear leader and were stacked by :func:`_last_resort`)."""
    numbers = boxes[boxes["kind"] == "number"]
    taken = _Taken(blocked, squares, [], numbers[["x", "y"]].to_numpy(dtype=float).reshape(-1, 2))

    def inside(box: Box, bounds: Box | None = bounds) -> bool:
        return bounds is None or (box[0] >= bounds[0] and box[1] >= bounds[1] and box[2] <= bounds[2]
                                  and box[3] <= bounds[3])

    half_gap = gap_px / 2
    rows, stuck = [], []
    for row in boxes.itertuples():
        half = (row.w / 2 + half_gap, row.h / 2 + half_gap)
        if row.kind == "number":  # first clear of the crowd nearby, then anywhere free
            tries = _NUMBER_TRIES
        else:
            tries = [(dx, dy, False) for dx, dy in _candidates(RINGS_PX.get(row.kind, TOWN_RINGS_PX))]
        # A number whose hotspot lies outside the frame (beyond a CSP's view) is placed by it, as it will
        # show when the reader pans there; a name outside the frame still has to fit inside or go.
        fits = inside if row.kind != "number" or inside((row.x, row.y, row.x, row.y)) else (lambda box: True)
        spot = next((s for dx, dy, crowd in tries if (s := _try_spot(row, dx, dy, half, taken, fits, crowd))), None)
        if spot is None and row.kind != "number":
            continue  # the lesser label gives way
        if spot is None:
            stuck.append(row.Index)
        x, y, box, line = spot if spot is not None else _last_resort(row, half, taken)
        taken.boxes.append(box)
        if line is not None:
            taken.leaders.append(line)
        rows.append({"index": row.Index, "x": x, "y": y, "moved": math.hypot(x - row.x, y - row.y),
                     "leader": line is not None, "x0": box[0] + half_gap, "y0": box[1] + half_gap,
                     "x1": box[2] - half_gap, "y1": box[3] - half_gap})
    return rows, stuck


def place_labels(labels: pd.DataFrame, viewport: Viewport, avoid: pd.DataFrame | None = None,
                 in_frame: bool = False) -> pd.DataFrame:
    """Place ``labels`` (columns ``text, lat, lon, size_px, kind, priority``; kind ``number``,
    ``city`` or ``town``; lower priority first, ties in row order) so that no two boxes overlap in ``viewport``,
    and none covers a point of ``avoid`` (columns ``lat, lon``: the hotspots themselves). ``in_frame``: keep
    every label inside the viewport (a map that opens at this view: a number pushed past the edge is lost).

    A number starts just above its hotspot, so the outline under it stays visible. Returns the drawn labels with ``lat, lon`` moved to where the label
    sits, ``anchor_lat, anchor_lon`` where it belongs, ``leader`` (True when the label moved far
    enough to need a line back) and the box in screen pixels ``x0, y0, x1, y1``. Numbers are
    always drawn; towns that find no free place are left out.
    """
    columns = ["text", "lat", "lon", "size_px", "kind", "anchor_lat", "anchor_lon", "leader", "x0", "y0", "x1", "y1"]
    if labels is None or len(labels) == 0:
        return pd.DataFrame(columns=columns)
    ordered = labels.reset_index(drop=True)
    ax, ay = project(ordered["lat"].to_numpy(), ordered["lon"].to_numpy(), viewport)
    sizes = [box_size(text, size) for text, size in zip(ordered["text"], ordered["size_px"])]
    boxes = pd.DataFrame({"x": ax, "y": ay, "w": [s[0] for s in sizes], "h": [s[1] for s in sizes],
                          "kind": ordered["kind"].to_numpy(), "priority": ordered["priority"].to_numpy()})
    avoid_xy = None
    if avoid is not None and len(avoid):
        avoid_xy = np.column_stack(project(avoid["lat"].to_numpy(), avoid["lon"].to_numpy(), viewport))
    spots = place_boxes(boxes, avoid_xy, bounds=(0, 0, viewport.width_px, viewport.height_px) if in_frame else None)
    if spots.empty:
        return pd.DataFrame(columns=columns)
    lat, lon = unproject(spots["x"].to_numpy(), spots["y"].to_numpy(), viewport)
    chosen = ordered.loc[spots["index"].to_numpy()]
    return pd.DataFrame({
        "text": chosen["text"].to_numpy(), "lat": lat, "lon": lon, "size_px": chosen["size_px"].to_numpy(),
        "kind": chosen["kind"].to_numpy(), "anchor_lat": chosen["lat"].astype(float).to_numpy(),
        "anchor_lon": chosen["lon"].astype(float).to_numpy(),
        "leader": spots["leader"].to_numpy(dtype=bool),
        "x0": spots["x0"].to_numpy(), "y0": spots["y0"].to_numpy(), "x1": spots["x1"].to_numpy(),
        "y1": spots["y1"].to_numpy()}, columns=columns)


def place_by_zoom(labels: pd.DataFrame, zooms: range, avoid: pd.DataFrame | None = None) -> dict[int, pd.DataFrame]:
    """For a slippy map that opens at a zoom the browser chooses (Leaflet's fitBounds in the offline
    HTML map): :func:`place_labels` at every whole Leaflet zoom in ``zooms``. Leaflet's tiles are 256 px
    where deck.gl's are 512, so Leaflet zoom z is deck.gl zoom z - 1. The placement does not depend on
    the window's size (nothing is bounded by the frame), so each zoom's labels hold whatever the size."""
    lat = float(labels["lat"].mean()) if len(labels) else 0.0
    lon = float(labels["lon"].mean()) if len(labels) else 0.0
    return {z: place_labels(labels, Viewport(lat, lon, z - 1.0), avoid) for z in zooms}


def place_texts(ax, texts: list, anchors: np.ndarray, kinds: list[str], priorities: list[float],
                avoid: np.ndarray | None = None, pad_px: float = 2.0, gap_px: float = 2.0,
                blockers: list | None = None) -> list[tuple]:
    """Matplotlib's side of the placer (meeting PNG/PDF map, briefing street map): ``texts`` are Text
    artists already on ``ax`` (drawn centred: ``ha='center', va='center'``) belonging at ``anchors``
    (data coordinates, one row each). Each is measured as the renderer will draw it (plus ``pad_px``
    for its background box), placed with :func:`place_boxes` inside the axes, and moved there; a
    label that finds no place is removed. ``avoid``: data points no label may cover; ``blockers``:
    artists already drawn on the map that no label may cover (its legend, scale bar). Returns (anchor,
    position) in data coordinates of the numbers that moved far enough to need a leader line."""
    if not texts:
        return []
    figure = ax.figure
    ax.apply_aspect()  # an equal-aspect map settles its frame only at draw time: settle it now
    renderer = figure.canvas.get_renderer()
    height_px = figure.bbox.height
    to_px = ax.transData.transform
    anchor_px = to_px(np.asarray(anchors, dtype=float))
    extents = [t.get_window_extent(renderer) for t in texts]
    frame = ax.get_window_extent(renderer)
    boxes = pd.DataFrame({"x": anchor_px[:, 0], "y": height_px - anchor_px[:, 1],
                          "w": [e.width + 2 * pad_px for e in extents], "h": [e.height + 2 * pad_px for e in extents],
                          "kind": kinds, "priority": priorities})
    avoid_xy = None
    if avoid is not None and len(avoid):
        avoid_px = to_px(np.asarray(avoid, dtype=float))
        avoid_xy = np.column_stack([avoid_px[:, 0], height_px - avoid_px[:, 1]])
    taken = [b.get_window_extent(renderer) for b in blockers or []]
    spots = place_boxes(boxes, avoid_xy, bounds=(frame.x0, height_px - frame.y1, frame.x1, height_px - frame.y0),
                        avoid_half_px=4, gap_px=gap_px,
                        blocked=[(b.x0, height_px - b.y1, b.x1, height_px - b.y0) for b in taken]).set_index("index")
    to_data = ax.transData.inverted().transform
    leaders = []
    for i, text in enumerate(texts):
        if i not in spots.index:
            text.remove()
            continue
        spot = spots.loc[i]
        position = to_data((spot["x"], height_px - spot["y"]))
        text.set_position((float(position[0]), float(position[1])))
        if spot["leader"]:
            leaders.append((tuple(np.asarray(anchors, dtype=float)[i]), (float(position[0]), float(position[1]))))
    return leaders


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


__all__ = ["Viewport", "box_size", "overlapping_pairs", "place_boxes", "place_by_zoom", "place_labels", "place_texts",
           "project", "unproject"]
