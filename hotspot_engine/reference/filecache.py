"""Readers of the small editable lookup files (district-to-CSP, harm weights, exclusions), memoised
on the file's path, modification time and size. Every query joins these lookups, and re-reading
them on each page update cost a tenth of a second per run under load; keying on the file's stamp
keeps the promise that an edited file applies on the next query without a restart."""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, wraps
from pathlib import Path
from typing import TypeVar

import pandas as pd

T = TypeVar("T")


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None  # the reader itself reports the missing file, naming it
    return info.st_mtime_ns, info.st_size


def read_once_per_version(reader: Callable[[Path], T]) -> Callable[[Path], T]:
    """Wrap ``reader(path)`` so a file is parsed again only when it changes. Frames come back as
    copies, so a caller that edits its result cannot change what the next caller gets. Errors are
    not cached: a broken file is reported on every call until it is mended."""

    @lru_cache(maxsize=16)
    def read(path: str, stamp: tuple[int, int] | None) -> T:
        return reader(Path(path))

    @wraps(reader)
    def wrapper(path: Path) -> T:
        path = Path(path)
        result = read(str(path), _stamp(path))
        return result.copy() if isinstance(result, pd.DataFrame) else result

    return wrapper
