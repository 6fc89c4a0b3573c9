"""One DuckDB transaction around a block: BEGIN, then COMMIT when the block ends, ROLLBACK (and the
error again) when it or the COMMIT raises.

Why a module of its own: the stores of decisions (store/sets.py, store/trials.py) each wrote the same
BEGIN / COMMIT / ROLLBACK block twice (``duplicates``), and store/database.py imports both, so the
helper cannot live there without an import cycle.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def transaction(con) -> Iterator[None]:
    """The block's statements as one transaction on ``con`` (all stored, or none)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
