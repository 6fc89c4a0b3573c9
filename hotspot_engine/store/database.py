"""The embedded DuckDB store shared by the app and the command line.

Tables: ``incidents``, ``patrols``, the partner layers (``partner_areas``, ``partner_events``,
``partner_places``: each row with its layer's source, owner and sharing level), ``rejects`` and ``loads``. H3 cells at every supported
resolution are computed once, at load, and stored as UBIGINT. The CSP lookup and the harm weights
are *not* stored with the rows: they are editable data files, joined at query time, so editing
``geodata/district_csp.csv`` or the weight table takes effect without reloading anything.

Every load runs in one transaction: an interrupted load leaves the store as it was.

Ids are unique by construction, not by a PRIMARY KEY: new rows are inserted with an anti-join on the
id (rows already stored, and repeats within the file, count as already present). An ART index over
millions of VARCHAR ids made every insert check each row against it and cost about half of ingest
time; the anti-join is a single hash join. Stores created with the key keep it and work the same.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hotspot_engine.errors import InputError
from hotspot_engine.filters import MAX_RES, MIN_RES
from hotspot_engine.store.sets import DDL as SETS_DDL
from hotspot_engine.store.transaction import transaction
from hotspot_engine.store.trials import DDL as TRIALS_DDL

RESOLUTIONS = tuple(range(MIN_RES, MAX_RES + 1))
H3_COLUMNS = tuple(f"h3_r{r}" for r in RESOLUTIONS)


#: Every resolution is computed from the point itself and stored. Deriving coarser cells as parents
#: of the finest one is cheaper but wrong for 5-7% of points: H3 cells do not nest exactly, and the
#: parent of a point's res-11 cell is often not the res-9 cell that holds the point.
H3_SCHEMA = {f"h3_r{r}": "UBIGINT" for r in RESOLUTIONS}  # NULL: no cell (no coordinates)

INCIDENT_COLUMNS: dict[str, str] = {
    "incident_id": "VARCHAR NOT NULL",  # unique: see _insert_new
    "source": "VARCHAR NOT NULL",  # sample | force | police-uk
    "crime_id": "VARCHAR",
    "month": "DATE NOT NULL",  # first day of the month
    "occurred_at": "TIMESTAMP",  # NULL for police.uk (month only)
    "lat": "DOUBLE NOT NULL",
    "lon": "DOUBLE NOT NULL",
    "offence": "VARCHAR",
    "ho_code": "VARCHAR",
    "knife_flag": "BOOLEAN",
    "offence_group": "VARCHAR NOT NULL",
    "sv_category": "VARCHAR",  # offence_group when it is one of the 8 SV groups, else NULL
    "is_proxy": "BOOLEAN NOT NULL",  # classified from police.uk broad types
    "district": "VARCHAR NOT NULL",
    "location": "VARCHAR",
    "lsoa_code": "VARCHAR",
    "lsoa_name": "VARCHAR",
    "falls_within": "VARCHAR",
    "load_id": "INTEGER",
    **H3_SCHEMA,
}
PATROL_COLUMNS: dict[str, str] = {
    "patrol_id": "VARCHAR NOT NULL",  # unique: see _insert_new
    "source": "VARCHAR NOT NULL",  # log | gps
    "start": "TIMESTAMP NOT NULL",
    "end": "TIMESTAMP",
    "minutes": "DOUBLE NOT NULL",
    "hotspot_ref": "VARCHAR",  # the hotspot id the log gave, if any
    "lat": "DOUBLE",
    "lon": "DOUBLE",
    "district": "VARCHAR",
    "unit": "VARCHAR",
    "load_id": "INTEGER",
    **H3_SCHEMA,
}

#: Partner layers (issue 21). Keys include the source, so two partners' identical rows stay apart.
PARTNER_COMMON: dict[str, str] = {
    "source": "VARCHAR NOT NULL",  # the layer's name (--source, default the file name)
    "owner": "VARCHAR NOT NULL",  # the agency that owns the data
    "sharing": "VARCHAR NOT NULL",  # open | partnership | restricted
}
PARTNER_AREA_COLUMNS: dict[str, str] = {
    "row_id": "VARCHAR NOT NULL",  # source|lsoa_code|month|measure
    **PARTNER_COMMON,
    "lsoa_code": "VARCHAR NOT NULL",  # as given: a 2011 code, or a 2021 code police data carries
    "district": "VARCHAR NOT NULL",
    "month": "DATE NOT NULL",
    "count": "BIGINT NOT NULL",
    "measure": "VARCHAR",
    "load_id": "INTEGER",
}
PARTNER_EVENT_COLUMNS: dict[str, str] = {
    "event_id": "VARCHAR NOT NULL",  # source|the file's id (or a content id)
    **PARTNER_COMMON,
    "month": "DATE NOT NULL",
    "occurred_at": "TIMESTAMP",  # NULL when only a date was given
    "lat": "DOUBLE NOT NULL",
    "lon": "DOUBLE NOT NULL",
    "category": "VARCHAR",
    "district": "VARCHAR NOT NULL",
    "load_id": "INTEGER",
    **H3_SCHEMA,
}
PARTNER_PLACE_COLUMNS: dict[str, str] = {
    "place_id": "VARCHAR NOT NULL",  # source|the file's id (or a content id)
    **PARTNER_COMMON,
    "name": "VARCHAR",
    "kind": "VARCHAR",
    "closing_time": "VARCHAR",  # HH:MM as given (a premises may close after midnight)
    "lat": "DOUBLE NOT NULL",
    "lon": "DOUBLE NOT NULL",
    "district": "VARCHAR NOT NULL",
    "load_id": "INTEGER",
    **H3_SCHEMA,
}
#: kind -> (table key, columns) for every table a load can write.
TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "incidents": ("incident_id", INCIDENT_COLUMNS),
    "patrols": ("patrol_id", PATROL_COLUMNS),
    "partner_areas": ("row_id", PARTNER_AREA_COLUMNS),
    "partner_events": ("event_id", PARTNER_EVENT_COLUMNS),
    "partner_places": ("place_id", PARTNER_PLACE_COLUMNS),
}
PARTNER_TABLES = ("partner_areas", "partner_events", "partner_places")


def _table_sql(columns: dict[str, str]) -> str:
    return ", ".join(f'"{k}" {v}' for k, v in columns.items())


SCHEMA = f"""
CREATE TABLE IF NOT EXISTS incidents ({_table_sql(INCIDENT_COLUMNS)});
CREATE TABLE IF NOT EXISTS patrols ({_table_sql(PATROL_COLUMNS)});
CREATE TABLE IF NOT EXISTS partner_areas ({_table_sql(PARTNER_AREA_COLUMNS)});
CREATE TABLE IF NOT EXISTS partner_events ({_table_sql(PARTNER_EVENT_COLUMNS)});
CREATE TABLE IF NOT EXISTS partner_places ({_table_sql(PARTNER_PLACE_COLUMNS)});
CREATE SEQUENCE IF NOT EXISTS load_ids START 1;
CREATE TABLE IF NOT EXISTS loads (
    load_id INTEGER PRIMARY KEY, file VARCHAR, sha256 VARCHAR, format VARCHAR, kind VARCHAR,
    loaded_at TIMESTAMP DEFAULT current_timestamp, rows_read BIGINT, added BIGINT,
    already_present BIGINT, rejected BIGINT, notes VARCHAR);
