"""The synthetic sample's randomised patrol trial: six months after the report year (issue 28).

SYNTHETIC DATA. From 2024-04-01 for 183 days (to 2024-09-30) the sample's 19 hotspots follow a
randomised schedule (:func:`~hotspot_engine.analyse.trial_design.make_schedule`, seed
:data:`TRIAL_SEED`, half the days patrol, blocks of 4 weeks by weekday). Patrols follow it with the
compliance of a real team: each hotspot delivers a visit on 80-95% of its patrol days (mean about
:data:`COMPLIANCE`), and about :data:`CONTAMINATION` of control days are visited anyway. On a day a
hotspot is visited its incident rate is multiplied by :data:`RATE_RATIO` (0.8, a planted -20%); its
daily counts are otherwise negative-binomial around its 2023-24 level (overdispersion
:data:`OVERDISPERSION`) with the sample's weekday and hour patterns. The rest of the force area
carries on at its 2023-24 rate, so the monthly series do not fall off a cliff.

Written to separate files (``trial_incidents.csv``, ``trial_patrols.csv``, ``trial_schedule.csv``)
beside the sample's own, with its own random stream: the 2019-2024 sample and every figure pinned on
it stay exactly as they were. ``truth.json["trial"]`` records the design, the planted rate ratio,
the realised compliance and contamination, and the ITT ratio they imply.
:func:`load_trial_sample` loads the files into a store, adopts the 19 hotspots as the set
:data:`SET_NAME` and stores the schedule as :data:`SCHEDULE_NAME`, as a partnership would; all three
are the sample's, so removing the sample removes them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

TRIAL_START = "2024-04-01"
TRIAL_DAYS = 183
TRIAL_SEED = 2024
RATE_RATIO = 0.8
COMPLIANCE = 0.88
CONTAMINATION = 0.05
OVERDISPERSION = 0.2
SET_NAME = "HIPS hotspots 2024 (sample)"
SCHEDULE_NAME = "Sample trial 2024"
TRIAL_FILES = {"trial_incidents": "trial_incidents.csv", "trial_patrols": "trial_patrols.csv",
               "trial_schedule": "trial_schedule.csv"}
#: Share of a hotspot's incidents that are serious violence (the rest other violence).
HOTSPOT_SV_SHARE = 0.75


@dataclass(frozen=True)
class TrialSample:
    incidents: pd.DataFrame
    patrols: pd.DataFrame
    schedule: pd.DataFrame
    truth: dict


def trial_hotspots() -> pd.DataFrame:
    """The 19 planted hotspots as the trial's set: hotspot_id, hotspot_name, h3 (peak, uint64), district, csp."""
    from hotspot_engine.sample import _hotspot_table

    table = _hotspot_table()
    return table.rename(columns={"name": "hotspot_name"})


def _disks(hotspots: pd.DataFrame) -> list[np.ndarray]:
    import h3.api.basic_int as h3i

    return [np.array(h3i.grid_disk(int(c), 1), dtype=np.uint64) for c in hotspots["h3"]]


def _base_rates(incidents: pd.DataFrame, hotspots: pd.DataFrame) -> np.ndarray:
    """Each hotspot's serious-violence incidents a day in 2023-24 (its ring-1 disk), from the sample."""
    from hotspot_engine.reference import geography

    year = incidents[(incidents["occurred_at"] >= "2023-04-01") & (incidents["occurred_at"] < "2024-04-01")]
    cells = geography.cells_for_points(year["lat"].to_numpy(), year["lon"].to_numpy(), 9)
    counts = np.array([np.isin(cells, disk).sum() for disk in _disks(hotspots)], float)
    return counts * 0.7 / 366  # about 70% of the disk's incidents are serious violence


