"""Long fuzz run of the loaders (the CI property tests, tests/test_loading_property.py, run 60 + 40
examples; this runs thousands). Three generators, each through `loading.ingest_upload` into an
in-memory store:

1. random rows under each known header (the CI strategy), detected and forced format;
2. random bytes under every accepted file name;
3. mutations of the real corpus files in tests/data (bytes flipped, cut, repeated, inserted), which
   reach deeper into the parsers than random bytes do.

A failure is any exception other than InputError, or a summary whose rows do not add up.
Prints how many inputs each generator tried, the failures, and the machine.

    python benchmarks/fuzz_loaders.py [--examples 1000] [--seed 0]
"""
from __future__ import annotations

import argparse
import re
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from hotspot_engine.read import loading

from hotspot_engine.store import database as store  # noqa: E402
from hotspot_engine.errors import InputError  # noqa: E402
from test_loading_property import files  # noqa: E402  (the CI strategy, reused)

CORPUS = sorted(p for p in (ROOT / "tests" / "data").rglob("*") if p.is_file() and p.suffix != ".py")
NAMES = ["x.csv", "x.parquet", "x.xlsx", "x.zip", "x.txt", "x.CSV", "x"]


class Tally:
    def __init__(self):
        self.tried = 0
        self.input_errors = 0
        self.loaded = 0
        self.failures: list[str] = []


def check(tally: Tally, name: str, data: bytes, fmt: str | None = None) -> None:
    """Load one input; record (never raise) anything but InputError, so the run goes on."""
    tally.tried += 1
    con = store.connect(":memory:")
    try:
        summaries = loading.ingest_upload(con, name, data, fmt=fmt)
    except InputError as exc:
        tally.input_errors += 1
        message = str(exc)
        # A member inside a zip is named "upload.zip/inner.csv"; an absolute path would be a leak.
        if "\n" in message or "Traceback" in message or re.search(r"(^|[\s'(\"])(/[\w.-]+/|[A-Za-z]:\\)", message):
            tally.failures.append(f"{name}: InputError message not one clean line: {message[:100]!r}")
        return
    except Exception as exc:  # the finding this run exists for
        tally.failures.append(f"{name} ({len(data)} bytes, fmt={fmt}): {type(exc).__name__}: "
                              f"{str(exc).splitlines()[0][:120] if str(exc) else ''}")
        return
    finally:
        con.close()
    tally.loaded += 1
    for s in summaries:
        if not s.balanced:
            tally.failures.append(f"{name}: rows do not add up: {s.line()}")


@st.composite
def mutations(draw):
    path = draw(st.sampled_from(CORPUS))
    data = bytearray(path.read_bytes())
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "cut", "repeat", "insert", "truncate"]))
        if op == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut":
            del data[at:at + draw(st.integers(1, 64))]
        elif op == "repeat":
            data[at:at] = data[at:at + draw(st.integers(1, 256))]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[at:]
    return path.name, bytes(data)


def run(examples: int, seed_value: int) -> dict[str, Tally]:
    tallies = {"rows": Tally(), "bytes": Tally(), "mutations": Tally()}
    common = dict(max_examples=examples, deadline=None, database=None, derandomize=False,
                  suppress_health_check=list(HealthCheck))

    @seed(seed_value)
    @settings(**common)
    @given(files(), st.booleans())
    def random_rows(file, forced):
        fmt, data, _ = file
        check(tallies["rows"], "random.csv", data, fmt if forced else None)

    @seed(seed_value)
    @settings(**common)
    @given(st.binary(max_size=2000), st.sampled_from(NAMES))
    def random_bytes(data, name):
        check(tallies["bytes"], name, data)

    @seed(seed_value)
    @settings(**common)
    @given(mutations())
    def mutated(item):
        name, data = item
        check(tallies["mutations"], name, data)

    for name, fn in (("rows", random_rows), ("bytes", random_bytes), ("mutations", mutated)):
        t = time.monotonic()
        fn()
        print(f"{name:9s} tried {tallies[name].tried:6d} inputs in {time.monotonic() - t:5.0f} s: "
              f"{tallies[name].loaded} loaded, {tallies[name].input_errors} refused with InputError, "
              f"{len(tallies[name].failures)} failures", flush=True)
    return tallies


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--examples", type=int, default=1000, help="inputs per generator (hypothesis max_examples)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}; corpus {len(CORPUS)} files")
    tallies = run(args.examples, args.seed)
    failures = [f for t in tallies.values() for f in t.failures]
    total = sum(t.tried for t in tallies.values())
    print(f"total: {total} inputs tried, {len(failures)} failures")
    seen = set()
    for f in failures:
        key = f.split(": ", 1)[-1][:80]
        if key not in seen:
            seen.add(key)
            print("  " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