ALTER TABLE loads ADD COLUMN IF NOT EXISTS conflicts BIGINT DEFAULT 0;
CREATE TABLE IF NOT EXISTS rejects (
    load_id INTEGER, file VARCHAR, "row" BIGINT, "column" VARCHAR, reason VARCHAR, raw VARCHAR);
CREATE TABLE IF NOT EXISTS quality_flags (force VARCHAR, month VARCHAR, crime_type VARCHAR, count BIGINT,
    usual DOUBLE, ratio DOUBLE, z DOUBLE);
CREATE TABLE IF NOT EXISTS coverage_gaps (force VARCHAR, month VARCHAR, status VARCHAR, count BIGINT, usual DOUBLE);
""" + SETS_DDL + TRIALS_DDL


@dataclass
class LoadSummary:
    """What happened to every row of one file: rows_read = added + already_present + conflicts +
    rejected. For GPS files rows are pings (a visit counts the pings it was made from)."""

    file: str
    format: str
    rows_read: int
    added: int
    already_present: int
    rejected: int
    reject_reasons: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    load_id: int | None = None
    #: Rows whose id was already stored with different content (kept out; the notes give the ids).
    conflicts: int = 0

    def line(self) -> str:
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(self.reject_reasons.items(), key=lambda kv: -kv[1]))
        text = (
            f"{self.file} [{self.format}]: read {self.rows_read}, added {self.added}, "
            f"already present {self.already_present}, rejected {self.rejected}"
        ) + (f", conflicts {self.conflicts}" if self.conflicts else "")
        return text + (f" ({reasons})" if reasons else "")

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.added + self.already_present + self.conflicts + self.rejected


def connect(path: str | Path | None = None, read_only: bool = False, threads: int | None = None):
    """Open (and create) the store at ``path``, by default the one the settings name (settings.toml,
    $HOTSPOT_DB: the same for the app and the command line). ``:memory:`` gives a throwaway store.
    ``threads`` caps DuckDB's threads for this connection (the app's per-query share of the cores)."""
    import duckdb

    if not path:
        from hotspot_engine.settings import load_settings

        path = load_settings().db_path
    path = str(path)
    if path != ":memory:":
        if Path(path).is_dir():
            raise InputError(f"--db {Path(path).name}: is a folder; give the store's file name")
        if read_only and not Path(path).exists():
            raise InputError(f"{Path(path).name}: no store here yet; run 'ingest' or 'sample' first")
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"--db {Path(path).name}: cannot create its folder ({exc.strerror or type(exc).__name__})") from None
    try:
        con = duckdb.connect(path, read_only=read_only)
    except duckdb.IOException as exc:
        # DuckDB quotes the full path; only the file's name may be shown.
        message = re.sub(r'"[^"]*"', f'"{Path(path).name}"', str(exc).splitlines()[0])
        if "lock" in message.lower():
            raise InputError(f"{Path(path).name}: the store is in use by another process; try again when it finishes") from None
        raise InputError(f"{Path(path).name}: cannot open the store ({message})") from None
    # DuckDB draws a progress bar on the terminal for long statements: noise in command-line output.
    con.execute("SET enable_progress_bar = false")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if not read_only:
        con.execute(SCHEMA)
    activate_area(con)
    return con


def activate_area(con) -> tuple[str, ...]:
    """Make the store's area the one geography works on: settings.toml [area] forces when given
    (then fixed: a national police.uk file loads only those forces' rows, the rest rejected as
    outside the area), else the force areas its incidents name (police.uk "Falls within"). A store
    naming none, or only Hampshire, keeps the HIPS files. Returns the PFA codes in force."""
    import duckdb

    from hotspot_engine.reference import area as area_pack
    from hotspot_engine.reference import geography
    from hotspot_engine.settings import load_settings

    try:
        names = [r[0] for r in con.execute("SELECT DISTINCT falls_within FROM incidents").fetchall()]
    except duckdb.Error:  # a read-only store from before the incidents table
        names = []
    configured = area_pack.pfa_codes(load_settings().area_forces, geography.GEODATA_DIR, strict=True)
    if configured:
        return geography.use_area(configured, fixed=True)
    return geography.use_area(area_pack.pfa_codes(names, geography.GEODATA_DIR))


def h3_columns(lat: np.ndarray, lon: np.ndarray, resolutions: tuple[int, ...] = RESOLUTIONS) -> dict[str, np.ndarray]:
    """h3_r7..h3_r11 (or ``resolutions``) as uint64 arrays (0 = no cell), each the cell that holds the point."""
    from hotspot_engine.reference.geography import cells_for_points

    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    return {f"h3_r{res}": cells_for_points(lat, lon, res) for res in resolutions}


def with_h3(frame: pd.DataFrame) -> pd.DataFrame:
    """Add h3_r7..h3_r11 from lat/lon (0 where there are no coordinates; stored as NULL). A uint64
    column the parser already filled (the res-9 cells its district lookup computed) is kept."""
    lat = frame["lat"].to_numpy(dtype=float, na_value=np.nan)
    lon = frame["lon"].to_numpy(dtype=float, na_value=np.nan)
    todo = tuple(r for r in RESOLUTIONS if not (f"h3_r{r}" in frame.columns and frame[f"h3_r{r}"].dtype == np.uint64))
    return frame.assign(**h3_columns(lat, lon, todo))


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _to_arrow(frame: pd.DataFrame):
    """The frame as an Arrow table for DuckDB, with H3 cells of 0 as NULL ("no cell"). DuckDB reads
    Arrow without the per-value Python work that object columns of a pandas frame need."""
    import pyarrow as pa

    h3 = [c for c in frame.columns if c in H3_COLUMNS]
    table = pa.Table.from_pandas(frame.drop(columns=h3), preserve_index=False)
    for col in h3:
        values = frame[col].to_numpy(dtype=np.uint64, na_value=0) if frame[col].dtype != np.uint64 else frame[col].to_numpy()
        table = table.append_column(col, pa.array(values, type=pa.uint64(), mask=values == 0))
    return table


def _first_occurrences(keys) -> np.ndarray | None:
    """Mask keeping the first row of each key, or None when every key is distinct (the usual case,
    checked with one hash pass)."""
    import pyarrow.compute as pc

    if pc.count_distinct(keys, mode="all").as_py() == len(keys):
        return None
    return ~pd.Series(keys.to_pandas()).duplicated(keep="first").to_numpy()


#: The fields that make two rows with one id the same record. A second file giving an id already
#: stored with different values here is a conflict (reported with the first ids), not "already
#: present": issue 20 found the first file silently winning.
CONTENT_COLUMNS = {
    "incidents": ("month", "occurred_at", "lat", "lon", "offence", "ho_code", "knife_flag", "location"),
    "patrols": ("start", "end", "minutes", "hotspot_ref", "lat", "lon", "unit"),
}
CONFLICT_IDS_SHOWN = 5


def _stored_columns(con, table: str) -> set[str]:
    # A store made while coarser cells were virtual columns derives them: insert only stored columns.
    return {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND is_generated = 'NEVER'",
        [table]).fetchall()}


def _differs_sql(table: str, new: str, old: str, present: list[str] | None = None) -> str:
    # Partner layers' keys are built from their content, so an existing key is the same row.
    columns = [c for c in CONTENT_COLUMNS.get(table, ()) if present is None or c in present]
    return " OR ".join(f'{new}."{c}" IS DISTINCT FROM {old}."{c}"' for c in columns) or "false"


def _insert_new(con, table: str, key: str, frame: pd.DataFrame, columns: dict[str, str]
                ) -> tuple[np.ndarray, np.ndarray]:
    """Insert rows whose key is not yet stored (the first of repeats within ``frame``). Returns
    (added, conflict) masks over ``frame``'s rows: conflict marks rows whose id is stored with
    different content. Runs inside the caller's transaction."""
    added = np.zeros(len(frame), dtype=bool)
    conflict = np.zeros(len(frame), dtype=bool)
    if frame.empty:
        return added, conflict
    stored = _stored_columns(con, table)
    cols = [c for c in columns if c in frame.columns and c in stored]
    incoming = _to_arrow(frame[cols])
    keep = _first_occurrences(incoming.column(key))
    positions = np.arange(len(frame)) if keep is None else np.flatnonzero(keep)
    if keep is not None:
        incoming = incoming.filter(keep)
    import pyarrow as pa

    incoming = incoming.append_column("_pos", pa.array(positions, pa.int64()))
    col_list = ", ".join(f'"{c}"' for c in cols)
    con.register("_incoming", incoming)
    # Not unregistered in a `finally`: after a failed INSERT the transaction is aborted, unregistering
    # raises "transaction is aborted" and hides the real error; the ROLLBACK of the caller's
    # transaction() drops the view.
    present = con.execute(
        f'SELECT n._pos, ({_differs_sql(table, "n", "t", cols)}) AS differs FROM _incoming n '
        f'JOIN {table} t ON t."{key}" = n."{key}"').fetchnumpy() if table_count(con, table) else None
    con.execute(
        f"INSERT INTO {table} ({col_list}) SELECT {col_list} FROM _incoming n "
        f'WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t."{key}" = n."{key}")')
    con.unregister("_incoming")
    added[positions] = True
    if present is not None and len(present["_pos"]):
        at = np.asarray(present["_pos"], dtype=np.int64)
        added[at] = False
        conflict[at[np.asarray(present["differs"], dtype=bool)]] = True
    return added, conflict


