"""Partner layers: area counts per LSOA and month, dated events at points, and places.

The same rules as incidents (see :mod:`hotspot_engine.read.loading`): every row read is added,
already present or rejected with a reason; an unusable file raises one :class:`InputError` naming
the file and column, never a value. Reloading a file adds nothing: keys are built from the layer's
source and the row's own identity (the LSOA, month and measure of an area count; the id of an event
or place, or its content when the file has none).

LSOA codes: geodata/ holds the 1,194 LSOAs of 2011. police.uk has used 2021 codes since 2023 (82 of
the 1,248 codes in Hampshire's 2025 files are not 2011 codes), so a partner's code is accepted when
it is a 2011 code of the 14 districts, or a code the police rows in the store carry with an LSOA
name whose district part ("Southampton 012A" -> Southampton) is one of the 14 districts. Any other
code is rejected with the reason "LSOA outside the 14 districts" (or "bad LSOA code" when it is not
shaped like an ONS LSOA code at all).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hotspot_engine.errors import InputError
from hotspot_engine.read import loading as base
from hotspot_engine.read.cells import Occurrences

PARTNER_FORMATS = ("partner-areas", "partner-events", "partner-places")
KIND_OF_FORMAT = {"partner-areas": "partner_areas", "partner-events": "partner_events",
                  "partner-places": "partner_places"}
SHARING_LEVELS = ("open", "partnership", "restricted")
#: Without a stated level a layer is treated as the most restricted: small counts hidden everywhere.
DEFAULT_SHARING = "restricted"
DEFAULT_OWNER = "not stated"
LSOA_CODE = re.compile(r"^[EW]01\d{6}$")
TIME_OF_DAY = re.compile(r"^([01]?\d|2[0-4])[:.]?([0-5]\d)(?::[0-5]\d)?$")

#: Accepted header spellings per field (normalised like loading's: case, spaces, punctuation ignored).
PARTNER_ALIASES: dict[str, tuple[str, ...]] = {
    "lsoa_code": ("lsoacode", "lsoa11cd", "lsoa21cd", "lsoa", "lsoacd"),
    "month": ("month", "period", "yearmonth", "monthyear"),
    "count": ("count", "attendances", "n", "number", "total", "value"),
    "measure": ("measure", "indicator", "metric", "what"),
    "id": ("eventid", "callid", "incidentid", "callout", "calloutid", "id", "reference", "ref", "premisesid",
           "placeid", "licenceno", "licencenumber", "licenceid"),
    "date": ("occurredat", "datetime", "date", "eventdate", "calldate", "timestamp", "attendeddate"),
    "lat": base.ALIASES["lat"],
    "lon": base.ALIASES["lon"],
    "easting": base.ALIASES["easting"],
    "northing": base.ALIASES["northing"],
    "category": ("category", "type", "calltype", "eventtype", "reason", "nature"),
    "name": ("name", "premisesname", "placename", "premises", "site", "sitename"),
    "kind": ("kind", "premisestype", "placetype", "type", "category", "licencetype"),
    "closing_time": ("closingtime", "closes", "closing", "closetime", "latestclosing", "hoursto"),
    "owner": ("owner", "dataowner", "agency", "provider"),
    "sharing": ("sharing", "sharinglevel", "classification", "protectivemarking"),
}


@dataclass(frozen=True)
class PartnerOptions:
    """What ``ingest`` was told about a partner file: its layer name, owner and sharing level.

    ``None`` means "not given": the file's own ``owner``/``sharing`` columns are used, else
    the defaults (owner "not stated", sharing "restricted"); the source defaults to the file name."""

    source: str | None = None
    owner: str | None = None
    sharing: str | None = None

    def __post_init__(self) -> None:
        if self.sharing is not None and self.sharing not in SHARING_LEVELS:
            raise InputError(f"--sharing: choose from {', '.join(SHARING_LEVELS)}")
        if self.source is not None and not self.source.strip():
            raise InputError("--source: must not be empty")


def _pick(columns: list[str], field_name: str, taken: set[str]) -> str | None:
    keyed: dict[str, str] = {}
    for col in columns:
        keyed.setdefault(base._key(col), col)
    for alias in PARTNER_ALIASES[field_name]:
        found = keyed.get(alias)
        if found is not None and found not in taken:
            return found
    return None


def _pick_all(columns: list[str], fields: tuple[str, ...]) -> dict[str, str | None]:
    used: dict[str, str | None] = {}
    taken: set[str] = set()
    for name in fields:
        used[name] = _pick(columns, name, taken)
        if used[name]:
            taken.add(used[name])  # type: ignore[arg-type]
    return used


def detect_partner_format(columns: list[str]) -> str | None:
    """'partner-areas' | 'partner-events' | 'partner-places' from a header, or None.

    Conservative, so incident files keep their own detection (and their own error messages):
    area counts need an LSOA code, a month and a count and no coordinates; events need a date, a
    place, no offence column and an event id or category column; places need a name and a place
    and no date."""
    keys = {base._key(c) for c in columns}
    if keys & {"crimetype", "fallswithin", "hocode", "offence", "offencetype", "patrolid", "callsign"}:
        return None
    cols = _pick_all(columns, ("lsoa_code", "month", "count", "date", "lat", "lon", "easting", "northing",
                               "name", "category"))
    place = bool((cols["lat"] and cols["lon"]) or (cols["easting"] and cols["northing"]))
    if cols["lsoa_code"] and cols["month"] and cols["count"] and not place:
        return "partner-areas"
    event_marker = keys & {"eventid", "callid", "callout", "calloutid"} or cols["category"]
    if cols["date"] and place and event_marker:
        return "partner-events"
    if cols["name"] and place and not cols["date"] and not cols["month"]:
        return "partner-places"
    return None


# --------------------------------------------------------------------------------------------
# Owner, sharing and source per row
# --------------------------------------------------------------------------------------------


def _stewardship(frame: pd.DataFrame, cols: dict[str, str | None], options: PartnerOptions, name: str,
                 rej: base._Rejects, n: int) -> tuple[np.ndarray, np.ndarray, str]:
    """(owner per row, sharing per row, source) from the options, else the file's columns, else
    the defaults. A sharing value outside the three levels rejects its row."""
    source = (options.source or base.Path(name).stem).strip()
    owner = np.full(n, options.owner or DEFAULT_OWNER, dtype=object)
    if options.owner is None and cols.get("owner"):
        given = base._text(frame[cols["owner"]]).astype(object).to_numpy()
        has = ~pd.isna(given)
        owner[has] = given[has]
    sharing = np.full(n, options.sharing or DEFAULT_SHARING, dtype=object)
    if options.sharing is None and cols.get("sharing"):
        given = base._text(frame[cols["sharing"]]).str.lower().astype(object).to_numpy()
        has = ~pd.isna(given)
        sharing[has] = given[has]
        rej.add(has & ~np.isin(sharing, SHARING_LEVELS), cols["sharing"], "bad sharing level")
    return owner, sharing, source


def _check_required(name: str, what: str, cols: dict[str, str | None], needed: dict[str, str]) -> None:
    missing = [label for field_name, label in needed.items() if not cols.get(field_name)]
    if missing:
        raise InputError(f"{name}: {what} need column(s) {', '.join(missing)}")


# --------------------------------------------------------------------------------------------
# Area counts
# --------------------------------------------------------------------------------------------


def _counts(series: pd.Series, column: str, rej: base._Rejects) -> np.ndarray:
    values, unparseable = base._numbers(series)
    rej.add(unparseable, column, "unparseable number")
    rej.add(np.isnan(values) & ~unparseable, column, "no count")
    with np.errstate(invalid="ignore"):
        bad = np.isinf(values) | (values < 0) | (values != np.round(values)) | (values > 1e9)
    rej.add(bad, column, "bad count")
    return np.where(rej.ok, np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0), 0).astype(np.int64)


def _lsoa_districts(codes: pd.Series, known: dict[str, str], column: str, rej: base._Rejects) -> np.ndarray:
    text = codes.str.upper().str.replace(" ", "", regex=False)
    rej.add(text.isna().to_numpy(), column, "no LSOA code")
    shaped = text.str.match(LSOA_CODE.pattern).to_numpy(dtype=bool, na_value=False)
    rej.add(~shaped, column, "bad LSOA code")
    district = text.map(known).astype(object).to_numpy()
    rej.add(pd.isna(district), column, "LSOA outside the 14 districts")
    return district


def parse_areas(raw: base.RawTable, name: str, options: PartnerOptions, known_lsoas: dict[str, str],
                seen: Occurrences | None = None) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Rows for ``partner_areas``, rejects and notes. ``known_lsoas`` maps every accepted LSOA code
    (2011 codes of the 14 districts, and 2021 codes seen in police data) to its district. ``seen``
    (digests only) holds the keys accepted in earlier blocks of a streamed file."""
    frame, notes = raw.frame, list(raw.notes)
    n = len(frame)
    cols = _pick_all([str(c) for c in frame.columns], ("lsoa_code", "month", "count", "measure", "owner", "sharing"))
    _check_required(name, "partner area counts", cols, {"lsoa_code": "lsoa_code", "month": "month (YYYY-MM)",
                                                        "count": "count"})
    notes.append(base._columns_note(cols))
    rej = base._Rejects(n)
    owner, sharing, source = _stewardship(frame, cols, options, name, rej, n)
    codes = base._text(frame[cols["lsoa_code"]])
    district = _lsoa_districts(codes, known_lsoas, cols["lsoa_code"], rej)  # type: ignore[arg-type]
    month, blank, bad = base._month_starts(frame[cols["month"]])
    base._plausible_dates(month, blank, bad, rej, cols["month"], "no month", "bad month")  # type: ignore[arg-type]
    counts = _counts(frame[cols["count"]], cols["count"], rej)  # type: ignore[arg-type]
    formula = [0]
    measure = base._clean_text(frame[cols["measure"]] if cols["measure"] else None, n, formula)
    code_text = codes.str.upper().str.replace(" ", "", regex=False).astype(object).to_numpy()
    month_text = month.dt.strftime("%Y-%m").astype(object).to_numpy()
    row_id = np.array([f"{source}|{c}|{m}|{'' if pd.isna(x) else x}"
                       for c, m, x in zip(code_text, month_text, measure.astype(object).to_numpy())], dtype=object)
    # A second row for the same LSOA, month and measure would silently replace or double the first:
    # rejected, so the partner sees it and sends one figure.
    repeated = _repeated(row_id, rej.ok, seen)
    rej.add(repeated, cols["lsoa_code"], "repeated LSOA and month")
    rows = pd.DataFrame({"row_id": row_id, "source": source, "owner": owner, "sharing": sharing,
                         "lsoa_code": code_text, "district": district, "month": month.to_numpy(),
                         "count": counts, "measure": measure.astype(object).to_numpy()})
    return base._split(rows, raw, rej, notes, formula)


