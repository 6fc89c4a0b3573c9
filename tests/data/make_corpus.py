"""Rebuild the loader test fixtures: ``python tests/data/make_corpus.py`` (from the repo root).

good/2024-03-hampshire-street.csv is a data.police.uk street file written to the published header
(DOMAIN.md). Its points are representative points of real ONS LSOA polygons from geodata/, with the
matching LSOA code and name, so the district check against the LSOA name has known answers. It
includes what real months contain: anti-social-behaviour rows with a blank Crime ID (two of them
identical), rows with no location, and a row just over the force boundary (a Dorset LSOA).

bad/ holds one file per kind of bad input; bad/EXPECTED.csv says what each must produce.
The files are committed; this script documents how they were made.
"""
from __future__ import annotations

import csv
import hashlib
import io
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

POLICE_UK_HEADER = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
                    "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context"]
FORCE = "Hampshire Constabulary"

# (district, crime type, outcome, street) per row; points come from that district's LSOAs.
ROWS = [
    ("Southampton", "Violence and sexual offences", "Unable to prosecute suspect", "Above Bar Street"),
    ("Southampton", "Violence and sexual offences", "Under investigation", "Nightclub"),
    ("Southampton", "Robbery", "Investigation complete; no suspect identified", "Shopping Area"),
    ("Southampton", "Possession of weapons", "Awaiting court outcome", "Bargate Street"),
    ("Southampton", "Anti-social behaviour", "", "Parking Area"),
    ("Southampton", "Shoplifting", "Local resolution", "Supermarket"),
    ("Southampton", "Public order", "Unable to prosecute suspect", "London Road"),
    ("Southampton", "Criminal damage and arson", "Investigation complete; no suspect identified", "Portswood Road"),
    ("Portsmouth", "Violence and sexual offences", "Under investigation", "Commercial Road"),
    ("Portsmouth", "Violence and sexual offences", "Unable to prosecute suspect", "Guildhall Walk"),
    ("Portsmouth", "Robbery", "Under investigation", "Police Station"),
    ("Portsmouth", "Anti-social behaviour", "", "Park/Open Space"),
    ("Portsmouth", "Anti-social behaviour", "", "Park/Open Space"),  # identical ASB report: distinct row
    ("Portsmouth", "Public order", "Status update unavailable", "Elm Grove"),
    ("Portsmouth", "Drugs", "Local resolution", "Albert Road"),
    ("Portsmouth", "Possession of weapons", "Awaiting court outcome", "Fratton Road"),
    ("Isle of Wight", "Violence and sexual offences", "Unable to prosecute suspect", "High Street"),
    ("Isle of Wight", "Anti-social behaviour", "", "Esplanade"),
    ("Basingstoke and Deane", "Violence and sexual offences", "Under investigation", "Festival Place"),
    ("Basingstoke and Deane", "Vehicle crime", "Investigation complete; no suspect identified", "Parking Area"),
    ("Winchester", "Burglary", "Investigation complete; no suspect identified", "Jewry Street"),
    ("Winchester", "Violence and sexual offences", "Unable to prosecute suspect", "High Street"),
    ("Eastleigh", "Public order", "Local resolution", "Leigh Road"),
    ("Fareham", "Other theft", "Investigation complete; no suspect identified", "West Street"),
    ("Gosport", "Violence and sexual offences", "Under investigation", "Stoke Road"),
    ("Havant", "Robbery", "Under investigation", "Market Parade"),
    ("New Forest", "Anti-social behaviour", "", "Lymington Road"),
    ("Rushmoor", "Violence and sexual offences", "Unable to prosecute suspect", "Victoria Road"),
    ("Hart", "Bicycle theft", "Investigation complete; no suspect identified", "Fleet Road"),
    ("Test Valley", "Violence and sexual offences", "Status update unavailable", "Bridge Street"),
    ("East Hampshire", "Criminal damage and arson", "Investigation complete; no suspect identified", "Station Road"),
]
N_NO_LOCATION = 2


def police_uk_rows() -> list[list[str]]:
    from hotspot_engine.reference.geography import lsoas

    frame = lsoas().sort_values("lsoa_code").reset_index(drop=True)
    used: dict[str, int] = {}
    out = []
    for i, (district, crime_type, outcome, street) in enumerate(ROWS):
        candidates = frame[frame["district"] == district]
        # Identical ASB rows share a place; every other row takes the next LSOA of its district.
        same_as_previous = i > 0 and ROWS[i - 1] == ROWS[i]
        k = used.get(district, 0) - (1 if same_as_previous else 0)
        used[district] = k + 1
        lsoa = candidates.iloc[(k * 7) % len(candidates)]
        point = lsoa.geometry.representative_point()
        crime_id = "" if crime_type == "Anti-social behaviour" else hashlib.sha256(f"2024-03-{i}".encode()).hexdigest()
        out.append([crime_id, "2024-03", FORCE, FORCE, f"{point.x:.6f}", f"{point.y:.6f}", f"On or near {street}",
                    lsoa.lsoa_code, lsoa.lsoa_name, crime_type, outcome, ""])
    for j in range(N_NO_LOCATION):
        crime_id = hashlib.sha256(f"2024-03-noloc-{j}".encode()).hexdigest()
        out.append([crime_id, "2024-03", FORCE, FORCE, "", "", "No location", "", "", "Violence and sexual offences",
                    "Unable to prosecute suspect", ""])
    # A Hampshire-recorded crime just over the boundary, in a Dorset LSOA (Christchurch).
    out.append([hashlib.sha256(b"2024-03-dorset").hexdigest(), "2024-03", FORCE, FORCE, "-1.778520", "50.735610",
                "On or near Bargates", "E01032651", "Bournemouth, Christchurch and Poole 040C",
                "Violence and sexual offences", "Under investigation", ""])
    return out


