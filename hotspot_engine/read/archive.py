"""Zip archives and folders: which members and files are data, and the size limits on them.
"""
from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

from hotspot_engine.errors import InputError

DATA_EXTENSIONS = (".csv", ".txt", ".tsv", ".parquet", ".pq", ".xlsx", ".xlsm")
MAX_ZIP_DEPTH = 3


def _too_big(name: str, size: int, max_bytes: int) -> InputError:
    return InputError(f"{name}: {size / 1e6:,.1f} MB is over the {max_bytes / 1e6:,.1f} MB limit; split the file "
                      f"or raise the limit")


def _zip_members(data: bytes, name: str, max_bytes: int, depth: int = 1) -> Iterator[tuple[str, bytes]]:
    """(display name, bytes) of every data file in a zip, recursing into nested zips."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise InputError(f"{name}: not a valid zip archive") from None
    found = 0
    with archive:
        infos = sorted((i for i in archive.infolist() if not i.is_dir()), key=lambda i: i.filename)
        for info in infos:
            base = Path(info.filename).name
            if base.startswith(".") or "__MACOSX" in info.filename:
                continue
            ext = Path(base).suffix.lower()
            if ext not in DATA_EXTENSIONS and ext != ".zip":
                continue
            display = f"{name}/{base}"
            if info.file_size > max_bytes:
                raise _too_big(display, info.file_size, max_bytes)
            try:
                member = archive.read(info)
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as exc:
                raise InputError(f"{display}: cannot extract from the zip ({exc})") from None
            if ext == ".zip" or member[:4] == b"PK\x03\x04" and ext not in (".xlsx", ".xlsm"):
                if depth >= MAX_ZIP_DEPTH:
                    raise InputError(f"{display}: zip nested more than {MAX_ZIP_DEPTH} deep")
                for item in _zip_members(member, display, max_bytes, depth + 1):
                    found += 1
                    yield item
                continue
            found += 1
            yield display, member
    if not found:
        raise InputError(f"{name}: no CSV, Parquet or XLSX files inside the zip")


def _files_under(path: Path) -> list[Path]:
    files = sorted(p for p in path.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
                   and p.suffix.lower() in (*DATA_EXTENSIONS, ".zip"))
    if not files:
        raise InputError(f"{path.name}: folder holds no CSV, Parquet, XLSX or zip files")
    return files
