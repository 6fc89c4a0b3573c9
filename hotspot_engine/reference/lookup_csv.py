"""The editable lookup tables (exclusions, offence mapping): small CSV files in which lines starting
with '#' are comments. Rows keep the file's own line numbers, so an error's "row N" is the line a
person sees in their editor, comments and blank lines counted (as in the incident loaders)."""
from __future__ import annotations

import csv
from pathlib import Path

from hotspot_engine.errors import InputError


def read_lookup_csv(path: Path, what: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """(header, [(line number, row)]) of a lookup CSV; ``what`` names the table in errors. A row with
    fewer values than the header gets '' for the missing ones."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path.name}: cannot read {what} ({exc.strerror})") from None
    kept = [(number, line) for number, line in enumerate(text.splitlines(), start=1)
            if line.strip() and not line.lstrip().startswith("#")]
    if not kept:
        return [], []
    parsed = list(csv.reader(line for _, line in kept))
    header = [name.strip() for name in parsed[0]]
    rows = [(number, dict(zip(header, [v.strip() for v in values] + [""] * (len(header) - len(values)))))
            for (number, _), values in zip(kept[1:], parsed[1:])]
    return header, rows
