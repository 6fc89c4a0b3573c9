"""The synthetic sample's patrol logs: 2,934 patrols logged against the 19 hotspots in 2023-24.

SYNTHETIC DATA. How the 2,934 is counted: every row of ``patrols.csv`` is a patrol log naming one of
the 19 hotspots in its ``hotspot_id`` column, dated April 2023 to March 2024, as the HIPS VRP annual
report counted them ("2,934 patrols in 19 hotspots"), so ``export patrols --from 2023-04 --to
2024-03`` gives 2,934 rows. Where the officers actually were is the row's position: about
:data:`OUTSIDE_SHARE` of the logged patrols are placed on nearby streets two cells from the hotspot
centre, outside the area dosage is measured on, and the dosage table counts them as outside (the
``in_hotspot`` test is the position, not the log's label), while the Overview headline counts
logged hotspot patrols as the report did (2,934). Officers walk where the incidents are: a patrol's
cell follows the planted incidents (:data:`hotspot_engine.sample.PEAK_SHARE` of them in the peak
cell, the rest over its six neighbours). Spread evenly over the seven cells instead (the centre only
twice as often as each neighbour), 1,618 of the 2,934 fell inside the predicted places that are the
default since issue 24 (72 cells, 70 of them in the planted disks), and the dosage table showed 1
green, 0 amber and 18 red: patrols on cells where nothing happens, which no tasking would do. Now
2,481 of them fall inside, and the table shows 1 green, 7 amber and 11 red.

What makes it realistic rather than a toy (the old sample put every patrol in the hotspot's central
cell, and every hotspot was red):

- visits spread over each area's seven cells as its incidents are (mostly the peak cell);
- compliance that varies by hotspot: :data:`TIERS` give a few hotspots near-daily patrols (green
  against the default one-visit-a-day target), some most days (amber) and the rest a few a month
  (red), which is how uneven real deployments are;
- visit lengths around the Koper 10-15 minutes (log-normal, median 14, a few under 10);
- evening and night starts, six units.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

PATROLS_2023_24 = 2934
FIRST_DAY = pd.Timestamp("2023-04-01")
DAYS = 366  # 2023-04-01 .. 2024-03-31 (leap year)
#: Share of logged patrols positioned outside the hotspot's area (two cells from its centre).
OUTSIDE_SHARE = 0.04
#: (number of hotspots, weight of patrols each) from busiest to least patrolled: four near-daily,
#: five most days, ten a few times a month. Weights are scaled to 2,934 patrols in total.
TIERS = ((4, 340.0), (5, 230.0), (10, 42.0))
#: Patrol start hours: late afternoon to the early hours, when the team is on.
PATROL_HOUR_WEIGHTS = np.array([5, 4, 3, 1.5, 0.5, 0.3, 0.3, 0.5, 1, 1.5, 2, 2.5, 3, 3, 3.5, 4, 5, 6, 7, 8, 8.5,
                                8.5, 8, 6.5])


def _per_hotspot(n_hotspots: int, rng: np.random.Generator) -> np.ndarray:
    """Patrols per hotspot summing exactly to PATROLS_2023_24, tiers assigned in a seeded order."""
    weights = np.concatenate([np.full(n, w) for n, w in TIERS])[:n_hotspots]
    weights = np.pad(weights, (0, n_hotspots - weights.size), constant_values=TIERS[-1][1])
    weights = weights[rng.permutation(n_hotspots)]
    exact = PATROLS_2023_24 * weights / weights.sum()
    counts = np.floor(exact).astype(int)
    counts[np.argsort(-(exact - counts), kind="stable")[:PATROLS_2023_24 - counts.sum()]] += 1
    return counts


def _cells_for(centre: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """n cells around a hotspot centre: the ring-1 disk, weighted as the planted incidents are, or, for
    OUTSIDE_SHARE, ring 2."""
    import h3

    from hotspot_engine.sample import PEAK_SHARE

    origin = h3.int_to_str(int(centre))
    disk = [h3.str_to_int(c) for c in h3.grid_disk(origin, 1)]
    ring2 = [h3.str_to_int(c) for c in h3.grid_ring(origin, 2)]
    p = np.array([PEAK_SHARE if c == int(centre) else (1 - PEAK_SHARE) / (len(disk) - 1) for c in disk])
    cells = np.array(disk, dtype=np.uint64)[rng.choice(len(disk), size=n, p=p / p.sum())]
    outside = rng.uniform(0, 1, n) < OUTSIDE_SHARE
    cells[outside] = np.array(ring2, dtype=np.uint64)[rng.integers(0, len(ring2), int(outside.sum()))]
    return cells


def _days(n: int, rng: np.random.Generator) -> np.ndarray:
    """Day offsets in the year: distinct days while they last, so a busy hotspot is patrolled most days."""
    if n <= DAYS:
        return np.sort(rng.choice(DAYS, size=n, replace=False))
    return np.sort(np.concatenate([np.arange(DAYS), rng.integers(0, DAYS, n - DAYS)]))


def generate_patrols(hotspots: pd.DataFrame, gen) -> pd.DataFrame:
    """The patrol log: patrol_id, start, end, duration_minutes, hotspot_id, h3, lat, lon, unit.

    ``hotspots``: hotspot_id, h3 (the planted centre cells); ``gen``: the sample's generator (its
    ``rng``, ``points_near_cells`` and ``geo``), so the sample stays one seeded stream."""
    rng = gen.rng
    counts = _per_hotspot(len(hotspots), rng)
    ids, cells, days = [], [], []
    for (hotspot_id, centre), n in zip(hotspots[["hotspot_id", "h3"]].itertuples(index=False), counts):
        ids.append(np.full(n, hotspot_id, dtype=object))
        cells.append(_cells_for(int(centre), int(n), rng))
        days.append(_days(int(n), rng))
    which = np.concatenate(ids)
    cell = np.concatenate(cells)
    day = np.concatenate(days)
    n = which.size
    hour = rng.choice(24, size=n, p=PATROL_HOUR_WEIGHTS / PATROL_HOUR_WEIGHTS.sum())
    start = (FIRST_DAY + pd.to_timedelta(day, unit="D") + pd.to_timedelta(hour, unit="h")
             + pd.to_timedelta(rng.integers(0, 60, n), unit="m"))
    minutes = np.clip(np.round(rng.lognormal(np.log(14), 0.25, n)), 4, 45).astype(int)
    lat, lon = gen.points_near_cells(cell)
    frame = pd.DataFrame({
        "start": start, "duration_minutes": minutes, "hotspot_id": which, "lat": lat.round(6), "lon": lon.round(6),
        "unit": [f"VCTF-{u}" for u in rng.integers(1, 7, n)],
    }).sort_values(["start", "hotspot_id"], kind="stable").reset_index(drop=True)
    frame["end"] = frame["start"] + pd.to_timedelta(frame["duration_minutes"], unit="m")
    frame["h3"] = [format(int(c), "x") for c in gen.geo.cells_for_points(frame["lat"].to_numpy(), frame["lon"].to_numpy(), 9)]
    frame.insert(0, "patrol_id", [f"PAT-{i:05d}" for i in range(1, n + 1)])
    for col in ("start", "end"):
        frame[col] = frame[col].dt.strftime("%Y-%m-%dT%H:%M:00")
    return frame[["patrol_id", "start", "end", "duration_minutes", "hotspot_id", "h3", "lat", "lon", "unit"]]


__all__ = ["PATROLS_2023_24", "OUTSIDE_SHARE", "TIERS", "generate_patrols"]