def _repeated(row_id: np.ndarray, ok: np.ndarray, seen: Occurrences | None) -> np.ndarray:
    """Accepted rows whose key an earlier accepted row of the file holds: earlier in this block, or
    (streamed) in an earlier block, told by a 64-bit digest of the key. Two different keys share a
    digest with a chance of about n^2 / 2^65 (3 in a million for 10M distinct keys in one file); the
    content ids of events and places without an id column rest on the same 64 bits."""
    repeated = pd.Series(row_id).where(ok).duplicated(keep="first").to_numpy() & ok
    if seen is not None:
        first = np.flatnonzero(ok & ~repeated)
        digests = pd.util.hash_array(row_id[first].astype(object), categorize=False)
        repeated[first[seen.take(digests) > 0]] = True
    return repeated


# --------------------------------------------------------------------------------------------
# Events and places
# --------------------------------------------------------------------------------------------


def _ids(frame: pd.DataFrame, column: str | None, source: str, prefix: str, content: list[pd.Series],
         rej: base._Rejects, n: int, notes: list[str], seen: Occurrences | None = None) -> np.ndarray:
    if column:
        ids = base._text(frame[column])
        rej.add(ids.isna().to_numpy(), column, "no id")
        return np.array([f"{source}|{v}" for v in ids.astype(object).to_numpy()], dtype=object)
    notes.append("no id column: ids derived from the row content, so reloading adds nothing")
    return np.array([f"{source}|{v}" for v in base._content_ids(prefix, content, n, seen)], dtype=object)


