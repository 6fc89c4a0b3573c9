"""The machine line every benchmark prints beside its figures."""
from __future__ import annotations

import os
import platform
from pathlib import Path


def memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return float("nan")


def machine_summary(extra: str = "") -> str:
    """'machine: 2 cores, 23.5 GiB RAM, x86_64, Python 3.11.7' plus ``extra`` after a semicolon."""
    line = (f"machine: {os.cpu_count()} cores, {memory_gib():.1f} GiB RAM, {platform.machine()}, "
            f"Python {platform.python_version()}")
    return f"{line}; {extra}" if extra else line
