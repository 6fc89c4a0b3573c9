"""Every file the engine writes goes through here: staged under a temporary name in the target's own
folder and renamed into place (``os.replace``) only when the whole command has succeeded.

Why: issue 20 found ``patrol-plan --briefing`` writing the plan CSV and then failing on the PDF, so a
failed command left half a result; and an unwritable ``--out`` (a folder, a read-only filesystem, a
missing parent that cannot be made) ended as an internal error. Staging in the same folder makes each
rename atomic on the same filesystem, and checking the target when it is staged (before any work is
written) turns every such problem into one line naming the option and the file.
"""
from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hotspot_engine.errors import InputError, is_disk_full

#: OS errors that mean "this place cannot be written", told to the user as such (exit 2); any other
#: OSError is an internal error.
_UNWRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.ENOTDIR, errno.EISDIR,
               errno.ENOENT, errno.ENAMETOOLONG, errno.EEXIST}


#: Free space below which a failed write is put down to a full disk.
FULL_DISK_BYTES = 1 << 20


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


class Outputs:
    """The files of one command, staged; see :func:`staged_outputs`."""

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path, str]] = []

    def stage(self, target: str | Path, label: str = "") -> Path:
        """A temporary path beside ``target`` to write to (it does not exist yet: some writers refuse
        an existing empty file). ``label`` names the option in messages (e.g. '--briefing')."""
        target = Path(target)
        shown = f"{label} {target.name}".strip() if label else target.name
        if target.is_dir():
            raise InputError(f"{shown}: is a folder; give a file name")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"{shown}: cannot create its folder ({_reason(exc)})") from None
        try:
            fd, name = tempfile.mkstemp(prefix=f".{target.stem}.partial-", suffix=target.suffix, dir=target.parent)
        except OSError as exc:
            raise InputError(f"{shown}: cannot write there ({_reason(exc)})") from None
        os.close(fd)
        os.unlink(name)
        self._staged.append((Path(name), target, shown))
        return Path(name)

    def write_bytes(self, target: str | Path, data: bytes, label: str = "") -> Path:
        tmp = self.stage(target, label)
        with open(tmp, "wb") as f:
            f.write(data)
        return Path(target)

    def write_text(self, target: str | Path, text: str, label: str = "") -> Path:
        return self.write_bytes(target, text.encode("utf-8"), label)

    def _commit(self) -> list[Path]:
        for tmp, _target, shown in self._staged:
            if not tmp.exists():
                raise InputError(f"{shown}: nothing was written")
        done = []
        for tmp, target, _ in self._staged:
            os.replace(tmp, target)
            done.append(target)
        self._staged.clear()
        return done

    def _discard(self) -> None:
        for tmp, _, _ in self._staged:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
        self._staged.clear()

    def _short_of_space(self) -> bool:
        """Whether a staged file's disk is (nearly) full: GeoPackage writes through SQLite, whose
        error on a full disk names a missing table, not the disk (issue 25)."""
        for tmp, _, _ in self._staged:
            try:
                if shutil.disk_usage(tmp.parent).free < FULL_DISK_BYTES:
                    return True
            except OSError:
                continue
        return False

    def _shown_for(self, exc: BaseException) -> str:
        """Which staged file an OS error was about (the last staged when it does not say)."""
        name = getattr(exc, "filename", None)
        for tmp, target, shown in self._staged:
            if name and Path(str(name)) in (tmp, target):
                return shown
        return self._staged[-1][2] if self._staged else "output"


@contextmanager
def staged_outputs() -> Iterator[Outputs]:
    """Stage files inside the block; on success all are renamed into place, on any failure none
    appear (their temporary files are removed). Writing errors become one-line InputErrors."""
    outputs = Outputs()
    try:
        yield outputs
        outputs._commit()
    except OSError as exc:
        shown = outputs._shown_for(exc)
        outputs._discard()
        if exc.errno in _UNWRITABLE:
            raise InputError(f"{shown}: cannot write ({_reason(exc)})") from None
        raise
    except BaseException as exc:
        shown = outputs._shown_for(exc)
        full = isinstance(exc, Exception) and (is_disk_full(exc) or outputs._short_of_space())
        outputs._discard()
        if full:  # GDAL's writers raise their own types, and SQLite's message may not say why
            raise InputError(f"{shown}: cannot write (no space left on the disk)") from None
        raise


def ensure_writable(target: str | Path, label: str = "") -> None:
    """Refuse, as :meth:`Outputs.stage` would, a target that cannot be written; leaves nothing."""
    Outputs().stage(target, label)


def write_bytes_atomically(target: str | Path, data: bytes, label: str = "") -> Path:
    """One file, staged and renamed (for callers that write a single output)."""
    with staged_outputs() as outputs:
        outputs.write_bytes(target, data, label)
    return Path(target)