def to_csv(header: list[str], rows: list[list[str]], delimiter: str = ",") -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


INC = "incident_id,occurred_at,lat,lon,ho_code,offence,knife_flag,location\n"
SOTON = "50.909700,-1.404400"  # Above Bar Street, Southampton
PORTS = "50.798900,-1.091200"  # Commercial Road, Portsmouth


def bad_files(police_uk: str) -> dict[str, bytes]:
    pu_header = ",".join(POLICE_UK_HEADER) + "\n"
    pu_line = police_uk.splitlines()[1]
    files: dict[str, str | bytes] = {
        "empty.csv": "",
        "whitespace_only.csv": "\n \n\t\n",
        "header_only.csv": INC,
        "blank_header.csv": ",,,\n1,2,3\n",
        "wrong_delimiter.csv": "incident_id:occurred_at:lat:lon:ho_code:offence\nA1:2023-04-01:50.9:-1.4:5A:GBH\n",
        "unknown_columns.csv": "name,colour,size\nbox,red,3\n",
        "missing_required_column.csv": "incident_id,lat,lon,ho_code,offence\nA1,50.9097,-1.4044,5A,Wounding\n",
        "duplicate_header.csv": "incident_id,occurred_at,lat,lat,lon,offence\nA1,2023-04-01,50.9,50.9,-1.4,GBH\n",
        "windows1252.csv": (INC + f"W1,2023-04-01 22:00,{SOTON},5A,Wounding,N,On or near Caf\u00e9 Rouge \u00a3\n").encode("cp1252"),
        "utf8_bom.csv": ("\ufeff" + INC + f"B1,2023-04-01 22:00,{SOTON},5A,Wounding,N,On or near Caf\u00e9\n").encode("utf-8"),
        "swapped_latlon.csv": INC + "S1,2023-04-01,-1.404400,50.909700,5A,Wounding,N,\nS2,2023-04-02,-1.091200,50.798900,34B,Robbery,N,\n",
        "bng_as_latlon.csv": INC + "G1,2023-04-01,111950,442070,5A,Wounding,N,\nG2,2023-04-02,100100,463800,34B,Robbery,N,\n",
        "month_2023_13.csv": pu_header + pu_line.replace("2024-03", "2023-13", 1) + "\n" + pu_line + "\n",
        "impossible_dates.csv": INC + f"D1,31/02/2023,{SOTON},5A,Wounding,N,\nD2,2023-02-30,{SOTON},5A,Wounding,N,\n"
                                      f"D3,2099-01-01,{SOTON},5A,Wounding,N,\nD4,2023-04-01,{SOTON},5A,Wounding,N,\n",
        "parquet_really_text.parquet": INC + f"P1,2023-04-01,{SOTON},5A,Wounding,N,\n",
        "xlsx_really_text.xlsx": INC + f"X1,2023-04-01,{SOTON},5A,Wounding,N,\n",
        "truncated.parquet": b"PAR1" + bytes(range(256)) * 4,
        "old_excel.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
        "binary_junk.csv": bytes((i * 37 + 11) % 256 for i in range(4096)),
        "ragged_rows.csv": INC + f"R1,2023-04-01,{SOTON},5A,Wounding,N,\nR2,2023-04-01,{SOTON}\n"
                                 f"R3,2023-04-01,{SOTON},5A,Wounding,N,,extra,fields\nR4,2023-04-02,{PORTS},34B,Robbery,N,\n",
        "huge_numbers.csv": INC + f"H1,2023-04-01,1e308,-1e308,5A,Wounding,N,\nH2,2023-04-01,9e999,-1.4,5A,Wounding,N,\n"
                                  f"H3,2023-04-01,{SOTON},5A,Wounding,N,\n",
        "nan_strings.csv": INC + "N1,2023-04-01,NaN,NaN,5A,Wounding,N,\nN2,NULL,50.9097,-1.4044,5A,Wounding,N,\n"
                                 f"N3,N/A,{SOTON},5A,Wounding,N,\nN4,2023-04-01,{SOTON},nan,none,N,\n",
        "formula_strings.csv": INC + f"F1,2023-04-01,{SOTON},5A,=cmd|' /C calc'!A0,N,@SUM(1+1)\n"
                                     f"F2,2023-04-01,=1+2,-1.4044,5A,Wounding,N,+HYPERLINK(\"x\")\n",
        "unparseable_numbers.csv": INC + f"U1,2023-04-01,fifty,-1.4,5A,Wounding,N,\nU2,2023-04-01,{SOTON},5A,Wounding,N,\n",
        "outside_area.csv": INC + "O1,2023-04-01,51.5074,-0.1278,5A,Wounding,N,\nO2,2023-04-01,0,0,5A,Wounding,N,\n"
                                  "O3,2023-04-01,40.7,-74.0,5A,Wounding,N,\n",
        "no_coordinates.csv": pu_header + ",2024-03,H,H,,,No location,,,Anti-social behaviour,,\n" + pu_line + "\n",
        "blank_lines_and_multiline.csv": INC + f"\nM1,2023-04-01,{SOTON},5A,Wounding,N,\"On or near\nHigh Street\"\n\n"
                                               f"M2,2023-04-01,{PORTS},34B,Robbery,N,\nM3,bad,{PORTS},34B,Robbery,N,\n",
        "semicolon_decimal_comma.csv": "incident_id;occurred_at;lat;lon;ho_code;offence\n"
                                       "C1;01/04/2023 22:00;50,9097;-1,4044;5A;Wounding\n",
        "patrols_bad.csv": "patrol_id,start,end,duration_minutes,hotspot_id,h3,lat,lon,unit\n"
                           "Q1,2023-04-01 20:00,2023-04-01 19:00,,HS01,,,,U1\n"
                           "Q2,2023-04-01 20:00,,,HS01,,,,U1\nQ3,not a time,,15,HS01,,,,U1\n"
                           "Q4,2023-04-01 20:00,,15,,zzzz,,,U1\nQ5,2023-04-01 20:00,,15,,,,,U1\n"
                           f"Q6,2023-04-01 20:00,,15,HS02,,{SOTON},U2\n",
        "gps_bad.csv": "callsign,timestamp,lat,lon\n,2023-04-01T10:00:00,50.9097,-1.4044\nK9,never,50.9097,-1.4044\n"
                       "K9,2023-04-01T10:00:00,51.5,-0.12\nK9,2023-04-01T10:01:00,50.9097,-1.4044\n",
        # Partner layers (issue 21), detected from their headers.
        "partner_areas_bad.csv": "lsoa_code,month,count,measure\n"
                                 "E01017013,2023-04,3,assaults\nE01017013,2023-04,4,assaults\nE01999999,2023-04,2,assaults\n"
                                 "XYZ,2023-04,1,assaults\nE01017014,2023-13,1,assaults\nE01017014,2023-05,-1,assaults\n"
                                 "E01017014,2023-06,2.5,assaults\nE01017014,2023-07,,assaults\nE01017014,2023-08,many,assaults\n"
                                 "W01000001,2023-04,1,assaults\n,2023-04,1,assaults\n",
        "partner_events_bad.csv": "call_id,date,lat,lon,category\n"
                                  f"C1,2023-04-01 22:10,{SOTON},assault\nC2,2023-04-02,51.5074,-0.1278,assault\n"
                                  f"C3,,{PORTS},assault\nC4,2023-04-03,,,assault\n,2023-04-03,{PORTS},assault\n"
                                  f"C6,2099-01-01,{PORTS},assault\n",
        "partner_places_bad.csv": "name,easting,northing,kind,closing_time,sharing\n"
                                  "The Crown,441850,111800,pub,23:30,open\nClub X,464100,99900,nightclub,late,open\n"
                                  ",464100,99900,bar,01:00,open\nThe Anchor,464150,99950,pub,23:00,secret\n"
                                  "Far Away,530000,180000,pub,23:00,open\n",
        "police_uk_without_coordinates.csv": "Crime ID,Month,Reported by,Falls within,Location,LSOA code,LSOA name,Crime type\n"
                                             "abc,2024-03,H,H,On or near X,E01,Soton 001A,Robbery\n",
    }
    out = {k: (v.encode("utf-8") if isinstance(v, str) else v) for k, v in files.items()}
    out["zip_nothing_usable.zip"] = zip_bytes({"README.md": b"# notes\n", "map.png": b"\x89PNG\r\n\x1a\n"})
    out["empty.zip"] = zip_bytes({})
    out["corrupt.zip"] = b"PK\x03\x04" + b"\x14\x00" * 40
    inner = zip_bytes({"2024-03/2024-03-hampshire-street.csv": police_uk.encode()})
    out["nested_ok.zip"] = zip_bytes({"inner.zip": inner})
    deep = inner
    for level in range(4):
        deep = zip_bytes({f"level{level}.zip": deep})
    out["nested_too_deep.zip"] = deep
    return out


def main() -> None:
    police_uk = to_csv(POLICE_UK_HEADER, police_uk_rows())
    good = HERE / "good"
    good.mkdir(exist_ok=True)
    (good / "2024-03-hampshire-street.csv").write_text(police_uk, encoding="utf-8")
    bad = HERE / "bad"
    bad.mkdir(exist_ok=True)
    for name, data in bad_files(police_uk).items():
        (bad / name).write_bytes(data)


if __name__ == "__main__":
    main()