def parse_events(raw: base.RawTable, name: str, options: PartnerOptions, seen: Occurrences | None = None
                 ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Rows for ``partner_events`` (dated points), rejects and notes (``seen``: content ids' repeats in
    earlier blocks of a streamed file)."""
    frame, notes = raw.frame, list(raw.notes)
    n = len(frame)
    cols = _pick_all([str(c) for c in frame.columns], ("id", "date", "lat", "lon", "easting", "northing", "category",
                                                       "owner", "sharing"))
    _check_required(name, "partner events", cols, {"date": "a date or datetime"})
    if not ((cols["lat"] and cols["lon"]) or (cols["easting"] and cols["northing"])):
        raise InputError(f"{name}: partner events need lat/lon or easting/northing columns")
    notes.append(base._columns_note(cols))
    rej = base._Rejects(n)
    owner, sharing, source = _stewardship(frame, cols, options, name, rej, n)
    when, blank, bad = base._datetimes(frame[cols["date"]], cols["date"], notes)  # type: ignore[arg-type]
    base._plausible_dates(when, blank, bad, rej, cols["date"])  # type: ignore[arg-type]
    lat, lon = base._coordinates(frame, cols, rej, notes)
    district = base._districts(lat, lon, rej, cols["lat"] or cols["easting"])
    formula = [0]
    category = base._clean_text(frame[cols["category"]] if cols["category"] else None, n, formula)
    content = [when.astype(str), pd.Series(lat).round(6).astype(str), pd.Series(lon).round(6).astype(str),
               category.astype(object).astype(str)]
    ids = _ids(frame, cols["id"], source, "event", content, rej, n, notes, seen)
    # A date without a time of day is kept as a date; occurred_at then stays empty.
    has_time = (when.dt.normalize() != when).to_numpy() | (base._text(frame[cols["date"]]).str.len() > 10).to_numpy(
        dtype=bool, na_value=False)
    rows = pd.DataFrame({"event_id": ids, "source": source, "owner": owner, "sharing": sharing,
                         "month": when.to_numpy(dtype="datetime64[ns]").astype("datetime64[M]").astype("datetime64[ns]"),
                         "occurred_at": when.where(pd.Series(has_time), pd.NaT).to_numpy(),
                         "lat": lat, "lon": lon, "category": category.astype(object).to_numpy(),
                         "district": district})
    return base._split(rows, raw, rej, notes, formula)


def _closing_times(series: pd.Series | None, column: str | None, rej: base._Rejects, n: int) -> np.ndarray:
    """Closing times as HH:MM text; anything else rejects the row ("bad closing time")."""
    out = np.full(n, None, dtype=object)
    if series is None:
        return out
    if series.dtype == object:  # Excel times arrive as datetime.time objects
        series = series.map(lambda v: v.strftime("%H:%M") if hasattr(v, "strftime") else v)
    text = base._text(series).astype(object).to_numpy()
    for i, value in enumerate(text):
        if pd.isna(value):
            continue
        match = TIME_OF_DAY.match(str(value))
        if match:
            out[i] = f"{int(match.group(1)) % 24:02d}:{match.group(2)}"
    rej.add(~pd.isna(text) & pd.isna(out), column, "bad closing time")
    return out


def parse_places(raw: base.RawTable, name: str, options: PartnerOptions, seen: Occurrences | None = None
                 ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Rows for ``partner_places`` (named points: licensed premises, schools, youth provision)."""
    frame, notes = raw.frame, list(raw.notes)
    n = len(frame)
    cols = _pick_all([str(c) for c in frame.columns], ("id", "name", "lat", "lon", "easting", "northing", "kind",
                                                       "closing_time", "owner", "sharing"))
    _check_required(name, "partner places", cols, {"name": "name"})
    if not ((cols["lat"] and cols["lon"]) or (cols["easting"] and cols["northing"])):
        raise InputError(f"{name}: partner places need lat/lon or easting/northing columns")
    notes.append(base._columns_note(cols))
    rej = base._Rejects(n)
    owner, sharing, source = _stewardship(frame, cols, options, name, rej, n)
    formula = [0]
    place_name = base._clean_text(frame[cols["name"]], n, formula)
    rej.add(place_name.isna().to_numpy(), cols["name"], "no name")
    lat, lon = base._coordinates(frame, cols, rej, notes)
    district = base._districts(lat, lon, rej, cols["lat"] or cols["easting"])
    closing = _closing_times(frame[cols["closing_time"]] if cols["closing_time"] else None, cols["closing_time"], rej, n)
    kind = base._clean_text(frame[cols["kind"]] if cols["kind"] else None, n, formula)
    content = [place_name.astype(object).astype(str), pd.Series(lat).round(5).astype(str),
               pd.Series(lon).round(5).astype(str)]
    ids = _ids(frame, cols["id"], source, "place", content, rej, n, notes, seen)
    rows = pd.DataFrame({"place_id": ids, "source": source, "owner": owner, "sharing": sharing,
                         "name": place_name.astype(object).to_numpy(), "kind": kind.astype(object).to_numpy(),
                         "closing_time": closing, "lat": lat, "lon": lon, "district": district})
    return base._split(rows, raw, rej, notes, formula)


# --------------------------------------------------------------------------------------------
# Entry point used by the loader
# --------------------------------------------------------------------------------------------


def known_lsoa_districts(con) -> dict[str, str]:
    """LSOA code -> district for every code a partner file may use: the 2011 codes in geodata/,
    plus the codes police rows in the store carry whose LSOA name's district part is one of the 14
    districts (police.uk's 2021 codes)."""
    from hotspot_engine.reference import geography

    lsoas = geography.lsoas()
    known = dict(zip(lsoas["lsoa_code"], lsoas["district"]))
    if con is None:
        return known
    districts = set(geography.district_names())
    from hotspot_engine.store.query import incident_lsoa_names

    for code, lsoa_name in incident_lsoa_names(con):
        code = str(code).upper().strip()
        district = re.sub(r"\s+\S+$", "", str(lsoa_name))
        if code not in known and district in districts:
            known[code] = district
    return known


def parse_partner(raw: base.RawTable, name: str, fmt: str, options: PartnerOptions | None, con,
                  seen: Occurrences | None = None, known_lsoas: dict[str, str] | None = None
                  ) -> tuple[str, pd.DataFrame, pd.DataFrame, list[str]]:
    """(store kind, rows, rejects, notes) for one partner file of format ``fmt`` (or one block of a
    streamed file: ``seen`` carries content ids' repeats, or an areas file's keys, from block to
    block; ``known_lsoas``, read once from the store before the first block, stands in for ``con``)."""
    options = options or PartnerOptions()
    if fmt == "partner-areas":
        known = known_lsoas if known_lsoas is not None else known_lsoa_districts(con)
        rows, rejects, notes = parse_areas(raw, name, options, known, seen)
    elif fmt == "partner-events":
        rows, rejects, notes = parse_events(raw, name, options, seen)
    elif fmt == "partner-places":
        rows, rejects, notes = parse_places(raw, name, options, seen)
    else:
        raise InputError(f"unknown partner format '{fmt}'; choose from: {', '.join(PARTNER_FORMATS)}")
    if not rows.empty:
        levels = sorted(set(rows["sharing"]), key=SHARING_LEVELS.index)
        notes.append(f"layer '{rows['source'].iloc[0]}': owner {', '.join(sorted(set(rows['owner'])))}; "
                     f"sharing {', '.join(levels)}")
    return KIND_OF_FORMAT[fmt], rows, rejects, notes