def _conflict_note(ids: list[str], count: int) -> str:
    shown = ", ".join(ids[:CONFLICT_IDS_SHOWN]) + (" ..." if count > CONFLICT_IDS_SHOWN else "")
    return (f"conflicts: {count:,} row(s) give an id already stored with different content; the stored row is kept "
            f"(first ids: {shown})")


def _store_rejects(con, rejects: pd.DataFrame, load_id: int, file: str) -> None:
    """Keep each rejected row once: a row already kept from an earlier load of the same data (same
    row number, reason and text) is not stored again (issue 20: every reload added them anew)."""
    if rejects.empty:
        return
    _new_rejects = rejects.assign(load_id=load_id, file=file)[["load_id", "file", "row", "column", "reason", "raw"]]  # noqa: F841
    con.execute(
        'INSERT INTO rejects SELECT * FROM _new_rejects n WHERE NOT EXISTS (SELECT 1 FROM rejects r WHERE '
        'r."row" = n."row" AND r.reason = n.reason AND r.raw IS NOT DISTINCT FROM n.raw '
        'AND r."column" IS NOT DISTINCT FROM n."column")')


def store_rows(
    con,
    kind: str,
    rows: pd.DataFrame,
    rejects: pd.DataFrame,
    file: str,
    fmt: str,
    sha256: str = "",
    notes: list[str] | None = None,
) -> LoadSummary:
    """Write one file's accepted rows and rejects in a single transaction and log the load.

    ``rows`` must already carry lat/lon, district and (for incidents) offence_group; H3 columns at
    every resolution are computed here from lat/lon.
    ``rejects`` has columns row, column, reason, raw. Duplicates *within* the file and rows already
    stored both count as already present.
    """
    if kind not in TABLES:
        raise ValueError(kind)
    key, columns = TABLES[kind]
    if not rows.empty and "lat" in rows:
        rows = with_h3(rows)
    # GPS visits carry how many pings each was made from: the account is kept in pings, the rows read.
    weight = rows.pop("pings").to_numpy(dtype=np.int64) if "pings" in rows.columns else np.ones(len(rows), np.int64)
    with transaction(con):
        load_id = con.execute("SELECT nextval('load_ids')").fetchall()[0][0]
        rows = rows.assign(load_id=np.int32(load_id))
        added_mask, conflict_mask = _insert_new(con, kind, key, rows, columns)
        _store_rejects(con, rejects, load_id, file)
        added, conflicts = int(weight[added_mask].sum()), int(weight[conflict_mask].sum())
        notes = list(notes or [])
        if conflict_mask.any():
            notes.append(_conflict_note([str(v) for v in rows[key].to_numpy()[conflict_mask]], int(conflict_mask.sum())))
        summary = LoadSummary(
            file=file,
            format=fmt,
            rows_read=int(weight.sum()) + len(rejects),
            added=added,
            already_present=int(weight.sum()) - added - conflicts,
            rejected=len(rejects),
            reject_reasons=rejects["reason"].value_counts().to_dict() if not rejects.empty else {},
            notes=notes,
            load_id=int(load_id),
            conflicts=conflicts,
        )
        _log_load(con, summary, sha256, kind)
    return summary


