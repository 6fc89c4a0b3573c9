"""The one exception type for input a user can fix: its message names the file, row or column."""
from __future__ import annotations


class InputError(ValueError):
    """Unusable input or arguments. The command line prints the message on one line and exits 2;
    the pages show it as an error box. Messages never contain incident rows or full paths."""


#: Words of "no space left" errors from libraries that do not raise OSError (GDAL's DataLayerError,
#: DuckDB's IOException and FatalException).
_DISK_FULL_TEXT = ("No space left on device", "Disk quota exceeded")


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is a full disk or an exhausted quota."""
    import errno

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if any(text in str(seen) for text in _DISK_FULL_TEXT):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
