"""Big force-extract and data.police.uk CSVs read, parsed and stored block by block (one
transaction still).

Memory holds one block, not the file: 10 million rows load in well under 3 GB. police.uk files
stream the same way since issue 25/29 (a 1 GB police.uk CSV peaked at 8.3 GB read whole); their
anti-social behaviour rows, which have no Crime ID, are numbered across blocks as in a whole file.

Where a streamed police.uk load's memory went (RSS sampled every 0.2 s with each thread's stack, and
DuckDB's own ``duckdb_memory()``; a 1.05 GB, 5.6M-row file peaked at 1,501 MB): pyarrow's read-ahead
of 16 MB blocks (450-490 MB: now 4 MB blocks, :data:`READ_BLOCK_BYTES`), DuckDB holding the file's
uncommitted rows (357 MB at the end: now held to 256 MB, :data:`STREAMED_DUCKDB_MEMORY`), the
anti-social behaviour occurrence counts (a dict of hex strings: now :class:`~hotspot_engine.read.cells.Occurrences`),
and a process baseline of about 250 MB (libraries and the area's geography). A national month's
2.66 GB came from the area being widened block by block (:func:`_widen_to_file`).
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from hotspot_engine.errors import InputError
from hotspot_engine.read.cells import Occurrences
from hotspot_engine.read.delimited import _split_header, check_field_sizes
from hotspot_engine.read.detect import detect_format
from hotspot_engine.read.encoding import _reading_notes, decode_header, first_line, has_utf8_multibyte
from hotspot_engine.read.files import _sniff_kind
from hotspot_engine.read.incidents import _parse_force
from hotspot_engine.read.limits import DEFAULT_LIMITS, Limits
from hotspot_engine.read.police_uk import _parse_police_uk
from hotspot_engine.read.raw import RawTable, _check_header, _empty_rejects
from hotspot_engine.store import database as store
from hotspot_engine.store.database import LoadSummary

#: Force-extract CSVs at least this big are read, parsed and stored block by block (one transaction
#: still), so memory holds one block, not the file: 10 million rows load in well under 3 GB.
STREAM_BYTES = 64 << 20
STREAM_BLOCK_ROWS = 500_000
#: police.uk rows cost more to parse than a force extract's (districts, anti-social behaviour ids:
#: a 420,000-row block peaked at 1.17 GB, 200,000-row blocks took a 1 GB file to 1.72 GB) and two
#: blocks are in flight at once; 40,000-row blocks held 320,000 rows at 534 MB, at the same speed.
POLICE_UK_BLOCK_ROWS = 50_000
#: Bytes of CSV pyarrow parses at a time. Its streaming reader reads ahead several of them: with 16 MB
#: it held 450-490 MB of Arrow memory (RSS 713-751 MB reading the 1 GB police.uk file alone), with
#: 4 MB 111 MB (265 MB), and read a 300 MB file in 4.5-5.6 s instead of 8.8-9.6 s.
READ_BLOCK_BYTES = 4 << 20
#: DuckDB's memory while a police.uk or partner file streams into a store on disk: it otherwise keeps the
#: file's uncommitted rows and their blocks in memory (357 MB by the end of a 5.6M-row, 1.05 GB file,
#: whose ingest peaked at 1,121 MB); held to 256 MB it writes them out (210 MB at the end, peak
#: 870 MB, 540 s against 547 s on the shared machine). A store in memory has nowhere to write them.
STREAMED_DUCKDB_MEMORY = "256MB"
#: Formats (as given to ``ingest --format``; None is detected) that stream.
#: Partner layers that stream (issue 25: "partner files: the same limits as incidents"). An areas file
#: rejects an LSOA-month-measure repeated anywhere in it: across blocks that check keeps a 64-bit digest
#: of each key accepted so far (:class:`~hotspot_engine.read.cells.Occurrences` without counts, 8 bytes
#: a key), so 10M rows read in bounded memory (benchmarks/bench_hostile_inputs.py).
STREAMED_PARTNER_FORMATS = ("partner-areas", "partner-events", "partner-places")
STREAM_FORMATS = (None, "incidents", "police-uk", *STREAMED_PARTNER_FORMATS)


class _NotStreamable(Exception):
    """The file needs the whole-file reader (malformed rows, blank lines, quoted line breaks...)."""


class _LineOverBlock(_NotStreamable):
    """A line longer than about two read blocks (pyarrow: "straddles two block boundaries"): the file
    streams again with blocks as big as the longest line allowed."""


def _not_streamable(exc: Exception) -> _NotStreamable:
    return _LineOverBlock() if "straddl" in str(exc) else _NotStreamable()


def _stream_blocks(path: Path, header: list[str], delimiter: str, encoding: str, notes: list[str], offence_map,
                   block_rows: int, name: str | None = None, limits: Limits = DEFAULT_LIMITS,
                   fmt: str = "incidents", read_bytes: int = READ_BLOCK_BYTES, partner=None,
                   known_lsoas: dict[str, str] | None = None) -> Iterator[tuple[pd.DataFrame, pd.DataFrame, list[str]]]:
    """(rows, rejects, notes) per block of a force-extract CSV, parsed exactly as a whole file is.
    Any row pyarrow cannot split raises _NotStreamable: the whole-file reader gives its line number.
    ``known_lsoas``: a partner-areas file's accepted LSOA codes, read from the store beforehand."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(len(header))]
    try:
        reader = pacsv.open_csv(
            str(path),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=read_bytes,
                                           encoding="cp1252" if encoding == "cp1252" else "utf8"),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=lambda row: "error",
                                             ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=False,
                                                 quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise _not_streamable(exc) from exc
    first_line = 2
    pending = None  # rows read but not yet parsed, as one Arrow table

    shown = name or path.name
    # Anti-social behaviour or partner content ids' occurrences so far; an areas file's keys so far.
    seen = Occurrences(counted=fmt != "partner-areas")

    def block(table):
        check_field_sizes(table, header, shown, limits, first_row=first_line)
        frame = table.to_pandas()
        frame.columns = header
        raw = RawTable(frame, np.arange(first_line, first_line + len(frame)), _empty_rejects(), delimiter, list(notes))
        if fmt == "police-uk":
            return _parse_police_uk(raw, shown, seen)
        if fmt in STREAMED_PARTNER_FORMATS:
            from hotspot_engine.read.partners import parse_partner

            return parse_partner(raw, shown, fmt, partner, None, seen, known_lsoas)[1:]
        return _parse_force(raw, shown, offence_map)

    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise _not_streamable(exc) from exc
        table = pa.Table.from_batches([batch])
        pending = table if pending is None else pa.concat_tables([pending, table])
        while pending.num_rows >= block_rows:
            yield block(pending.slice(0, block_rows))
            first_line += block_rows
            pending = pending.slice(block_rows)
    if pending is not None and pending.num_rows:
        yield block(pending)


