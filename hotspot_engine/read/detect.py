"""Which input format a header belongs to, and which column holds each field (header spellings).
"""
from __future__ import annotations

import re

from hotspot_engine.errors import InputError

FORMATS = ("police-uk", "incidents", "patrols", "gps")


def _key(name: object) -> str:
    """Header spelling normalised: case, spaces, underscores and punctuation ignored."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


# Accepted spellings per field, in order of preference (normalised by _key).
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("incidentid", "crimeid", "id", "crimereference", "crimeref", "crimeno", "crimenumber", "occurrenceid",
           "occurrencenumber", "incidentnumber", "incidentno", "incidentref", "reference", "ref", "urn", "recordid"),
    "date": ("occurredat", "occurred", "occurrencedate", "datetime", "date", "incidentdate", "offencedate",
             "datecommitted", "committedon", "committeddate", "startdate", "fromdate", "reporteddate", "recordeddate",
             "timestamp", "month"),
    "lat": ("lat", "latitude", "wgs84lat", "y_lat", "latdd"),
    "lon": ("lon", "lng", "long", "longitude", "wgs84lon", "wgs84long", "londd"),
    "easting": ("easting", "eastings", "bngeasting", "osgbeasting", "gridx", "xcoord", "xcoordinate", "x"),
    "northing": ("northing", "northings", "bngnorthing", "osgbnorthing", "gridy", "ycoord", "ycoordinate", "y"),
    "ho_code": ("hocode", "homeofficecode", "hooffencecode", "hoclass", "hoclassification", "offencecode",
                "classificationcode", "crimecode"),
    "offence": ("offence", "offense", "offencedescription", "offencetype", "offencename", "crimetype",
                "crimedescription", "description", "classification", "crime"),
    "knife": ("knifeflag", "knife", "knifecrime", "knifeflagged", "knifeorsharpinstrument", "bladed", "bladedarticle"),
    "district": ("district", "districtname", "localauthority", "ladname", "lad", "council"),
    "location": ("location", "street", "streetname", "address", "place"),
    "lsoa_code": ("lsoacode", "lsoa11cd", "lsoa"),
    "lsoa_name": ("lsoaname", "lsoa11nm"),
    "falls_within": ("fallswithin", "force", "forcename"),
    # patrol logs
    "patrol_id": ("patrolid", "id", "patrolref", "reference", "ref", "logid"),
    "start": ("start", "starttime", "startat", "startdatetime", "timein", "arrived", "from", "begin"),
    "end": ("end", "endtime", "endat", "enddatetime", "timeout", "left", "to", "finish"),
    "duration": ("durationminutes", "duration", "minutes", "durationmins", "mins"),
    "hotspot": ("hotspotid", "hotspot", "hotspotref", "hotspotname"),
    "h3": ("h3", "h3id", "h3cell", "cell", "cellid", "hexid"),
    "unit": ("unit", "callsign", "team", "officer", "collarnumber", "resource"),
    # GPS pings
    "callsign": ("callsign", "unit", "vehicle", "deviceid", "device", "resource", "radioid"),
    "timestamp": ("timestamp", "time", "datetime", "pingtime", "recordedat", "fixtime", "date"),
}
POLICE_UK_HEADER = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
                    "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context"]


def _pick(columns: list[str], field_name: str, taken: set[str] | None = None) -> str | None:
    """The column holding ``field_name`` (first alias present), or None."""
    keyed: dict[str, str] = {}
    for col in columns:
        keyed.setdefault(_key(col), col)
    for alias in ALIASES[field_name]:
        found = keyed.get(alias)
        if found is not None and (taken is None or found not in taken):
            return found
    return None


def _pick_all(columns: list[str], field_names: tuple[str, ...]) -> dict[str, str | None]:
    """The column for each field, in order; a column taken by one field is not offered to the next."""
    used: dict[str, str | None] = {}
    taken: set[str] = set()
    for name in field_names:
        column = _pick(columns, name, taken)
        used[name] = column
        if column:
            taken.add(column)
    return used


def detect_format(columns: list[str]) -> str:
    """Which of FORMATS a header belongs to: 'police-uk' | 'incidents' | 'patrols' | 'gps'.

    Raises InputError naming the columns seen (and what each format would need) when none fits.
    """
    keys = {_key(c) for c in columns}
    has = lambda f: _pick(columns, f) is not None  # noqa: E731 - local shorthand
    if {"crimetype", "month"} <= keys and keys & {"fallswithin", "reportedby", "lsoacode"}:
        return "police-uk"
    has_latlon = has("lat") and has("lon")
    if "callsign" in keys and has("timestamp") and has_latlon and not has("start"):
        return "gps"
    if has("start") and (has("end") or has("duration")) and (keys & {"patrolid"} or has("hotspot") or has("h3")
                                                           or has_latlon):
        return "patrols"
    has_place = has_latlon or (has("easting") and has("northing"))
    if has("id") and has("date") and has_place and (has("ho_code") or has("offence")):
        return "incidents"
    seen = ", ".join(f"'{c}'" for c in columns[:12]) + (" ..." if len(columns) > 12 else "")
    missing = [label for label, ok in (("an id", has("id")), ("a date", has("date")),
                                       ("lat/lon or easting/northing", has_place),
                                       ("ho_code or offence", has("ho_code") or has("offence"))) if not ok]
    hint = ""
    if len(columns) == 1 and any(d in str(columns[0]) for d in ":/ "):
        hint = " The header is a single column: is the file delimited by something other than , ; tab or |?"
    raise InputError(
        f"cannot tell the format from the columns {seen}; an incident file needs {', '.join(missing)}; "
        f"a patrol log needs patrol_id, start, end or duration_minutes and a place; GPS pings need callsign, "
        f"timestamp, lat, lon; data.police.uk files keep their published header; partner files: lsoa_code, month, "
        f"count (area counts), a date, lat/lon and category (events), or name and lat/lon (places).{hint}"
    )