def _log_load(con, summary: LoadSummary, sha256: str, kind: str) -> None:
    con.execute(
        "INSERT INTO loads (load_id, file, sha256, format, kind, rows_read, added, already_present, rejected, notes, "
        "conflicts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [summary.load_id, summary.file, sha256, summary.format, kind, summary.rows_read, summary.added,
         summary.already_present, summary.rejected, "; ".join(summary.notes), summary.conflicts],
    )


def add_load_note(con, summary: LoadSummary, note: str) -> None:
    """Record one more note on a load already logged (what an archive skipped is known only after
    its last member)."""
    if summary.load_id is None:
        return
    con.execute("UPDATE loads SET notes = ? WHERE load_id = ?", ["; ".join(summary.notes), summary.load_id])


def _merge_notes(parts: list[list[str]]) -> list[str]:
    """Notes of the blocks of one file as one list: a note repeated by every block is kept once;
    notes that differ only in their numbers are one note with the counts summed ("1,200 rows had ..."
    + "800 rows had ..." -> "2,000 rows had ..."). A count is a number followed by a word ("rows",
    "of", "text values"); other numbers ("ISO 8601", "EPSG:27700") stay as written, and an
    "X of Y rows differ (p%)" note gets its percentage recomputed."""
    import re

    number = re.compile(r"\d[\d,]*(?:\.\d+)?")
    merged: dict[str, list] = {}  # template -> [tokens of the first note, [values per note]]
    for notes in parts:
        for note in notes:
            template = number.sub("#", note)
            values = [float(v.replace(",", "")) for v in number.findall(note)]
            merged.setdefault(template, [number.findall(note), []])[1].append(values)
    out = []
    for template, (tokens, seen) in merged.items():
        pieces = template.split("#")
        text = pieces[0]
        varying = [bool(re.match(r" [a-z]", piece)) for piece in pieces[1:]]
        totals = [sum(v[k] for v in seen) for k in range(len(tokens))]
        if "%" in template and len(tokens) == 3 and totals[1]:
            totals[2], varying[2] = 100.0 * totals[0] / totals[1], True
        for k, piece in enumerate(pieces[1:]):
            if not varying[k]:
                text += tokens[k] + piece
            else:
                text += (f"{totals[k]:.2f}" if piece.startswith("%") else f"{totals[k]:,.0f}") + piece
        out.append(text)
    return out