def generate_trial(incidents: pd.DataFrame, seed: int, scale: float = 1.0) -> TrialSample:
    """The trial's schedule, patrols and incidents (see the module docstring)."""
    from hotspot_engine.analyse.trial_design import TrialDesign, make_schedule
    from hotspot_engine.sample import _Generator

    gen = _Generator(seed, scale)
    gen.rng = rng = np.random.default_rng([int(seed), TRIAL_SEED])
    hotspots = trial_hotspots()
    design = TrialDesign(TRIAL_START, TRIAL_DAYS, 0.5, TRIAL_SEED)
    schedule = make_schedule(hotspots[["hotspot_id", "hotspot_name"]], design)
    spot = pd.Categorical(schedule["hotspot_id"], categories=hotspots["hotspot_id"]).codes
    patrol = (schedule["arm"] == "patrol").to_numpy()
    own = np.clip(rng.normal(COMPLIANCE, 0.05, len(hotspots)), 0.75, 0.97)
    visited = np.where(patrol, rng.uniform(size=patrol.size) < own[spot], rng.uniform(size=patrol.size) < CONTAMINATION)
    patrols = _patrols(schedule, hotspots, visited, gen)
    hot = _hotspot_incidents(schedule, hotspots, spot, visited, _base_rates(incidents, hotspots), gen)
    background = _background(gen, scale)
    frame = _finish(pd.concat([hot, background], ignore_index=True), gen)
    truth = _truth(design, patrol, visited, hotspots)
    return TrialSample(frame, patrols, schedule, truth)


def _truth(design, patrol: np.ndarray, visited: np.ndarray, hotspots: pd.DataFrame) -> dict:
    compliance, contamination = float(visited[patrol].mean()), float(visited[~patrol].mean())
    itt = (compliance * RATE_RATIO + 1 - compliance) / (contamination * RATE_RATIO + 1 - contamination)
    return {"trial": {"start": design.start, "days": design.days, "seed": design.seed, "patrol_share": 0.5,
                      "block_weeks": design.block_weeks, "rate_ratio": RATE_RATIO, "itt_rate_ratio": round(itt, 4),
                      "compliance": round(compliance, 4), "contamination": round(contamination, 4),
                      "overdispersion": OVERDISPERSION, "hotspots": int(len(hotspots)), "set": SET_NAME,
                      "schedule": SCHEDULE_NAME, "files": TRIAL_FILES}}


def _patrols(schedule: pd.DataFrame, hotspots: pd.DataFrame, visited: np.ndarray, gen) -> pd.DataFrame:
    """One logged visit on each visited hotspot-day, 10-20 minutes mostly (a few short), evening."""
    rng = gen.rng
    rows = schedule[visited]
    n = len(rows)
    disks = dict(zip(hotspots["hotspot_id"], _disks(hotspots)))
    cells = np.array([disks[h][rng.integers(0, 7)] for h in rows["hotspot_id"]], dtype=np.uint64)
    lat, lon = gen.points_near_cells(cells)
    hour = rng.choice(np.arange(16, 24), size=n)
    start = pd.to_datetime(rows["date"]).to_numpy() + pd.to_timedelta(hour, unit="h") + pd.to_timedelta(
        rng.integers(0, 60, n), unit="m")
    minutes = np.clip(np.round(rng.lognormal(np.log(14), 0.3, n)), 4, 45).astype(int)
    frame = pd.DataFrame({"start": pd.Series(start), "duration_minutes": minutes,
                          "hotspot_id": rows["hotspot_id"].to_numpy(), "lat": lat.round(6), "lon": lon.round(6),
                          "unit": [f"VCTF-{u}" for u in rng.integers(1, 7, n)]}).sort_values("start", kind="stable")
    frame["end"] = frame["start"] + pd.to_timedelta(frame["duration_minutes"], unit="m")
    frame["h3"] = [format(int(c), "x") for c in gen.geo.cells_for_points(frame["lat"].to_numpy(), frame["lon"].to_numpy(), 9)]
    frame.insert(0, "patrol_id", [f"TRIAL-{i:05d}" for i in range(1, n + 1)])
    for col in ("start", "end"):
        frame[col] = frame[col].dt.strftime("%Y-%m-%dT%H:%M:00")
    return frame[["patrol_id", "start", "end", "duration_minutes", "hotspot_id", "h3", "lat", "lon", "unit"]]


