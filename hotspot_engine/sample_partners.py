"""The built-in synthetic partner sample: A&E assault attendances, ambulance call-outs, licensed premises.

SYNTHETIC DATA. Nothing here is a real attendance, call-out or premises; every file says so (the
owner reads "SYNTHETIC ...", the measure and categories carry "synthetic").

Consistent with the built-in incidents (:mod:`hotspot_engine.sample`), over its last two years
(April 2022 - March 2024):
- A&E assault attendances per LSOA and month: Poisson with mean ``AE_PER_POLICE`` times the LSOA's
  police-recorded violence in that month (the violence groups the ``partners`` command counts), so
  most LSOAs sit inside the funnel; in ``UNDERREPORTED_LSOAS`` LSOAs (LSOAs with a moderate police
  count, in different districts) the mean is ``UNDERREPORTING_FACTOR`` times higher: violence that
  reaches A&E but not the police (the Cardiff Model's reason to be). Listed in truth.json as
  ``partner_underreported_lsoas``.
- ambulance call-outs to assaults: a share of the violence-with-injury incidents, placed within
  about 60 m of them, plus extra call-outs in the under-reported LSOAs;
- licensed premises: clustered within about 250 m of the 19 night-time-economy hotspots, plus a
  scatter across the area weighted by police violence, given in British National Grid metres.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

FIRST_MONTH, LAST_MONTH = "2022-04", "2024-03"
AE_PER_POLICE = 0.3  # A&E assault attendances per police-recorded violent offence
UNDERREPORTED_LSOAS = 6
UNDERREPORTING_FACTOR = 4.0  # 3.5 left one planted LSOA inside the funnel once the incident sample gained year-to-year variation (issue 17)
AMBULANCE_SHARE = 0.2  # of violence-with-injury incidents that bring an ambulance
PREMISES_PER_HOTSPOT = (6, 16)
BACKGROUND_PREMISES = 400
#: HO codes the partners command does not count as violence (possession of weapons).
NOT_VIOLENCE_CODES = ("10A", "10B", "10C", "10D", "81", "90")
PREMISES_KINDS = (("pub", "23:00", 0.45), ("bar", "01:00", 0.25), ("nightclub", "03:00", 0.1),
                  ("late-night takeaway", "02:00", 0.15), ("off-licence", "22:00", 0.05))
NAME_FIRST = ("Red", "Golden", "Old", "Royal", "Black", "White", "King's", "Queen's", "Crown", "Star", "Ship",
              "Anchor", "Harbour", "Market", "Station", "Victoria", "George", "Swan", "Bell", "Plough")
NAME_SECOND = ("Lion", "Arms", "Tavern", "Inn", "Bar", "Rooms", "House", "Lounge", "Club", "Kitchen", "Vaults",
               "Social", "Hall", "Yard", "Tap")


@dataclass(frozen=True)
class PartnerSample:
    ae: pd.DataFrame  # lsoa_code, month, count, measure, owner, sharing
    ambulance: pd.DataFrame  # callout_id, datetime, lat, lon, category, owner, sharing
    premises: pd.DataFrame  # premises_id, name, easting, northing, kind, closing_time, owner, sharing
    truth: dict


def _violence_in_window(incidents: pd.DataFrame) -> pd.DataFrame:
    month = incidents["occurred_at"].astype(str).str[:7]
    keep = (month >= FIRST_MONTH) & (month <= LAST_MONTH) & ~incidents["ho_code"].isin(NOT_VIOLENCE_CODES)
    keep &= incidents["lsoa_code"].notna()
    return incidents.loc[keep].assign(month=month[keep])


def _underreported(police: pd.DataFrame, rng: np.random.Generator) -> list[str]:
    """LSOAs with a moderate police count (enough for the difference to show), one per district."""
    from hotspot_engine.reference.geography import lsoas

    totals = police.groupby("lsoa_code").size()
    district = lsoas().set_index("lsoa_code")["district"]
    candidates = totals[(totals >= 25) & (totals <= 60)].index.to_numpy()
    candidates = candidates[rng.permutation(candidates.size)]
    chosen: list[str] = []
    used: set[str] = set()
    for code in candidates:
        if district.get(code) not in used:
            chosen.append(str(code))
            used.add(district.get(code))
        if len(chosen) == UNDERREPORTED_LSOAS:
            break
    return sorted(chosen)


def _ae_counts(police: pd.DataFrame, planted: list[str], rng: np.random.Generator) -> pd.DataFrame:
    per_month = police.groupby(["lsoa_code", "month"]).size().rename("police").reset_index()
    mean = AE_PER_POLICE * per_month["police"].to_numpy(dtype=float)
    mean[per_month["lsoa_code"].isin(planted).to_numpy()] *= UNDERREPORTING_FACTOR
    counts = rng.poisson(mean)
    frame = per_month.assign(count=counts)[counts > 0]
    return pd.DataFrame({"lsoa_code": frame["lsoa_code"].to_numpy(), "month": frame["month"].to_numpy(),
                         "count": frame["count"].to_numpy(), "measure": "assault attendances (synthetic)",
                         "owner": "SYNTHETIC NHS emergency departments", "sharing": "partnership"})


def _ambulance(police: pd.DataFrame, planted: list[str], rng: np.random.Generator) -> pd.DataFrame:
    injury = police[police["offence"].str.contains("harm|Wounding|Murder|Manslaughter|Attempted", case=False,
                                                   regex=True, na=False)]
    picked = injury[rng.uniform(0, 1, len(injury)) < AMBULANCE_SHARE]
    extra = police[police["lsoa_code"].isin(planted)]
    extra = extra[rng.uniform(0, 1, len(extra)) < 0.5]
    calls = pd.concat([picked, extra], ignore_index=True)
    jitter = rng.normal(0, 0.0005, (len(calls), 2))  # about 55 m
    when = pd.to_datetime(calls["occurred_at"]) + pd.to_timedelta(rng.integers(5, 40, len(calls)), unit="m")
    frame = pd.DataFrame({"datetime": when.dt.strftime("%Y-%m-%dT%H:%M:00"),
                          "lat": (calls["lat"].to_numpy() + jitter[:, 0]).round(6),
                          "lon": (calls["lon"].to_numpy() + jitter[:, 1] * 1.6).round(6),
                          "category": "assault (synthetic)"}).sort_values("datetime", kind="stable")
    frame.insert(0, "callout_id", [f"AMB-SYN-{i:06d}" for i in range(1, len(frame) + 1)])
    return frame.assign(owner="SYNTHETIC ambulance service", sharing="restricted").reset_index(drop=True)


def _premises(hotspots: list[dict], police: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    from pyproj import Transformer

    lat, lon = [], []
    for spot in hotspots:
        n = int(rng.integers(*PREMISES_PER_HOTSPOT))
        lat += list(spot["lat"] + rng.normal(0, 0.0015, n))  # about 170 m
        lon += list(spot["lon"] + rng.normal(0, 0.0024, n))
    scatter = police.iloc[rng.choice(len(police), BACKGROUND_PREMISES, replace=len(police) < BACKGROUND_PREMISES)]
    lat += list(scatter["lat"] + rng.normal(0, 0.001, BACKGROUND_PREMISES))
    lon += list(scatter["lon"] + rng.normal(0, 0.0015, BACKGROUND_PREMISES))
    easting, northing = Transformer.from_crs(4326, 27700, always_xy=True).transform(np.array(lon), np.array(lat))
    kinds = rng.choice(len(PREMISES_KINDS), len(lat), p=[k[2] for k in PREMISES_KINDS])
    names = [f"The {NAME_FIRST[a]} {NAME_SECOND[b]} (synthetic)" for a, b in
             zip(rng.integers(0, len(NAME_FIRST), len(lat)), rng.integers(0, len(NAME_SECOND), len(lat)))]
    return pd.DataFrame({"premises_id": [f"LIC-SYN-{i:05d}" for i in range(1, len(lat) + 1)], "name": names,
                         "easting": np.round(easting).astype(int), "northing": np.round(northing).astype(int),
                         "kind": [PREMISES_KINDS[k][0] for k in kinds],
                         "closing_time": [PREMISES_KINDS[k][1] for k in kinds],
                         "owner": "SYNTHETIC licensing authorities", "sharing": "open"})


def generate_partners(incidents: pd.DataFrame, truth: dict, seed: int) -> PartnerSample:
    """The partner sample for the built-in incidents (columns as :class:`hotspot_engine.sample.Sample`)."""
    rng = np.random.default_rng(seed + 21)
    police = _violence_in_window(incidents)
    planted = _underreported(police, rng)
    partner_truth = {
        "partner_underreported_lsoas": planted,
        "partner_window": [FIRST_MONTH, LAST_MONTH],
        "partner_ae_per_police": AE_PER_POLICE,
        "partner_underreporting_factor": UNDERREPORTING_FACTOR,
    }
    return PartnerSample(_ae_counts(police, planted, rng), _ambulance(police, planted, rng),
                         _premises(truth.get("hotspots", []), police, rng), partner_truth)


PARTNER_FILES = {"partner_ae": "partner_ae_attendances.csv", "partner_ambulance": "partner_ambulance_callouts.csv",
                 "partner_premises": "partner_licensed_premises.csv"}
#: The --format and --source each file is loaded with (the app and the tests load them the same way).
PARTNER_LOADS = {"partner_ae": ("partner-areas", "A&E assaults"),
                 "partner_ambulance": ("partner-events", "Ambulance call-outs"),
                 "partner_premises": ("partner-places", "Licensed premises")}


def write_partner_files(out: Path, partners: PartnerSample) -> dict[str, Path]:
    """Write the three partner CSVs into ``out``; returns key -> path."""
    paths = {key: out / name for key, name in PARTNER_FILES.items()}
    for key, frame in (("partner_ae", partners.ae), ("partner_ambulance", partners.ambulance),
                       ("partner_premises", partners.premises)):
        tmp = paths[key].with_suffix(".csv.tmp")
        frame.to_csv(tmp, index=False)
        tmp.replace(paths[key])
    return paths


def load_partner_sample(con, paths: dict[str, Path]) -> list:
    """Ingest the partner files written by :func:`write_partner_files` with their layer names."""
    from hotspot_engine.read.loading import ingest_paths
    from hotspot_engine.read.partners import PartnerOptions

    summaries = []
    for key, (fmt, source) in PARTNER_LOADS.items():
        if key in paths:
            summaries += ingest_paths(con, [paths[key]], fmt=fmt, partner=PartnerOptions(source=source))
    return summaries