def store_stream(con, kind: str, blocks, file: str, fmt: str, sha256: str | Callable[[], str] = "") -> LoadSummary:
    """Like :func:`store_rows` for a file parsed block by block: ``blocks`` yields (rows, rejects,
    notes) per block; ``sha256`` may be a callable, asked for the digest only when the load is logged
    (the caller hashes the file while its blocks are parsed). Still one transaction for the whole file (a failure in any block, parsing
    included, leaves the store as it was), while memory holds one block at a time.

    Blocks are appended without a per-block anti-join (each would rescan the rows already stored);
    once all are in, one join removes this load's rows whose id an earlier load holds and one pass
    keeps the first of ids repeated within the file, so the counts match :func:`store_rows`."""
    if kind not in TABLES:
        raise ValueError(kind)
    key, columns = TABLES[kind]
    with transaction(con):
        load_id = con.execute("SELECT nextval('load_ids')").fetchall()[0][0]
        stored_before = table_count(con, kind)
        read = rejected = accepted = 0
        reasons: dict[str, int] = {}
        notes: list[list[str]] = []
        key_hashes: list[np.ndarray] = []  # 8 bytes per row: enough to rule out repeats cheaply
        physical = {r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND is_generated = 'NEVER'",
            [kind]).fetchall()}
        for rows, rejects, block_notes in blocks:
            notes.append(block_notes)
            read += len(rows) + len(rejects)
            if not rejects.empty:
                rejected += len(rejects)
                for reason, n in rejects["reason"].value_counts().items():
                    reasons[reason] = reasons.get(reason, 0) + int(n)
                _store_rejects(con, rejects, load_id, file)
            if rows.empty:
                continue
            accepted += len(rows)
            if "lat" in rows:
                rows = with_h3(rows)
            rows = rows.assign(load_id=np.int32(load_id))
            cols = [c for c in columns if c in rows.columns and c in physical]
            # Read through DuckDB's replacement scan of this local variable, not con.register: a view
            # registered and dropped inside a transaction stays in the catalog (with its Arrow data)
            # until COMMIT, which kept every block in memory.
            _incoming_block = _to_arrow(rows[cols])  # noqa: F841 - read by name in the SQL below
            col_list = ", ".join(f'"{c}"' for c in cols)
            con.execute(f"INSERT INTO {kind} ({col_list}) SELECT {col_list} FROM _incoming_block")
            key_hashes.append(con.execute(f'SELECT hash("{key}") AS h FROM _incoming_block').fetchnumpy()["h"])
            del rows, _incoming_block
        conflict_ids: list[str] = []
        if stored_before:
            conflict_ids = [str(r[0]) for r in con.execute(
                f'SELECT n."{key}" FROM {kind} n JOIN {kind} t ON t."{key}" = n."{key}" AND t.load_id IS DISTINCT FROM ? '
                f'WHERE n.load_id = ? AND ({_differs_sql(kind, "n", "t")}) ORDER BY n.rowid', [load_id, load_id]).fetchall()]
        if stored_before:
            con.execute(
                f'DELETE FROM {kind} n WHERE n.load_id = ? AND EXISTS '
                f'(SELECT 1 FROM {kind} t WHERE t."{key}" = n."{key}" AND t.load_id IS DISTINCT FROM ?)',
                [load_id, load_id])
        # Distinct 64-bit hashes prove distinct ids (a count(DISTINCT id) over ten million strings
        # takes a gigabyte and many seconds); equal hashes send the file to the exact check.
        hashes = np.sort(np.concatenate(key_hashes)) if key_hashes else np.zeros(0, np.uint64)
        if hashes.size > 1 and bool((hashes[1:] == hashes[:-1]).any()):
            con.execute(
                f'DELETE FROM {kind} WHERE load_id = ? AND rowid NOT IN '
                f'(SELECT min(rowid) FROM {kind} WHERE load_id = ? GROUP BY "{key}")', [load_id, load_id])
        added = int(con.execute(f"SELECT count(*) FROM {kind} WHERE load_id = ?", [load_id]).fetchall()[0][0])
        merged = _merge_notes(notes) + ([_conflict_note(conflict_ids, len(conflict_ids))] if conflict_ids else [])
        summary = LoadSummary(file=file, format=fmt, rows_read=read, added=added,
                              already_present=accepted - added - len(conflict_ids), rejected=rejected,
                              reject_reasons=reasons, notes=merged, load_id=int(load_id), conflicts=len(conflict_ids))
        _log_load(con, summary, sha256() if callable(sha256) else sha256, kind)
    return summary


