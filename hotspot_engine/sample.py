"""The built-in synthetic HIPS sample: what the app shows on first start and what tests validate.

SYNTHETIC DATA. Nothing here is a real incident. The generator is deterministic for a seed and is
calibrated so the dashboard reproduces the headline of the HIPS VRP annual report for April 2023 to
March 2024: serious violence (SV) -4.8% (-241 offences, 5,021 -> 4,780) force-wide, 19 hotspots
with 2,934 patrols, and -17% SV inside the hotspots.

Structure:
- background SV and other violence placed in the 1,194 LSOAs of the 14 districts, more in dense
  (small) LSOAs, with seasonality (summer peak) and weekend-night peaks. The background is flatter
  than real Hampshire data (the cities hold less of it): with a real city's density, Getis-Ord Gi*
  against the force-wide mean flags whole city centres, and the sample is meant to show the
  planted hotspots clearly;
- 19 planted hotspots in real town-centre streets: a rate of SV concentrated in one H3 res-9 cell
  and its ring-1 neighbours. Each hotspot's level varies from year to year beyond Poisson noise
  (gamma; cell-level coefficient of variation PLACE_CV = 0.25, as measured between periods in real
  police.uk data, DOMAIN.md); hotspots follow the force-wide year-on-year change. The thin
  background keeps fixed LSOA shares: with year-to-year variation there too, Gi* found a twentieth
  hotspot in a lucky background cluster;
- regression to the mean, as in the report: the hotspots were chosen on 2022-23, a high year for
  them (their summed level 3% above their long-run level), and the patrols from April 2023 really
  cut their rate by TRUE_EFFECT = 10% beyond the force-wide -4.8%. The plain before/after inside
  the hotspots is the report's -17% (REPORT_CHANGE): the force-wide fall, the fall back from the
  high year and the true effect together. An evaluation that
  takes out regression to the mean should find about -10%, not -17%;
- calibration of totals: force-wide SV totals are fixed per year, and the 2023-24 SV count of the
  planted hotspots' peak cells, summed over all 19, is set to 83% of their 2022-23 count by moving
  incidents between them and the rest of the area (the cells in rings 1-5 around the peaks, a fifth
  of the planted incidents, are set to 83% one by one, as a method takes only some of them). Single hotspots keep their own
  year-to-year variation (an older sample calibrated every cell near a hotspot to -17% one by one,
  which hid regression to the mean from every test; issue 17).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hotspot_engine.errors import InputError
from hotspot_engine.sample_patrols import generate_patrols

INTERVENTION_DATE = "2023-04-01"
REPORT_CHANGE = -0.17  # the plain before/after in the hotspots the annual report published
TRUE_EFFECT = -0.10  # what the sample's patrols really do to the hotspots' rate
PLACE_CV = 0.25  # year-to-year variation of a place's level beyond Poisson (real police.uk: 0.23-0.31)
SELECTION_FY = 2022  # the year the hotspots were chosen on: a high year for them
#: Share of a hotspot's planted incidents in its peak cell; the rest go to its six ring-1
#: neighbours. Compact: with half of them on the ring, Gi* spilled over into rings 2-3 and split off
#: small extra areas (20-22 hotspots instead of 19).
PEAK_SHARE = 0.8
#: A hotspot's yearly level: its seven cells vary independently with CV PLACE_CV, so the disk as a
#: whole varies with CV PLACE_CV x sqrt(PEAK_SHARE^2 + (1 - PEAK_SHARE)^2 / 6) = 0.20.
HOTSPOT_CV = PLACE_CV * (PEAK_SHARE**2 + (1 - PEAK_SHARE) ** 2 / 6) ** 0.5
FIRST_FY, LAST_FY = 2019, 2023  # financial years starting April 2019 .. April 2023
SV_FY_TOTALS = {2019: 5180, 2020: 4608, 2021: 4897, 2022: 5021, 2023: 4780}
OTHER_VIOLENCE_PER_YEAR = 8000
PATROLS_2023_24 = 2934
DEFAULT_SEED = 20230401
HOTSPOT_SHARE_OF_SV = 0.22  # share of 2022-23 SV planted in the hotspot cells (background adds more)
LSOA_AREA_POWER = 0.4
DEFAULT_INCIDENTS = sum(SV_FY_TOTALS.values()) + OTHER_VIOLENCE_PER_YEAR * len(SV_FY_TOTALS)

#: (hotspot id, district, town, street, lat, lon): real town-centre streets across ten CSPs.
PLANTED_HOTSPOTS: tuple[tuple[str, str, str, str, float, float], ...] = (
    ("HS01", "Southampton", "Southampton", "Above Bar Street", 50.9063, -1.4043),
    ("HS02", "Southampton", "Southampton", "Portswood Road", 50.9235, -1.3960),
    ("HS03", "Southampton", "Southampton", "Bitterne Precinct", 50.9163, -1.3640),
    ("HS04", "Portsmouth", "Portsmouth", "Guildhall Walk", 50.7965, -1.0935),
    ("HS05", "Portsmouth", "Southsea", "Albert Road", 50.7862, -1.0700),
    ("HS06", "Portsmouth", "North End", "London Road", 50.8200, -1.0740),
    ("HS07", "Basingstoke and Deane", "Basingstoke", "London Street", 51.2640, -1.0860),
    ("HS08", "Rushmoor", "Aldershot", "Union Street", 51.2480, -0.7630),
    ("HS09", "Rushmoor", "Farnborough", "Queensmead", 51.2940, -0.7560),
    ("HS10", "Winchester", "Winchester", "High Street", 51.0620, -1.3150),
    ("HS11", "Eastleigh", "Eastleigh", "Market Street", 50.9690, -1.3500),
    ("HS12", "Fareham", "Fareham", "West Street", 50.8530, -1.1790),
    ("HS13", "Gosport", "Gosport", "High Street", 50.7950, -1.1230),
    ("HS14", "Havant", "Havant", "West Street", 50.8510, -0.9830),
    ("HS15", "Isle of Wight", "Newport", "High Street", 50.7010, -1.2920),
    ("HS16", "Isle of Wight", "Ryde", "Union Street", 50.7300, -1.1610),
    ("HS17", "Test Valley", "Andover", "High Street", 51.2080, -1.4790),
    ("HS18", "New Forest", "Totton", "Commercial Road", 50.9180, -1.4910),
    ("HS19", "Havant", "Waterlooville", "London Road", 50.8800, -1.0300),
)

#: SV group -> (share of SV, [(ho_code, offence text, share within group)], knife probability)
SV_MIX: dict[str, tuple[float, list[tuple[str, str, float]], float]] = {
    "murder": (0.003, [("1", "Murder", 0.85), ("4.1", "Manslaughter", 0.15)], 0.45),
    "attempted_murder": (0.009, [("2", "Attempted murder", 1.0)], 0.6),
    "gbh": (0.32, [("5D", "Wounding with intent to do grievous bodily harm (s18)", 0.45),
                   ("8N", "Inflicting grievous bodily harm without intent (s20)", 0.55)], 0.18),
    "robbery": (0.20, [("34B", "Robbery of personal property", 0.9), ("34A", "Robbery of business property", 0.1)], 0.25),
    "weapon_possession": (0.21, [("10D", "Possession of article with blade or point", 0.6),
                                 ("10C", "Possession of offensive weapon", 0.3), ("81", "Possession of firearm", 0.1)], 0.0),
    "violent_disorder": (0.0375, [("62A", "Violent disorder", 1.0)], 0.05),
    "riot": (0.0005, [("", "Riot", 1.0)], 0.0),
    "knife_injury": (0.22, [("8N", "Assault occasioning actual bodily harm", 1.0)], 1.0),
}
OTHER_MIX: list[tuple[str, str, float]] = [
    ("8N", "Assault occasioning actual bodily harm", 0.45),
    ("105A", "Assault without injury (common assault)", 0.55),
]
GENERIC_STREETS = (
    "High Street", "Station Road", "Church Road", "Park Road", "London Road", "Victoria Road",
    "Green Lane", "Manor Road", "Queens Road", "Kings Road", "Mill Lane", "School Lane",
    "The Avenue", "New Road", "North Street", "South Street", "Winchester Road", "Portsmouth Road",
    "Shopping Area", "Supermarket", "Parking Area", "Petrol Station", "Sports/Recreation Area",
    "Further/Higher Educational Building", "Hospital", "Nightclub", "Pedestrian Subway",
)
HOUR_WEIGHTS = np.array([6, 5, 4, 2.5, 1.5, 1, 1, 1.2, 1.6, 2, 2.4, 2.8, 3.2, 3.4, 3.6, 4, 4.5, 5,
                         5.5, 6, 6.5, 7, 7.5, 7])  # evening and night peak
WEEKDAY_WEIGHTS = np.array([0.85, 0.8, 0.85, 0.95, 1.2, 1.45, 1.25])  # Mon..Sun
MONTH_WEIGHTS = np.array([0.97, 1.05, 1.08, 1.12, 1.1, 1.0, 0.97, 0.93, 0.98, 0.9, 0.88, 0.97])  # Apr..Mar
RES = 9


@dataclass(frozen=True)
class Sample:
    incidents: pd.DataFrame  # incident_id, occurred_at, lat, lon, ho_code, offence, knife_flag, location, lsoa_code
    patrols: pd.DataFrame  # patrol_id, start, end, duration_minutes, hotspot_id, h3, lat, lon, unit
    truth: dict


def fy_of(month_index: np.ndarray) -> np.ndarray:
    """Month index 0 = April 2019; financial year start per month."""
    return FIRST_FY + month_index // 12


def _months() -> list[str]:
    out = []
    for fy in range(FIRST_FY, LAST_FY + 1):
        for k in range(12):
            m = 4 + k
            y = fy + (m > 12)
            out.append(f"{y:04d}-{(m - 1) % 12 + 1:02d}")
    return out


def _largest_remainder(values: np.ndarray, total: int) -> np.ndarray:
    base = np.floor(values).astype(int)
    short = int(total - base.sum())
    if short > 0:
        order = np.argsort(-(values - base), kind="stable")
        base[order[:short]] += 1
    return base


class _Generator:
    def __init__(self, seed: int, scale: float):
        from hotspot_engine.reference import geography

        self.rng = np.random.default_rng(seed)
        self.scale = scale
        self.geo = geography
        lsoa = geography.lsoas()
        self.lsoa_codes = lsoa["lsoa_code"].to_numpy()
        self.lsoa_geoms = lsoa.geometry.to_numpy()
        # Incidents follow people: LSOAs hold about equal populations, so small (dense, urban) LSOAs
        # get more incidents per km2. Weighting LSOAs by a power of their area between 0 (equal per
        # LSOA) and 1 (uniform by area) keeps background density in the cities low enough that only
        # the planted hotspots, not whole city centres, stand out in Gi*.
        area = lsoa["area_km2"].to_numpy()
        weight = np.maximum(area, 0.05) ** LSOA_AREA_POWER
        self.lsoa_p = weight / weight.sum()
        self.months = _months()

    # -- placement -----------------------------------------------------------------------------
    def points_in_lsoas(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Uniform random points inside the given LSOAs (vectorised rejection sampling per LSOA)."""
        import shapely

        lat = np.empty(index.size)
        lon = np.empty(index.size)
        order = np.argsort(index, kind="stable")
        uniq, starts, counts = np.unique(index[order], return_index=True, return_counts=True)
        for code, start, n in zip(uniq, starts, counts):
            geom = self.lsoa_geoms[code]
            minx, miny, maxx, maxy = geom.bounds
            got_x, got_y = [], []
            need = n
            while need > 0:
                k = max(16, int(need * 3))
                x = self.rng.uniform(minx, maxx, k)
                y = self.rng.uniform(miny, maxy, k)
                ok = shapely.contains_xy(geom, x, y)
                got_x.append(x[ok][:need])
                got_y.append(y[ok][:need])
                need -= int(min(ok.sum(), need))
            slots = order[start:start + n]
            lon[slots] = np.concatenate(got_x)
            lat[slots] = np.concatenate(got_y)
        return lat, lon

    def points_near_cells(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Random points inside the inscribed circle of each H3 cell (so they bin back to it)."""
        clat, clon = self.geo.cell_centres(cells)
        radius_m = 150.0 * np.sqrt(self.rng.uniform(0, 1, cells.size))  # res-9 inscribed radius ~151 m
        angle = self.rng.uniform(0, 2 * np.pi, cells.size)
        dlat = radius_m * np.cos(angle) / 111_320.0
        dlon = radius_m * np.sin(angle) / (111_320.0 * np.cos(np.radians(clat)))
        return clat + dlat * 0.95, clon + dlon * 0.95

    # -- time ----------------------------------------------------------------------------------
    def timestamps(self, month_index: np.ndarray) -> np.ndarray:
        months = pd.to_datetime(pd.Series(self.months)[month_index].to_numpy() + "-01")
        days_in = months.days_in_month.to_numpy()
        # Draw a day with weekday weights by rejection: cheap and exact enough.
        day = np.floor(self.rng.uniform(0, 1, month_index.size) * days_in).astype(int)
        for _ in range(3):
            wd = ((months + pd.to_timedelta(day, unit="D")).day_of_week).to_numpy()
            redo = self.rng.uniform(0, WEEKDAY_WEIGHTS.max(), month_index.size) > WEEKDAY_WEIGHTS[wd]
            day[redo] = np.floor(self.rng.uniform(0, 1, redo.sum()) * days_in[redo]).astype(int)
        hour = self.rng.choice(24, size=month_index.size, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
        minute = self.rng.integers(0, 60, month_index.size)
        return (months + pd.to_timedelta(day, unit="D") + pd.to_timedelta(hour, unit="h")
                + pd.to_timedelta(minute, unit="m")).to_numpy()

    def months_for_year(self, fy: int, n: int) -> np.ndarray:
        p = MONTH_WEIGHTS / MONTH_WEIGHTS.sum()
        counts = self.rng.multinomial(n, p)
        return np.repeat((fy - FIRST_FY) * 12 + np.arange(12), counts)

    # -- offences ------------------------------------------------------------------------------
    def sv_offences(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        groups = list(SV_MIX)
        shares = np.array([SV_MIX[g][0] for g in groups])
        gi = self.rng.choice(len(groups), size=n, p=shares / shares.sum())
        ho = np.empty(n, dtype=object)
        text = np.empty(n, dtype=object)
        knife = np.zeros(n, dtype=bool)
        for k, group in enumerate(groups):
            idx = np.flatnonzero(gi == k)
            if idx.size == 0:
                continue
            variants = SV_MIX[group][1]
            vi = self.rng.choice(len(variants), size=idx.size, p=[v[2] for v in variants])
            ho[idx] = np.array([v[0] for v in variants], dtype=object)[vi]
            text[idx] = np.array([v[1] for v in variants], dtype=object)[vi]
            knife[idx] = self.rng.uniform(0, 1, idx.size) < SV_MIX[group][2]
        return np.array(groups, dtype=object)[gi], ho, text, knife

    def other_offences(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        vi = self.rng.choice(len(OTHER_MIX), size=n, p=[v[2] for v in OTHER_MIX])
        return (np.array([v[0] for v in OTHER_MIX], dtype=object)[vi],
                np.array([v[1] for v in OTHER_MIX], dtype=object)[vi], np.zeros(n, dtype=bool))


def _hotspot_table() -> pd.DataFrame:
    from hotspot_engine.reference import geography

    frame = pd.DataFrame(PLANTED_HOTSPOTS, columns=["hotspot_id", "district", "town", "street", "lat", "lon"])
    frame["h3"] = geography.cells_for_points(frame["lat"].to_numpy(), frame["lon"].to_numpy(), RES)
    lookup = geography.csp_lookup().set_index("district")["csp"]
    frame["csp"] = frame["district"].map(lookup)
    frame["name"] = frame["town"] + " - " + frame["street"]
    return frame


def _cores(hotspots: pd.DataFrame) -> pd.Series:
    """Cell -> hotspot position for the ring-1 disks (where planted incidents go)."""
    import h3

    core: dict[int, int] = {}
    for pos, cell in enumerate(hotspots["h3"]):
        for c in h3.grid_disk(h3.int_to_str(int(cell)), 1):
            core[h3.str_to_int(c)] = pos
    return pd.Series(core, dtype="int64")


def generate(seed: int = DEFAULT_SEED, incidents: int | None = None) -> Sample:
    """Build the sample in memory. ``incidents`` scales every count (default about 65,000 rows)."""
    scale = (incidents / DEFAULT_INCIDENTS) if incidents else 1.0
    gen = _Generator(seed, scale)
    rng = gen.rng
    hotspots = _hotspot_table()
    n_hot = len(hotspots)
    core = _cores(hotspots)

    # Planted hotspot rates: uneven sizes, as in real town centres, each varying from year to year.
    size = rng.gamma(4.0, 1.0, n_hot)
    hot_rate = size / size.sum() * HOTSPOT_SHARE_OF_SV * SV_FY_TOTALS[2022] * scale
    year_level = _year_levels(rng, hot_rate, LAST_FY - FIRST_FY + 1)
    parts = []
    for fy in range(FIRST_FY, LAST_FY + 1):
        sv_total = int(round(SV_FY_TOTALS[fy] * scale))
        effect = (1 + TRUE_EFFECT) if fy >= 2023 else 1.0
        # Hotspots share the force-wide year-on-year change, as town centres do.
        force = SV_FY_TOTALS[fy] / SV_FY_TOTALS[SELECTION_FY]
        n_per_hot = rng.poisson(hot_rate * year_level[:, fy - FIRST_FY] * effect * force)
        n_hot_total = int(min(n_per_hot.sum(), sv_total))
        hot_idx = np.repeat(np.arange(n_hot), n_per_hot)[:n_hot_total]
        # Hotspot incidents: most in the peak cell, the rest spread over its ring-1 neighbours.
        peak = hotspots["h3"].to_numpy()[hot_idx]
        in_ring = rng.uniform(0, 1, hot_idx.size) > PEAK_SHARE
        cells = peak.copy()
        if in_ring.any():
            ring_cells = {pos: core.index[core.to_numpy() == pos].to_numpy(dtype=np.uint64) for pos in range(n_hot)}
            rings = [ring_cells[p][ring_cells[p] != hotspots["h3"].iloc[p]] for p in range(n_hot)]
            # One draw per incident, vectorised: Generator.integers with per-row bounds consumes the
            # stream exactly as one Generator.choice per row did, so the default sample is unchanged.
            sizes = np.array([r.size for r in rings])
            width = int(sizes.max())
            table = np.zeros((n_hot, width), dtype=np.uint64)
            for p, ring in enumerate(rings):
                table[p, :ring.size] = ring
            who = hot_idx[in_ring]
            cells[in_ring] = table[who, rng.integers(0, sizes[who])]
        hlat, hlon = gen.points_near_cells(cells.astype(np.uint64))
        hot_part = pd.DataFrame({"lat": hlat, "lon": hlon, "fy": fy, "kind": "sv", "planted": hot_idx})
        n_bg = sv_total - n_hot_total
        bg_lsoa = rng.choice(len(gen.lsoa_p), size=n_bg, p=gen.lsoa_p)
        blat, blon = gen.points_in_lsoas(bg_lsoa)
        bg_part = pd.DataFrame({"lat": blat, "lon": blon, "fy": fy, "kind": "sv", "planted": -1})
        n_other = int(round(OTHER_VIOLENCE_PER_YEAR * scale))
        # Other violence shares the night-time economy: a slice of it sits in the hotspot cells too.
        n_other_hot = int(n_other * 0.06)
        ohot = rng.integers(0, n_hot, n_other_hot)
        olat1, olon1 = gen.points_near_cells(hotspots["h3"].to_numpy()[ohot].astype(np.uint64))
        o_lsoa = rng.choice(len(gen.lsoa_p), size=n_other - n_other_hot, p=gen.lsoa_p)
        olat2, olon2 = gen.points_in_lsoas(o_lsoa)
        other_part = pd.DataFrame({
            "lat": np.concatenate([olat1, olat2]), "lon": np.concatenate([olon1, olon2]), "fy": fy,
            "kind": "other", "planted": np.concatenate([ohot, np.full(n_other - n_other_hot, -1)]),
        })
        parts += [hot_part, bg_part, other_part]
    frame = pd.concat(parts, ignore_index=True)
    frame["h3"] = gen.geo.cells_for_points(frame["lat"].to_numpy(), frame["lon"].to_numpy(), RES)
    frame = _calibrate(frame, core, hotspots["h3"].to_numpy(dtype=np.uint64), gen)
    return _finish(frame, hotspots, gen, seed)


def _year_levels(rng: np.random.Generator, rate: np.ndarray, years: int) -> np.ndarray:
    """(hotspot x year) multipliers of each hotspot's rate: independent gamma draws with mean 1 and
    CV HOTSPOT_CV, each year's rate-weighted mean rescaled to 1 (so the hotspots' summed level does
    not drift by chance), except the selection year, scaled by (1 + TRUE_EFFECT) x (force change
    2023-24) / (1 + REPORT_CHANGE) = 1.032: the high year the hotspots were chosen on."""
    level = rng.gamma(1.0 / HOTSPOT_CV**2, HOTSPOT_CV**2, (rate.size, years))
    level /= (rate @ level) / rate.sum()
    force_change = SV_FY_TOTALS[SELECTION_FY + 1] / SV_FY_TOTALS[SELECTION_FY]
    level[:, SELECTION_FY - FIRST_FY] *= (1 + TRUE_EFFECT) * force_change / (1 + REPORT_CHANGE)
    return level


AROUND_RINGS = 5  # cells this close to a peak (the peak aside) are set to 83% one by one


def _calibrate(frame: pd.DataFrame, core: pd.Series, peaks: np.ndarray, gen: _Generator) -> pd.DataFrame:
    """Make 2023-24 SV in the planted hotspots' peak cells, summed over all 19, 83% of their 2022-23
    count (the report's -17%), by moving 2023-24 incidents between them and the rest of the area;
    force-wide totals never change.

    Only the peaks' sum is fixed, so each hotspot (most of its incidents are in the peak) keeps its
    own year-to-year variation and the hotspots show regression to the mean as real data do. The
    cells in rings 1-5 around the peaks (a fifth of the planted incidents, and background) are set
    to 83% one by one: a method takes those of them that happened to be busy in 2022-23 and leaves
    the rest, and their fall back moved the plain figure 2-4 points off the report's.
    """
    import h3

    rng = gen.rng
    sv = frame["kind"].to_numpy() == "sv"
    fy = frame["fy"].to_numpy()
    cell = frame["h3"].to_numpy(dtype=np.uint64)
    around = np.array(sorted({h3.str_to_int(c) for p in peaks for c in h3.grid_disk(h3.int_to_str(int(p)), AROUND_RINGS)}
                             - {int(c) for c in peaks}), dtype=np.uint64)
    groups = [np.sort(peaks)] + [np.array([c], dtype=np.uint64) for c in around]
    before = pd.Series(cell[sv & (fy == SELECTION_FY)]).value_counts()
    after = pd.Series(cell[sv & (fy == SELECTION_FY + 1)]).value_counts()
    pre = np.array([before.reindex(g, fill_value=0).sum() for g in groups])
    post = np.array([after.reindex(g, fill_value=0).sum() for g in groups])
    # Cumulative rounding over the groups in descending order of their 2022-23 count.
    order = np.argsort(-pre, kind="stable")
    cum = np.round(np.cumsum(pre[order]) * (1 + REPORT_CHANGE)).astype(int)
    target = np.empty_like(pre)
    target[order] = np.diff(np.concatenate([[0], cum]))
    in_groups = np.isin(cell, np.concatenate(groups))
    outside = np.flatnonzero(sv & (fy == SELECTION_FY + 1) & ~in_groups)
    rng.shuffle(outside)
    lat, lon = frame["lat"].to_numpy().copy(), frame["lon"].to_numpy().copy()
    planted = frame["planted"].to_numpy().copy()
    taken = 0
    for group, have, want in zip(groups, post, target):
        excess = int(have - want)
        src = outside[taken:taken + abs(excess)]
        taken += abs(excess)
        rows = np.flatnonzero(sv & (fy == SELECTION_FY + 1) & np.isin(cell, group))
        if excess > 0:  # too many: move a random few to where other 2023-24 incidents are
            movers = rng.choice(rows, size=excess, replace=False)
            lat[movers] = lat[src] + rng.normal(0, 0.0004, excess)
            lon[movers] = lon[src] + rng.normal(0, 0.0004, excess)
            planted[movers] = -1
        elif excess < 0:  # too few: bring incidents in, into the group's own cells
            cells_needed = cell[rng.choice(rows, size=-excess)] if rows.size else np.repeat(group[:1], -excess)
            lat[src], lon[src] = gen.points_near_cells(cells_needed)
            planted[src] = core.reindex(cells_needed).fillna(-1).to_numpy(dtype=int)
    frame = frame.assign(lat=lat, lon=lon, planted=planted)
    frame["h3"] = gen.geo.cells_for_points(lat, lon, RES)
    return frame


def _finish(frame: pd.DataFrame, hotspots: pd.DataFrame, gen: _Generator, seed: int) -> Sample:
    rng = gen.rng
    n = len(frame)
    month_index = np.empty(n, dtype=int)
    for fy, idx in frame.groupby("fy").indices.items():
        month_index[idx] = rng.permutation(gen.months_for_year(int(fy), idx.size))
    occurred = gen.timestamps(month_index)
    sv = frame["kind"].to_numpy() == "sv"
    group = np.empty(n, dtype=object)
    ho = np.empty(n, dtype=object)
    text = np.empty(n, dtype=object)
    knife = np.zeros(n, dtype=bool)
    g, h, t, k = gen.sv_offences(int(sv.sum()))
    group[sv], ho[sv], text[sv], knife[sv] = g, h, t, k
    h2, t2, k2 = gen.other_offences(int((~sv).sum()))
    group[~sv], ho[~sv], text[~sv], knife[~sv] = "other_violence", h2, t2, k2
    planted = frame["planted"].to_numpy()
    streets = np.array(GENERIC_STREETS, dtype=object)[rng.integers(0, len(GENERIC_STREETS), n)]
    on_street = (planted >= 0) & (rng.uniform(0, 1, n) < 0.75)
    streets[on_street] = hotspots["street"].to_numpy()[planted[on_street]]
    lsoa = _lsoa_of(frame["lat"].to_numpy(), frame["lon"].to_numpy())
    number = rng.permutation(n) + 1
    # Sorted on the numbers behind the text (minute timestamps; zero-padded ids), which order the
    # same way as the strings and sort many times faster; the text is formatted after sorting.
    minute = np.asarray(occurred, dtype="datetime64[m]")
    order = np.lexsort((number, minute))
    incidents = pd.DataFrame({
        "incident_id": "HIPS-SYN-" + pd.Series(number[order]).astype(str).str.zfill(8),
        "occurred_at": pd.Series(np.datetime_as_string(minute[order], unit="m")) + ":00",
        "lat": frame["lat"].round(6).to_numpy()[order], "lon": frame["lon"].round(6).to_numpy()[order],
        "ho_code": ho[order], "offence": text[order], "knife_flag": np.where(knife, "Y", "N")[order],
        "location": ("On or near " + pd.Series(streets)).to_numpy()[order], "lsoa_code": lsoa[order],
    })
    patrols = generate_patrols(hotspots, gen)
    truth = _truth(frame.assign(month_index=month_index), hotspots, patrols, seed)
    return Sample(incidents, patrols, truth)


def _lsoa_of(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """LSOA code per point; None where a point sits in no LSOA (coastal slivers).

    Points in an H3 res-9 cell that lies wholly inside one LSOA and touches no other take that LSOA
    without a point test (most of them); the rest are tested exactly (STRtree). The cell outlines
    are grown by about a metre first, to cover the difference between H3's true cell edges and
    straight lines between its vertices. Same answer as testing every point, about 10 times faster
    at millions of points."""
    import shapely

    from hotspot_engine.reference import geography

    lsoa = geography.lsoas()
    codes = lsoa["lsoa_code"].to_numpy()
    tree = shapely.STRtree(lsoa.geometry.to_numpy())
    out = np.full(lat.size, None, dtype=object)
    cells = geography.cells_for_points(lat, lon, RES)
    unique, inverse = np.unique(cells, return_inverse=True)
    outlines = shapely.buffer(geography.cell_polygons(unique).to_numpy(), 1e-5)
    touching = np.bincount(tree.query(outlines, predicate="intersects")[0], minlength=unique.size)
    cell_idx, poly_idx = tree.query(outlines, predicate="within")
    single = touching[cell_idx] == 1
    lsoa_of_cell = np.full(unique.size, -1)
    lsoa_of_cell[cell_idx[single]] = poly_idx[single]
    per_point = lsoa_of_cell[inverse.ravel()]
    inside = per_point >= 0
    out[inside] = codes[per_point[inside]]
    rest = np.flatnonzero(~inside)
    if rest.size:
        pt_idx, poly_idx = tree.query(shapely.points(lon[rest], lat[rest]), predicate="within")
        out[rest[pt_idx]] = codes[poly_idx]
    return out


def _truth(frame: pd.DataFrame, hotspots: pd.DataFrame, patrols: pd.DataFrame, seed: int) -> dict:
    sv = frame[frame["kind"] == "sv"]
    fy_totals = {f"{fy}-{(fy + 1) % 100:02d}": int((sv["fy"] == fy).sum()) for fy in range(FIRST_FY, LAST_FY + 1)}
    core_cells = set()
    import h3

    for cell in hotspots["h3"]:
        core_cells |= {h3.str_to_int(c) for c in h3.grid_disk(h3.int_to_str(int(cell)), 1)}
    in_core = sv["h3"].isin(list(core_cells))
    hot_fy = {f"{fy}-{(fy + 1) % 100:02d}": int((in_core & (sv["fy"] == fy)).sum()) for fy in range(FIRST_FY, LAST_FY + 1)}
    return {
        "synthetic": True,
        "seed": seed,
        "intervention_date": INTERVENTION_DATE,
        "report_change": REPORT_CHANGE,
        "true_effect": TRUE_EFFECT,
        "place_cv": PLACE_CV,
        "selection_window": ["2022-04", "2023-03"],
        "hotspots": [
            {"hotspot_id": r.hotspot_id, "name": r.name, "lat": r.lat, "lon": r.lon, "district": r.district,
             "csp": r.csp, "h3": format(int(r.h3), "x")}
            for r in hotspots.itertuples(index=False)
        ],
        "fy_totals": fy_totals,
        "hotspot_fy_totals_ring1": hot_fy,
        "force_change_2023_24": {
            "offences": fy_totals["2023-24"] - fy_totals["2022-23"],
            "pct": round((fy_totals["2023-24"] / fy_totals["2022-23"] - 1) * 100, 2),
        },
        "patrols_2023_24": int(len(patrols)),
        "incidents": int(len(frame)),
    }


def write_sample(out_dir: str | Path, seed: int = DEFAULT_SEED, incidents: int | None = None) -> dict[str, Path]:
    """Write incidents.csv, patrols.csv and truth.json into ``out_dir``; returns the paths."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from hotspot_engine.write.atomic import staged_outputs

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out.name}: is a file; give a folder")
    sample = generate(seed, incidents)
    paths = {"incidents": out / "incidents.csv", "patrols": out / "patrols.csv", "truth": out / "truth.json"}
    # Partner layers (issue 21): their own module; their truth keys join truth.json.
    from hotspot_engine.sample_partners import generate_partners, write_partner_files

    partners = generate_partners(sample.incidents, sample.truth, seed)
    from hotspot_engine.sample_trial import generate_trial, write_trial_files  # issue 28: own module, own stream

    trial = generate_trial(sample.incidents, seed, (incidents / DEFAULT_INCIDENTS) if incidents else 1.0)
    with staged_outputs() as outputs:  # the incidents, patrols and truth appear together, or none
        for key in ("incidents", "patrols"):
            frame = getattr(sample, key)
            pacsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), outputs.stage(paths[key], "--out"))
        outputs.write_text(paths["truth"], json.dumps({**sample.truth, **partners.truth, **trial.truth}, indent=2), "--out")
    paths.update(write_partner_files(out, partners))
    paths.update(write_trial_files(out, trial))
    return paths
