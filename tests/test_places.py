"""Micro-place areas and their names (hotspot_engine.analyse.places)."""
from __future__ import annotations

import h3
import numpy as np
import pandas as pd

from hotspot_engine.analyse.places import area_names, micro_places

CENTRE = h3.latlng_to_cell(50.9097, -1.4044, 9)  # central Southampton


def _ints(cells) -> np.ndarray:
    return np.array([h3.str_to_int(c) for c in cells], dtype=np.uint64)


def test_a_busy_region_splits_at_its_peaks_within_the_size_limit():
    disk = sorted(h3.grid_disk(CENTRE, 3))  # 37 touching cells: connected components would make one area
    cells = _ints(disk)
    priority = np.array([10.0 if c == CENTRE else 1.0 for c in disk])
    label = micro_places(cells, np.ones(cells.size, dtype=bool), priority, max_area_km2=1.0)
    km2 = h3.cell_area(CENTRE, "km^2")
    sizes = np.bincount(label)
    assert sizes.size >= 4 and sizes.max() * km2 <= 1.0
    assert label[disk.index(CENTRE)] == 0  # the peak starts the first area
    assert (label >= 0).all()


def test_unchosen_cells_get_no_area_and_separate_places_stay_apart():
    far = h3.latlng_to_cell(50.80, -1.09, 9)  # Portsmouth
    cells = _ints([CENTRE, far, h3.grid_ring(CENTRE, 1)[0]])
    label = micro_places(cells, np.array([True, True, False]), np.array([3.0, 2.0, 1.0]), 1.0)
    assert label.tolist() == [0, 1, -1]


def _locations(rows):
    return pd.DataFrame({"h3": _ints([r[0] for r in rows]), "location": [r[1] for r in rows], "n": [r[2] for r in rows]})


def test_names_use_streets_and_qualify_generic_places():
    ring = h3.grid_ring(CENTRE, 1)
    rows = [(CENTRE, "On or near Shopping Area", 9), (CENTRE, "On or near Above Bar Street", 6),
            (ring[0], "On or near Above Bar Street", 2), (ring[1], "On or near Portland Street", 1)]
    names = area_names([_ints([CENTRE, ring[0], ring[1]])], ["Southampton"], _locations(rows))
    assert names == ["Southampton - Above Bar Street (shopping area)"]


def test_spread_areas_take_two_streets_and_generic_only_areas_borrow_a_street():
    ring = h3.grid_ring(CENTRE, 1)
    rows = [(CENTRE, "On or near High Street", 4), (ring[0], "On or near East Street", 3),
            (ring[1], "On or near West Street", 3)]
    far = h3.latlng_to_cell(50.80, -1.09, 9)
    far_ring = h3.grid_ring(far, 1)
    rows += [(far, "On or near Parking Area", 7), (far_ring[0], "On or near Commercial Road", 1)]
    names = area_names([_ints([CENTRE] + ring[:2]), _ints([far])], ["Southampton", "Portsmouth"], _locations(rows))
    assert names == ["Southampton - High Street / East Street", "Portsmouth - Parking Area near Commercial Road"]


def test_names_are_unique_in_rank_order():
    a, b = CENTRE, h3.latlng_to_cell(50.92, -1.39, 9)
    rows = [(a, "On or near High Street", 5), (b, "On or near High Street", 4), (b, "On or near Bell Street", 1)]
    names = area_names([_ints([a]), _ints([b])], ["Southampton", "Southampton"], _locations(rows))
    assert names == ["Southampton - High Street", "Southampton - High Street / Bell Street"]


def test_police_uk_possessives_read_as_written():
    """Audit item 11: police.uk's "Jacob'S Street" and "St Mary'S Court" appeared so in names and briefings."""
    from hotspot_engine.analyse.places import tidy_place

    shown = tidy_place(pd.Series(["On or near Jacob'S Street", "St Mary\u2019S Court", "On or near O'Sullivan Road",
                                  "ST JAMES'S", None]))
    assert shown.tolist() == ["Jacob's Street", "St Mary\u2019s Court", "O'Sullivan Road", "ST JAMES'S", ""]
    rows = [(CENTRE, "On or near Jacob'S Street", 4), (CENTRE, "On or near St Mary'S Court", 4),
            (CENTRE, "On or near Portland Street", 3)]
    assert area_names([_ints([CENTRE])], ["Portsmouth"], _locations(rows)) == ["Portsmouth - Jacob's Street / St Mary's Court"]