def export_parquet(con, out_dir: str | Path, table: str = "incidents") -> Path:
    """Write a table as Hive-partitioned Parquet (``year=YYYY/*.parquet``, every H3 column
    materialised) for engines that read the same layout: Spark with Apache Sedona, Trino, another
    DuckDB. The CSP lookup and harm weights stay out, as in the store: they are joined at query time.
    Returns ``out_dir``. See docs/scaling.md."""
    if table not in ("incidents", "patrols"):
        raise ValueError(table)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    when = "month" if table == "incidents" else "start"
    columns = ", ".join(f'"{c}"' for c in (INCIDENT_COLUMNS if table == "incidents" else PATROL_COLUMNS))
    target = str(out).replace("'", "''")
    con.execute(f"COPY (SELECT {columns}, year({when}) AS year FROM {table}) TO '{target}' "
                "(FORMAT parquet, PARTITION_BY (year), OVERWRITE_OR_IGNORE true, COMPRESSION zstd)")
    return out


@contextmanager
def memory_held(con, limit: str | None) -> Iterator[None]:
    """DuckDB's memory_limit set to ``limit`` (e.g. "256MB") while a load runs into a store on disk,
    which then writes what it holds (a streamed file's uncommitted rows) to the file; then its default.
    A store in memory has nowhere to write them and is left as it is."""
    import duckdb

    on_disk = limit and con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0][0]
    if on_disk:
        con.execute(f"SET memory_limit = '{limit}'")
    try:
        yield
    finally:
        if on_disk:
            try:
                con.execute("RESET memory_limit")
            except duckdb.Error:  # the connection failed (a full disk): the load's own error is the one to show
                pass


