"""Bounds on what one input may make the loader hold: sizes after decompression, compression ratio,
one CSV field, and one workbook sheet.

Anyone may send a file when sign-in is off, so a small file must not be able to take the server's
memory. Measured before these limits (issue 20): a 2.1 MB zip holding a 600 MB member peaked at
3.5 GB (members were read whole); a 700 KB XLSX holding a 200 MB sheet took 1.08 GB and 68 s; a CSV
with one 200 MB field took 2.8 GB in the whole-file reader. With them, each is refused in under a
second at under 1 GB (benchmarks/bench_hostile_inputs.py prints the figures).

Why these numbers: real data compresses far less than a bomb. The five police.uk Hampshire months
in shared/realdata compress 4.7-5.1:1 in their zip; 20,000 sample incidents written as XLSX give a
sheet XML of 10.9 MB at 8.9:1 (its cell tags repeat). A ratio over 100:1 on a member of more than
1 MiB is not a data file. A legitimate field (a location, an offence description) is a few hundred bytes; 1 MiB leaves
room for free-text notes. openpyxl parses sheet XML at about 3 MB/s here (issue 20: 200 MB
in 68 s) and holds a Python object per cell, so 128 MB of sheet XML (about 235,000 incident rows at
the sample's 10.9 MB per 20,000) is the most a workbook may hold; bigger extracts belong in CSV or
Parquet, which load in seconds and stream.

Street layers (issue 25): GDAL's GeoJSON driver parses a file whole, so a 382 MB file holding one line
peaked at 4.3 GB, and a 2.5M-line layer at 2.35 GB; a 31 MB line zig-zagging across the district
boundary took 65 s to clip. A county's OS Open Roads links number about 150,000 with a few dozen
vertices each (the longest real link in the Hampshire extract has under 2,000), so 750,000 features,
20 million vertices and 20,000 vertices a line leave room for a region and bound the clip, whose cost
grows with the vertices of one line times the boundary's.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from hotspot_engine.errors import InputError

MIB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """What one call to the loader accepts. Every refusal names the file and the limit."""

    #: One data file or zip member, as stored on disk after decompression.
    max_file_bytes: int = 1 << 30
    #: Everything inside one archive (nested archives included), after decompression.
    max_total_bytes: int = 4 << 30
    #: Decompressed over compressed size of one zip member or workbook part...
    max_ratio: float = 100.0
    #: ...checked on members bigger than this (tiny members compress unevenly).
    ratio_floor_bytes: int = 1 * MIB
    #: One field of a delimited text file (and so one header name).
    max_field_bytes: int = 1 * MIB
    #: One physical line of a delimited text file (a header of 100,000 columns is about 1 MB).
    max_line_bytes: int = 16 * MIB
    #: Columns of any table (a header of 100,000 columns cost 150 s building anti-social-behaviour ids;
    #: the widest real extract seen has 40).
    max_columns: int = 1_000
    #: Every part of one workbook (sheets, shared strings, whatever their names), decompressed.
    max_sheet_xml_bytes: int = 128 * MIB
    #: Rows times columns of a Parquet file (its cells are materialised as a table).
    max_parquet_cells: int = 400_000_000
    #: Rows of a file read whole rather than streamed (patrols, GPS, Parquet; issue 25: partner files
    #: of 10M rows peaked at 8.1-9.6 GB; 1M partner events peaked at 1.13 GB read whole, so half a
    #: million keeps under 1 GB; a force's year of ambulance call-outs is about 100,000). Incident,
    #: police.uk and partner CSVs over it stream instead (1M events: 526 MB, read/streaming.py).
    max_whole_file_rows: int = 500_000
    #: One Parquet row group, unpacked: read one at a time (writers default to 64-128 MB).
    max_row_group_bytes: int = 512 * MIB
    #: A street layer file (GeoPackage, Shapefile) on disk; a GeoJSON one, which GDAL parses whole.
    max_street_bytes: int = 512 * MIB
    max_geojson_bytes: int = 128 * MIB
    #: Features in a street layer, vertices in it, and vertices in one line (see the module notes).
    max_street_features: int = 750_000
    max_street_vertices: int = 20_000_000
    max_line_vertices: int = 20_000

    def with_max_file_bytes(self, max_bytes: int | None) -> Limits:
        return self if max_bytes is None else replace(self, max_file_bytes=int(max_bytes))


DEFAULT_LIMITS = Limits()


def check_regular_file(path, name: str) -> int:
    """The size of ``path`` if it is a regular file; devices (``/dev/zero`` reads for ever), FIFOs
    (a read waits for ever) and sockets are refused before anything opens them."""
    import os
    import stat

    try:
        info = os.stat(path)
    except OSError:
        raise InputError(f"{name}: cannot be read") from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{name}: not a regular file (a device, pipe or socket); only files are read")
    return int(info.st_size)


def too_big(name: str, size: float, limit: float, what: str = "") -> InputError:
    """The one refusal for a size over a limit, naming the file."""
    if what:
        return InputError(f"{name}: {what} {size / 1e6:,.1f} MB, over the {limit / 1e6:,.1f} MB limit; split the "
                          f"file or raise the limit")
    return InputError(f"{name}: {size / 1e6:,.1f} MB is over the {limit / 1e6:,.1f} MB limit; split the file or "
                      f"raise the limit")


def check_ratio(name: str, size: int, compressed: int, limits: Limits, what: str = "decompresses") -> None:
    """Refuse a member whose compression ratio only a decompression bomb reaches."""
    if size > limits.ratio_floor_bytes and size > limits.max_ratio * max(compressed, 1):
        raise InputError(f"{name}: {what} to {size / 1e6:,.1f} MB from {compressed / 1e6:,.2f} MB (ratio "
                         f"{size / max(compressed, 1):,.0f}:1, over the {limits.max_ratio:g}:1 limit); "
                         f"not read as it looks like a decompression bomb")