def _hotspot_incidents(schedule: pd.DataFrame, hotspots: pd.DataFrame, spot: np.ndarray, visited: np.ndarray,
                       rates: np.ndarray, gen) -> pd.DataFrame:
    """Daily counts per hotspot: negative-binomial, weekday pattern, x RATE_RATIO on visited days;
    all incidents (serious and other violence) scaled from the serious-violence rate."""
    from hotspot_engine.sample import WEEKDAY_WEIGHTS

    rng = gen.rng
    weekday = WEEKDAY_WEIGHTS[schedule["weekday"].to_numpy()] / WEEKDAY_WEIGHTS.mean()
    mu = rates[spot] / HOTSPOT_SV_SHARE * weekday * np.where(visited, RATE_RATIO, 1.0)
    counts = rng.poisson(mu * rng.gamma(1 / OVERDISPERSION, OVERDISPERSION, mu.size))
    row = np.repeat(np.arange(len(schedule)), counts)
    disks = _disks(hotspots)
    peak = hotspots["h3"].to_numpy(np.uint64)[spot[row]]
    ring = rng.uniform(size=row.size) > 0.8
    cells = peak.copy()
    cells[ring] = np.array([disks[s][rng.integers(1, 7)] for s in spot[row][ring]], dtype=np.uint64)
    lat, lon = gen.points_near_cells(cells)
    day = pd.to_datetime(schedule["date"]).to_numpy()[row]
    return pd.DataFrame({"lat": lat, "lon": lon, "day": day, "sv": rng.uniform(size=row.size) < HOTSPOT_SV_SHARE,
                         "planted": spot[row]})


def _background(gen, scale: float) -> pd.DataFrame:
    """The rest of the force area for the six months at its 2023-24 rate (SV and other violence)."""
    from hotspot_engine.sample import OTHER_VIOLENCE_PER_YEAR, SV_FY_TOTALS, WEEKDAY_WEIGHTS

    rng = gen.rng
    sv = int(round(SV_FY_TOTALS[2023] * 0.78 * TRIAL_DAYS / 366 * scale))
    other = int(round(OTHER_VIOLENCE_PER_YEAR * 0.94 * TRIAL_DAYS / 366 * scale))
    n = sv + other
    lat, lon = gen.points_in_lsoas(rng.choice(len(gen.lsoa_p), size=n, p=gen.lsoa_p))
    days = pd.date_range(TRIAL_START, periods=TRIAL_DAYS, freq="D")
    p = WEEKDAY_WEIGHTS[days.day_of_week]
    day = days.to_numpy()[rng.choice(TRIAL_DAYS, size=n, p=p / p.sum())]
    return pd.DataFrame({"lat": lat, "lon": lon, "day": day, "sv": np.arange(n) < sv, "planted": -1})