def _widen_to_file(path: Path, header: list[str], delimiter: str, encoding: str) -> None:
    """Widen the area to every force a police.uk file names ("Falls within") before its first block
    is placed, reading that one column through the file (0.4 s for a national month's 80 MB).
    Widened block by block, a national month (sorted by force) grew the area eleven times, each a new
    cut, study area and interior lookup: 2.66 GB and 18 minutes on the shared machine."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from hotspot_engine.read.detect import _key
    from hotspot_engine.reference.geography import widen_area

    column = next((f"c{i}" for i, h in enumerate(header) if _key(h) == "fallswithin"), None)
    if column is None:
        return
    names: set[str] = set()
    try:
        reader = pacsv.open_csv(
            str(path),
            read_options=pacsv.ReadOptions(column_names=[f"c{i}" for i in range(len(header))], skip_rows=1,
                                           block_size=READ_BLOCK_BYTES, encoding="cp1252" if encoding == "cp1252" else "utf8"),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(include_columns=[column], column_types={column: pa.string()}))
        for batch in reader:
            names.update(v for v in batch.column(0).unique().to_pylist() if v)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return  # the stream (or the whole-file reader) says what is wrong with the file
    widen_area(sorted(names))


def _prefetched(blocks: Iterator) -> Iterator:
    """Run a block generator one block ahead in a thread: parsing block k+1 (numpy, Arrow, pandas;
    much of it outside the GIL) overlaps DuckDB storing block k (which releases the GIL)."""
    import queue
    import threading

    slots: queue.Queue = queue.Queue(maxsize=1)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in blocks:
                while not stop.is_set():
                    try:
                        slots.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(("end", done))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            slots.put(("error", exc))

    worker = threading.Thread(target=produce, name="hotspot-parse", daemon=True)
    worker.start()
    try:
        while True:
            kind, item = slots.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def _header_of(path: Path, name: str, limits: Limits) -> tuple[str, list[str], str, str] | None:
    """(encoding, header, delimiter, format) of a force-extract or police.uk CSV that can stream, else
    None. The header line is read whole; a file mixing encodings cannot stream (pyarrow decodes it
    one way)."""
    with open(path, "rb") as f:
        head = f.read(min(limits.max_line_bytes + 1, 1 << 16))
        if b"\n" not in head:
            head += f.read(limits.max_line_bytes + 1 - len(head))
    if _sniff_kind(head[:8192], name) != "text":
        return None
    encoding, header_text = decode_header(first_line(head, name, limits))
    if not header_text.strip():
        return None
    header, delimiter = _split_header(header_text, name, limits)
    _check_header(header, name)
    from hotspot_engine.read.partners import detect_partner_format

    fmt = detect_partner_format(header) or (detect_format(header) if len(header) >= 2 else None)
    if fmt not in ("incidents", "police-uk", *STREAMED_PARTNER_FORMATS):
        return None
    if encoding == "cp1252" and _file_has_utf8_multibyte(path):
        return None
    return encoding, header, delimiter, str(fmt)


def _lines_within(path: Path, limit: int, chunk: int = 4 << 20) -> bool:
    """True when no line of the file is longer than ``limit`` bytes (read a chunk at a time)."""
    run = 0
    with open(path, "rb") as f:
        while piece := f.read(chunk):
            last = piece.rfind(b"\n")
            if last < 0:
                run += len(piece)
            else:
                first = piece.find(b"\n")
                inner = piece[first:last + 1].split(b"\n")
                if run + first > limit or max(map(len, inner)) > limit:
                    return False
                run = len(piece) - last - 1
            if run > limit:
                return False
    return True


def _file_has_utf8_multibyte(path: Path, chunk: int = 16 << 20) -> bool:
    with open(path, "rb") as f:
        carry = b""
        while piece := f.read(chunk):
            if has_utf8_multibyte(carry + piece):
                return True
            carry = piece[-3:]
    return False


def _load_streamed(con, path: Path, fmt: str | None, offence_map, block_rows: int = STREAM_BLOCK_ROWS,
                   name: str | None = None, limits: Limits = DEFAULT_LIMITS, partner=None) -> LoadSummary | None:
    """Store a big force-extract, police.uk or partner CSV block by block; None when
    the file is not one (or needs the whole-file reader), and the caller then loads it the ordinary
    way. ``name`` is the name shown (a zip member's, when ``path`` is its temporary file);
    ``partner`` the layer's PartnerOptions."""
    shown = name or path.name
    if fmt not in STREAM_FORMATS:
        return None
    try:
        found = _header_of(path, shown, limits)
    except InputError:
        return None  # the whole-file reader says what is wrong, with the same message
    if found is None:
        return None
    encoding, header, delimiter, detected = found
    if fmt is not None and fmt != detected:
        return None  # the whole-file reader says why the format given does not fit
    notes = _reading_notes(encoding, delimiter)
    if detected != "incidents":
        # Partner rows cost about what police.uk rows do (1M partner events read whole: 1.13 GB).
        block_rows = min(block_rows, POLICE_UK_BLOCK_ROWS)
    if detected == "police-uk":
        _widen_to_file(path, header, delimiter, encoding)
    kind = "incidents" if detected in ("incidents", "police-uk") else detected.replace("-", "_")
    known = None
    if detected == "partner-areas":  # the store is read here, not from the parsing thread
        from hotspot_engine.read.partners import known_lsoa_districts

        known = known_lsoa_districts(con)
    from concurrent.futures import ThreadPoolExecutor

    # The file's sha256 (0.35 s of CPU for 150 MB) is taken while the first block is parsed, when the
    # store side waits anyway, instead of before it (hashlib and file reads release the GIL).
    with ThreadPoolExecutor(1, thread_name_prefix="hotspot-digest") as pool:
        digest = pool.submit(store.file_digest, path)
        for read_bytes in (READ_BLOCK_BYTES, limits.max_line_bytes + (1 << 16)):
            blocks = _prefetched(_stream_blocks(path, header, delimiter, encoding, notes, offence_map, block_rows, shown,
                                                limits, detected, read_bytes, partner, known))
            try:
                with store.memory_held(con, STREAMED_DUCKDB_MEMORY if detected != "incidents" else None):
                    return store.store_stream(con, kind, blocks, file=shown, fmt=detected, sha256=digest.result)
            except _LineOverBlock:
                if not _lines_within(path, limits.max_line_bytes):
                    return None  # the whole-file reader refuses the line (a retry read 200 MB ahead: +170 MB)
                continue  # rolled back: again with blocks that hold the longest line allowed
            except _NotStreamable:
                return None
    return None
