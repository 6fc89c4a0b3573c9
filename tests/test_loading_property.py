"""Property: whatever rows a file holds, the loaders raise nothing but InputError and account for
every row read (read = added + already present + rejected)."""
from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hotspot_engine.read import loading

from hotspot_engine.store import database as store
from hotspot_engine.errors import InputError

HEADERS = {
    "incidents": ["incident_id", "occurred_at", "lat", "lon", "ho_code", "offence", "knife_flag", "location"],
    "police-uk": loading.POLICE_UK_HEADER,
    "patrols": ["patrol_id", "start", "end", "duration_minutes", "hotspot_id", "h3", "lat", "lon", "unit"],
    "gps": ["callsign", "timestamp", "lat", "lon"],
}

# Cells mix plausible values (so some rows load) with junk of every kind.
plausible = st.sampled_from([
    "50.9097", "-1.4044", "50.7989", "-1.0912", "2023-04-01", "2023-04-01 22:10", "01/04/2023", "2024-03",
    "5A", "34B", "Robbery", "Violence and sexual offences", "Y", "N", "15", "HS01", "K1", "A1", "A2",
    "Hampshire Constabulary", "Southampton 001A", "89195912bc3ffff", "2023-04-01T10:00:00",
])
junk = st.one_of(
    # A bare carriage return is a line break to every CSV reader, so it is left out: it would make
    # the file hold more rows than were drawn.
    st.text(st.characters(blacklist_characters="\r", blacklist_categories=("Cs",)), max_size=12),
    st.sampled_from(["", "NaN", "NULL", "n/a", "inf", "-inf", "1e308", "9e999", "=cmd|' /C calc'!A0", "2023-13",
                     "31/02/2023", "2099-01-01", "0", "-0", "\t", '"', "\u00e9", "441950", "111690"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-10**20, max_value=10**20).map(str),
)
cell = st.one_of(plausible, plausible, junk)


@st.composite
def files(draw):
    fmt = draw(st.sampled_from(sorted(HEADERS)))
    header = HEADERS[fmt]
    n_rows = draw(st.integers(min_value=1, max_value=12))
    rows = []
    for _ in range(n_rows):
        width = len(header) if draw(st.integers(0, 9)) else draw(st.integers(1, len(header) + 2))  # some ragged
        rows.append([draw(cell) for _ in range(width)])
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return fmt, buf.getvalue().encode("utf-8"), n_rows


# Examples: the hypothesis profile (tests/conftest.py), 60 in CI, 15 in the inner loop
@settings(suppress_health_check=[HealthCheck.too_slow])
@given(files(), st.booleans())
def test_random_rows_are_all_accounted_for(file, forced):
    fmt, data, n_rows = file
    con = store.connect(":memory:")
    try:
        summaries = loading.ingest_upload(con, "random.csv", data, fmt=fmt if forced else None)
    except InputError as exc:
        assert str(exc).startswith("random.csv") or "format" in str(exc)
        return
    for summary in summaries:
        assert summary.rows_read == summary.added + summary.already_present + summary.rejected
    if fmt != "gps":  # GPS rows become visits: read counts visits plus rejected pings
        assert sum(s.rows_read for s in summaries) <= n_rows
    assert store.table_count(con, "rejects") == sum(s.rejected for s in summaries)
    con.close()


# Examples: the hypothesis profile (tests/conftest.py), 60 in CI, 15 in the inner loop
@given(st.binary(max_size=300), st.sampled_from(["x.csv", "x.parquet", "x.xlsx", "x.zip", "x.txt"]))
@example(b"\r!", "x.csv")  # a bare carriage return in the header once escaped as _csv.Error
def test_random_bytes_raise_only_input_error(data, name):
    con = store.connect(":memory:")
    try:
        summaries = loading.ingest_upload(con, name, data)
    except InputError:
        return
    assert all(s.balanced for s in summaries)
