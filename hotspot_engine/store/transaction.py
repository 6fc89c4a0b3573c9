"""One DuckDB transaction around a block: BEGIN, then COMMIT when the block ends, ROLLBACK (and the
error again) when it or the COMMIT raises.

Why a module of its own: every writer of the store wrote the same BEGIN / COMMIT / ROLLBACK block by
hand (``duplicates`` found it twice each in store/sets.py and store/trials.py, three times in
store/database.py, once each in store/quality.py and store/streets.py), and store/database.py imports
sets and trials, so the helper cannot live there without an import cycle.

It only groups statements: an error passes through as it was raised (the readers, read/ingest.py,
word an InputError naming the file), and work that must follow the COMMIT (``activate_area`` in
store/database.py's ``remove_sample_rows``) stands after the ``with``. The ROLLBACK also
drops what the block registered and could not unregister (``_insert_new``'s view after a failed
INSERT, when the aborted transaction refuses to unregister it).
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