def table_count(con, table: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def iter_tables() -> Iterator[str]:
    yield from ("incidents", "patrols", *PARTNER_TABLES, "loads", "rejects")


#: The note the app writes on the loads of the built-in synthetic sample, so the sample's rows can be
#: told from real ones and removed exactly (the incidents also carry ids HIPS-SYN-...).
SAMPLE_LOAD_NOTE = "built-in synthetic sample"


def label_sample_loads(con, after_load_id: int) -> None:
    """Mark every load after ``after_load_id`` as the built-in sample's (the app's first start)."""
    con.execute("UPDATE loads SET notes = ? || CASE WHEN COALESCE(notes, '') = '' THEN '' ELSE '; ' || notes END "
                "WHERE load_id > ?",
                [SAMPLE_LOAD_NOTE, after_load_id])


def _sample_patrol_loads(con) -> list[int]:
    """Loads holding the sample's patrols: marked ones, or (stores made before the mark) the patrol
    load of the sample's patrols.csv made right after the load of its incidents."""
    marked = [r[0] for r in con.execute(
        "SELECT load_id FROM loads WHERE kind = 'patrols' AND starts_with(notes, ?)", [SAMPLE_LOAD_NOTE]).fetchall()]
    if marked:
        return marked
    return [r[0] for r in con.execute(
        "SELECT l.load_id FROM loads l WHERE l.kind = 'patrols' AND l.file = 'patrols.csv' AND l.load_id - 1 IN "
        "(SELECT DISTINCT load_id FROM incidents WHERE starts_with(incident_id, 'HIPS-SYN-'))").fetchall()]


def remove_sample_rows(con) -> tuple[int, int]:
    """Delete exactly the built-in sample's rows (incidents with ids HIPS-SYN-..., the patrols of the
    sample's patrol load) in one transaction and log the removal as a load, so the data version
    moves and no cached result outlives it. Returns (incidents removed, patrols removed)."""
    with transaction(con):
        loads = _sample_patrol_loads(con)
        incidents = con.execute("SELECT count(*) FROM incidents WHERE starts_with(incident_id, 'HIPS-SYN-')").fetchall()[0][0]
        con.execute("DELETE FROM incidents WHERE starts_with(incident_id, 'HIPS-SYN-')")
        patrols = 0
        if loads:
            patrols = con.execute("SELECT count(*) FROM patrols WHERE load_id IN (SELECT unnest(?))", [loads]).fetchall()[0][0]
            con.execute("DELETE FROM patrols WHERE load_id IN (SELECT unnest(?))", [loads])
        # The partner sample's layers, loaded with the sample at first start (marked loads only).
        marked = [r[0] for r in con.execute("SELECT load_id FROM loads WHERE starts_with(notes, ?)",
                                            [SAMPLE_LOAD_NOTE]).fetchall()]
        for table in PARTNER_TABLES if marked else ():
            con.execute(f"DELETE FROM {table} WHERE load_id IN (SELECT unnest(?))", [marked])
        load_id = con.execute("SELECT nextval('load_ids')").fetchall()[0][0]
        con.execute("INSERT INTO loads (load_id, file, format, kind, rows_read, added, already_present, rejected, notes) "
                    "VALUES (?, 'built-in sample', 'sample', 'removal', 0, 0, 0, 0, ?)",
                    [load_id, f"removed the built-in synthetic sample: {incidents} incidents, {patrols} patrols"])
    activate_area(con)  # the sample named Hampshire: the area is now what the rest names
    return int(incidents), int(patrols)
