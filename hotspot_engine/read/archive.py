"""Zip archives and folders: which members and files are data, and the limits on what they unpack to.

Members are never read whole into memory: each is decompressed in 1 MiB pieces into a temporary
file (counting bytes as it goes, against the member, archive and ratio limits of
:class:`~hotspot_engine.read.limits.Limits`), and that file is then loaded like any file on disk, so
a big force extract inside a zip streams block by block too. Python's zipfile never returns more
than a member's declared size (and checks its CRC), so the declared sizes checked before extraction
bound what extraction can write; the running count is a second guard.

Every member that is not loaded is counted with its reason (hidden or system file, not a data file,
unsafe path), so the account of an archive covers all of it.
"""
from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from hotspot_engine.errors import InputError
from hotspot_engine.read.limits import Limits, check_ratio, too_big

DATA_EXTENSIONS = (".csv", ".txt", ".tsv", ".parquet", ".pq", ".xlsx", ".xlsm")
WORKBOOK_EXTENSIONS = (".xlsx", ".xlsm")
MAX_ZIP_DEPTH = 3
CHUNK = 1 << 20


def _too_big(name: str, size: int, max_bytes: int) -> InputError:
    return too_big(name, size, max_bytes)


@dataclass
class ArchiveAccount:
    """What an archive held besides the data files loaded from it, and how much it unpacked to."""

    skipped: Counter = field(default_factory=Counter)
    unpacked_bytes: int = 0

    def note(self) -> str | None:
        if not self.skipped:
            return None
        total = sum(self.skipped.values())
        parts = ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items()))
        return f"zip: {total} member(s) not loaded ({parts})"


def is_zip(head: bytes, name: str) -> bool:
    """A zip archive to unpack (an .xlsx is a zip too, but a workbook)."""
    return head[:4] in (b"PK\x03\x04", b"PK\x05\x06") and Path(name).suffix.lower() not in WORKBOOK_EXTENSIONS


def _skip_reason(filename: str) -> str | None:
    """Why a member is not loaded, or None for a data file. Backslashes count as separators (zips
    made on Windows), and a name climbing out of the archive is unsafe whatever it holds."""
    parts = PurePosixPath(filename.replace("\\", "/")).parts
    if not parts:
        return "unnamed"
    if ".." in parts or filename.startswith(("/", "\\")) or ":" in parts[0]:
        return "unsafe path"
    if any(part.startswith(".") for part in parts) or "__MACOSX" in parts:
        return "hidden or system file"
    if Path(parts[-1]).suffix.lower() not in (*DATA_EXTENSIONS, ".zip"):
        return "not a data file"
    return None


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, display: str, target: Path, limits: Limits,
             account: ArchiveAccount) -> None:
    """Decompress one member into ``target`` piece by piece, within every limit."""
    written = 0
    try:
        with archive.open(info) as member, open(target, "wb") as out:
            while piece := member.read(CHUNK):
                written += len(piece)
                account.unpacked_bytes += len(piece)
                if written > limits.max_file_bytes:
                    raise too_big(display, written, limits.max_file_bytes)
                if account.unpacked_bytes > limits.max_total_bytes:
                    raise too_big(display, account.unpacked_bytes, limits.max_total_bytes, "the archive unpacks to")
                check_ratio(display, written, info.compress_size, limits)
                out.write(piece)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, NotImplementedError, EOFError, OSError) as exc:
        reason = type(exc).__name__ if isinstance(exc, OSError) else str(exc)
        raise InputError(f"{display}: cannot extract from the zip ({reason})") from None


def _open_zip(source: Path | bytes, name: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(source if isinstance(source, Path) else io.BytesIO(source))
    except (zipfile.BadZipFile, OSError):
        raise InputError(f"{name}: not a valid zip archive") from None


def _check_declared(info: zipfile.ZipInfo, display: str, limits: Limits, account: ArchiveAccount) -> None:
    """Refuse on the sizes the archive declares, before decompressing anything."""
    if info.file_size > limits.max_file_bytes:
        raise too_big(display, info.file_size, limits.max_file_bytes)
    check_ratio(display, info.file_size, info.compress_size, limits)
    if account.unpacked_bytes + info.file_size > limits.max_total_bytes:
        raise too_big(display, account.unpacked_bytes + info.file_size, limits.max_total_bytes,
                      "the archive unpacks to")


def zip_members(source: Path | bytes, name: str, limits: Limits, workdir: Path, account: ArchiveAccount,
                depth: int = 1) -> Iterator[tuple[str, Path]]:
    """(display name, temporary file) of every data file in a zip, recursing into nested zips. Each
    temporary file is removed once the caller has moved on to the next member."""
    found = 0
    with _open_zip(source, name) as archive:
        infos = sorted((i for i in archive.infolist() if not i.is_dir()), key=lambda i: i.filename)
        if not infos and depth == 1:
            raise InputError(f"{name}: the zip is empty")
        declared = account.unpacked_bytes + sum(i.file_size for i in infos if not _skip_reason(i.filename))
        if declared > limits.max_total_bytes:  # refused before any member is unpacked or loaded
            raise too_big(name, declared, limits.max_total_bytes, "the archive unpacks to")
        for index, info in enumerate(infos):
            reason = _skip_reason(info.filename)
            if reason:
                account.skipped[reason] += 1
                continue
            display = f"{name}/{PurePosixPath(info.filename.replace(chr(92), '/')).name}"
            _check_declared(info, display, limits, account)
            target = workdir / f"d{depth}-m{index}{Path(display).suffix.lower()}"
            _extract(archive, info, display, target, limits, account)
            try:
                with open(target, "rb") as f:
                    head = f.read(4)
                if Path(display).suffix.lower() == ".zip" or is_zip(head, display):
                    if depth >= MAX_ZIP_DEPTH:
                        raise InputError(f"{display}: zip nested more than {MAX_ZIP_DEPTH} deep")
                    for item in zip_members(target, display, limits, workdir, account, depth + 1):
                        found += 1
                        yield item
                    continue
                found += 1
                yield display, target
            finally:
                target.unlink(missing_ok=True)
    if not found and depth == 1:
        skipped = f" ({sum(account.skipped.values())} other member(s) skipped)" if account.skipped else ""
        raise InputError(f"{name}: no CSV, Parquet or XLSX files inside the zip{skipped}")


@contextmanager
def scratch_folder() -> Iterator[Path]:
    """A private temporary folder for unpacked members, removed afterwards whatever happens."""
    folder = Path(tempfile.mkdtemp(prefix="hotspot-unzip-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _files_under(path: Path) -> list[Path]:
    files = sorted(p for p in path.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
                   and p.suffix.lower() in (*DATA_EXTENSIONS, ".zip"))
    if not files:
        raise InputError(f"{path.name}: folder holds no CSV, Parquet, XLSX or zip files")
    return files