def _finish(frame: pd.DataFrame, gen) -> pd.DataFrame:
    """Times, offences, locations, LSOAs and ids in the sample's incident format."""
    from hotspot_engine.sample import GENERIC_STREETS, HOUR_WEIGHTS, PLANTED_HOTSPOTS, _lsoa_of

    rng = gen.rng
    n = len(frame)
    hour = rng.choice(24, size=n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    occurred = (pd.to_datetime(frame["day"]) + pd.to_timedelta(hour, unit="h")
                + pd.to_timedelta(rng.integers(0, 60, n), unit="m"))
    sv = frame["sv"].to_numpy(bool)
    ho = np.empty(n, dtype=object)
    text = np.empty(n, dtype=object)
    knife = np.zeros(n, dtype=bool)
    _, ho[sv], text[sv], knife[sv] = gen.sv_offences(int(sv.sum()))
    ho[~sv], text[~sv], knife[~sv] = gen.other_offences(int((~sv).sum()))
    streets = np.array(GENERIC_STREETS, dtype=object)[rng.integers(0, len(GENERIC_STREETS), n)]
    planted = frame["planted"].to_numpy()
    named = (planted >= 0) & (rng.uniform(size=n) < 0.75)
    streets[named] = np.array([h[3] for h in PLANTED_HOTSPOTS], dtype=object)[planted[named]]
    out = pd.DataFrame({"occurred_at": occurred, "lat": frame["lat"].round(6), "lon": frame["lon"].round(6),
                        "ho_code": ho, "offence": text, "knife_flag": np.where(knife, "Y", "N"),
                        "location": "On or near " + pd.Series(streets), "lsoa_code": None})
    out["lsoa_code"] = _lsoa_of(out["lat"].to_numpy(), out["lon"].to_numpy())
    out = out.sort_values("occurred_at", kind="stable").reset_index(drop=True)
    # HIPS-SYN-: every check of the sample (its label, "Remove the sample") finds the trial too.
    out.insert(0, "incident_id", [f"HIPS-SYN-TRL-{i:07d}" for i in range(1, n + 1)])
    out["occurred_at"] = out["occurred_at"].dt.strftime("%Y-%m-%dT%H:%M:00")
    return out


def write_trial_files(out: Path, trial: TrialSample) -> dict[str, Path]:
    """Write the trial's three CSVs (and the schedule's sidecar naming its set) into ``out``."""
    import json

    from hotspot_engine.write.sidecar import sidecar_paths

    paths = {key: out / name for key, name in TRIAL_FILES.items()}
    for key, frame in (("trial_incidents", trial.incidents), ("trial_patrols", trial.patrols),
                       ("trial_schedule", trial.schedule)):
        tmp = paths[key].with_suffix(".csv.tmp")
        frame.to_csv(tmp, index=False)
        tmp.replace(paths[key])
    meta = {"what": "trial schedule", "params": {"schedule": SCHEDULE_NAME, "set": SET_NAME, **trial.truth["trial"]}}
    sidecar_paths(paths["trial_schedule"])[0].write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return paths


def set_result(hotspots: pd.DataFrame):
    """The 19 planted hotspots (ring-1 disks) shaped as a hotspot selection, for ``sets.adopt``."""
    from types import SimpleNamespace

    from hotspot_engine.reference import geography

    rows = []
    for rank, (spot, disk) in enumerate(zip(hotspots.itertuples(index=False), _disks(hotspots)), start=1):
        rows += [{"h3": geography.cell_to_str(np.array([c], dtype=np.uint64))[0], "is_hotspot": True,
                  "hotspot_id": spot.hotspot_id, "hotspot_rank": rank, "hotspot_name": spot.hotspot_name,
                  "district": spot.district, "csp": spot.csp} for c in disk]
    return SimpleNamespace(cells=pd.DataFrame(rows), params={"method": "planted (synthetic sample)"})


def load_trial_sample(con, paths: dict[str, Path]) -> list:
    """Ingest the trial files, adopt the 19 hotspots as :data:`SET_NAME` and store the schedule as
    :data:`SCHEDULE_NAME` (both once: a store that has them keeps them)."""
    from hotspot_engine.analyse.trial_design import TrialDesign, check_schedule
    from hotspot_engine.filters import Filters
    from hotspot_engine.read.loading import ingest_paths
    from hotspot_engine.service import sets, trial
    from hotspot_engine.store import sets as set_store
    from hotspot_engine.store import trials as trial_store

    summaries = ingest_paths(con, [paths[k] for k in ("trial_incidents", "trial_patrols") if k in paths])
    if not set_store.exists(con, SET_NAME):
        window = Filters(date_from="2023-04", date_to="2024-03", sv_only=True)
        sets.adopt(con, SET_NAME, set_result(trial_hotspots()), window, {"method": "planted (synthetic sample)"},
                   Filters(sv_only=True), sets.SAMPLE_ADOPTER,
                   "the sample's 19 hotspots, patrolled on a randomised schedule")
    if "trial_schedule" in paths and not trial_store.exists(con, SCHEDULE_NAME):
        # The schedule the CLI makes on the set with the trial's seed is the one the sample followed.
        made = trial.plan(con, SET_NAME, TrialDesign(TRIAL_START, TRIAL_DAYS, 0.5, TRIAL_SEED), COMPLIANCE, RATE_RATIO)
        written = check_schedule(pd.read_csv(paths["trial_schedule"], dtype=str, keep_default_na=False))
        if list(written["arm"]) != list(made.schedule["arm"]):
            raise RuntimeError("the sample's trial schedule differs from the one its seed makes")
        trial.adopt(con, SCHEDULE_NAME, made, created_by=trial.SAMPLE_CREATOR)
    return summaries


__all__ = ["TrialSample", "TRIAL_FILES", "SET_NAME", "SCHEDULE_NAME", "generate_trial", "write_trial_files",
           "load_trial_sample", "trial_hotspots", "set_result"]
