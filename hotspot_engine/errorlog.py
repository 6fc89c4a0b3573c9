"""Internal errors, recorded for the maintainers without recording data.

A record is the exception's type and its traceback frames (file, line number, function name) and
nothing else: no local values and no exception message, because either can carry incident rows,
free text or server paths (tests/test_logs.py keeps every log free of data). The file is a
rotating log (1 MB, three old files kept) at ``[logging] error_log`` in settings.toml, or
$HOTSPOT_ERROR_LOG. Writing it never raises: a front end that cannot record an error says so
instead of claiming it was noted.
"""
from __future__ import annotations

import datetime as dt
import logging
import logging.handlers
import os
import threading
import traceback
from pathlib import Path

MAX_BYTES = 1_000_000
BACKUPS = 3
_LOCK = threading.Lock()
_HANDLERS: dict[Path, logging.Handler] = {}


def error_log_path() -> Path:
    """Where internal errors are recorded: $HOTSPOT_ERROR_LOG, else the settings' error_log."""
    if os.environ.get("HOTSPOT_ERROR_LOG"):
        return Path(os.environ["HOTSPOT_ERROR_LOG"])
    from hotspot_engine.settings import load_settings

    return load_settings().error_log


def describe_error(exc: BaseException) -> str:
    """The exception type and one line per frame, innermost last: 'file:line in function'. The
    chained causes come first, as Python prints them."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    lines = []
    for link in reversed(chain):
        lines.append(f"{type(link).__module__}.{type(link).__qualname__}")
        for frame in traceback.extract_tb(link.__traceback__):
            lines.append(f"  {frame.filename}:{frame.lineno} in {frame.name}")
    return "\n".join(lines)


def _handler(path: Path) -> logging.Handler:
    handler = _HANDLERS.get(path)
    if handler is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(message)s"))
        _HANDLERS[path] = handler
    return handler


def record_error(exc: BaseException, where: str = "") -> Path | None:
    """Append one record for ``exc`` (``where``: which page or command) to the error log. Returns
    the log's path, or None when it could not be written."""
    try:
        path = error_log_path()
        text = f"{dt.datetime.now(dt.UTC).isoformat(timespec='seconds')} {where or 'hotspot'}\n" \
               f"{describe_error(exc)}\n"
        record = logging.LogRecord("hotspot_engine.errorlog", logging.ERROR, __file__, 0, text, None, None)
        with _LOCK:
            handler = _handler(path)
            handler.emit(record)
            handler.flush()
        return path
    except Exception:  # noqa: BLE001 - recording must never become the error
        return None
