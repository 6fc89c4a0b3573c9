"""Partner-safe mode (disclosure control): layers safe to share outside the police. Record-level
layers are dropped; small counts are blanked with everything derived from them and the rest rounded
(see :func:`suppression_rule` for the rule in words, as the sidecar records it).

Why by construction, not by blanking alone: issue 25 solved the linear system given by each cell's
published ring sum (``nbhd_total``) over the H3 ring and got back 100% of the blanked counts, 1-4
included; Gi* z is an affine function of the same ring sum, the exact p a monotone one, and a
funnel row's ratio times its expectation is its count. So a partner-safe table holds no
neighbourhood statistic at all (:data:`NEIGHBOURHOOD_COLUMNS` are dropped; the significance class
``gi_bin`` and the funnel ``flag`` stay), a figure derived from several counts is blanked when any of
them is, and counts at or above the threshold are rounded to a multiple of the threshold by default,
so an area total minus its visible cells leaves a band of at least the threshold's width
(tests/test_disclosure_recovery.py runs each attack on the exports and the screen tables: 0% back).
The rounding is :func:`~hotspot_engine.analyse.partners.banded`, which the screen uses too for
restricted layers (service/partners.py).
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from hotspot_engine.analyse.partners import banded
from hotspot_engine.errors import InputError

DEFAULT_THRESHOLD = 5
#: Layers that hold one row per person-level event: never leave the police in partner-safe mode.
RECORD_LEVEL_LAYERS = ("incidents", "patrols")
RECORD_LEVEL_KEYS = ("incident_id", "patrol_id", "crime_id")


#: Columns that count events; each is suppressed on its own value.
COUNT_COLUMNS = ("count", "patrols", "incidents", "n", "visits", "top_location_n")
#: Text taken from the incidents themselves (the most common location in a cell): blanked with the
#: cell's count, since "a few incidents, on or near this street" is what suppression hides.
INCIDENT_TEXT_COLUMNS = ("top_location", "location")
#: Columns whose value reveals the count(s) they were derived from, with those counts' columns.
DEPENDENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "harm": ("count",), "patrol_minutes": ("patrols",), "mean_harm": ("count",),
    # The partner funnel table: the expectation reveals the police count; the ratio (partner count
    # over expectation), z and tail probabilities reveal either count given the other.
    "expected": ("police_count",), "ratio": ("partner_count", "police_count"),
    "funnel_z": ("partner_count", "police_count"), "p_higher": ("partner_count", "police_count"),
    "p_lower": ("partner_count", "police_count")}
#: Statistics of a cell's neighbourhood (its ring sum and the tests on it): dropped from every
#: partner-safe table, since the ring sums of all cells form a linear system in the cells' counts.
#: Counts of H3 cells, not of events: an area's size, which its own ``cells`` list gives away anyway
#: (rounding hotspot 1's 8 cells to 10 on the real months only made the figure wrong).
CELL_COUNT_COLUMNS = ("n_cells", "n_cells_cells")
NEIGHBOURHOOD_COLUMNS = ("nbhd_total", "gi_z", "gi_p", "gi_p_fdr", "p_exact", "p_norm", "p_sim", "max_gi_z")


def _count_columns(frame: pd.DataFrame) -> list[str]:
    out = []
    for name in frame.columns:
        if name in CELL_COUNT_COLUMNS:
            continue
        if name in COUNT_COLUMNS or name.startswith(("count_", "n_", "patrols_")) or name.endswith("_count"):
            if pd.api.types.is_numeric_dtype(frame[name].dtype) and not pd.api.types.is_bool_dtype(frame[name].dtype):
                out.append(name)
    return out


def _dependent_columns(frame: pd.DataFrame, counts: list[str]) -> dict[str, list[str]]:
    """harm -> [count], harm_12m -> [count_12m], ratio -> [partner_count, police_count], ..."""
    out: dict[str, list[str]] = {}
    for name in frame.columns:
        if name in counts or not pd.api.types.is_numeric_dtype(frame[name].dtype):
            continue
        bases = [c for c in DEPENDENT_COLUMNS.get(name, ()) if c in counts]
        if bases:
            out[name] = bases
        elif name.startswith("harm_") and ("count_" + name[5:]) in counts:
            out[name] = ["count_" + name[5:]]
        elif name.startswith("harm_") and not name.startswith("harm_share") and "count" in counts:
            out[name] = ["count"]
        elif name.startswith("patrol_minutes_") and ("patrols_" + name[15:]) in counts:
            out[name] = ["patrols_" + name[15:]]
    return out


def _is_record_level(name: str, layer: pd.DataFrame) -> bool:
    return name in RECORD_LEVEL_LAYERS or any(k in layer.columns for k in RECORD_LEVEL_KEYS)


def suppression_rule(threshold: int, round_to: int | None = None) -> str:
    """The rule applied in partner-safe mode, in words for the sidecar (``round_to`` None: rounded to
    multiples of ``threshold``; 1: counts at or above the threshold exact)."""
    round_to = _rounding(threshold, round_to)
    rule = (
        f"Partner-safe export: incident-level and patrol-level rows are removed. In every remaining "
        f"table, counts below {threshold} (0 to {threshold - 1}, so a reader cannot tell a zero from a "
        f"small number) are blanked, the row's 'suppressed' flag is set and its 'suppressed_columns' names "
        f"the blanked columns; figures derived from a "
        f"blanked count (harm from that count, patrol minutes from that number of patrols, before/after "
        f"means whose total is below {threshold}, and the simple change between them, and the most common "
        f"incident location of the cell) are blanked with it. Neighbourhood statistics (ring sums, "
        f"Gi* z and p values) are not published, since the ring sums of neighbouring cells can be solved "
        f"for their counts; the significance class is."
    )
    if round_to > 1:
        rule += (
            f" Counts at or above the threshold are rounded to the nearest {round_to} (never below "
            f"{threshold}) and harm and minutes to two significant figures, so totals cannot be "
            f"differenced to recover a blanked cell."
        )
    else:
        rule += (
            " Counts at or above the threshold are exact; an area total minus its visible cells could "
            "reveal a blanked cell's count (use rounding to prevent that)."
        )
    return rule


def _round_sig(values: np.ndarray, digits: int = 2) -> np.ndarray:
    out = values.astype(float).copy()
    ok = np.isfinite(out) & (out != 0)
    magnitude = np.floor(np.log10(np.abs(out[ok])))
    factor = 10.0 ** (digits - 1 - magnitude)
    out[ok] = np.round(out[ok] * factor) / factor
    return out


def _rounding(threshold: int, round_to: int | None) -> int:
    return int(threshold) if round_to is None else int(round_to)


def _safe_table(frame: pd.DataFrame, threshold: int, round_to: int) -> pd.DataFrame:
    out = frame.drop(columns=[c for c in NEIGHBOURHOOD_COLUMNS if c in frame.columns])
    counts = _count_columns(out)
    dependents = _dependent_columns(out, counts)
    flag = np.zeros(len(out), dtype=bool)
    blanked: dict[str, np.ndarray] = {}
    for name in counts:
        out[name], small = banded(pd.to_numeric(out[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan),
                                  threshold, round_to)
        blanked[name] = small
        flag |= small
    for name, bases in dependents.items():
        values = np.array(pd.to_numeric(out[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan))
        if round_to > 1:
            values = _round_sig(values)
        blanked[name] = np.logical_or.reduce([blanked[basis] for basis in bases])
        values[blanked[name]] = np.nan
        out[name] = values
    if "count" in blanked:
        for name in INCIDENT_TEXT_COLUMNS:
            if name in out.columns:
                out[name] = out[name].astype(object).where(~blanked["count"], None)
                blanked[name] = blanked["count"]
    # Impact table: before/after means are counts per month; their totals reveal small numbers.
    for side in ("pre", "post"):
        mean, months = f"mean_{side}", f"months_{side}"
        if mean in out.columns and months in out.columns:
            values = np.array(pd.to_numeric(out[mean], errors="coerce").to_numpy(dtype=float, na_value=np.nan))
            total = values * pd.to_numeric(out[months], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            small = np.isfinite(total) & (total < threshold)
            values[small] = np.nan
            out[mean] = values
            flag |= small
            blanked[mean] = small
            if "simple_change_pct" in out.columns:
                change = np.array(pd.to_numeric(out["simple_change_pct"], errors="coerce").to_numpy(dtype=float, na_value=np.nan))
                change[small] = np.nan
                out["simple_change_pct"] = change
                blanked["simple_change_pct"] = blanked.get("simple_change_pct", np.zeros(len(out), dtype=bool)) | small
    if counts or any(c in out.columns for c in ("mean_pre", "mean_post")):
        out["suppressed"] = flag
        out["suppressed_columns"] = _blanked_names(blanked, len(out))
    return out


def _blanked_names(blanked: dict[str, np.ndarray], rows: int) -> list[str]:
    """Per row, the columns blanked in it ("patrols, patrol_minutes"), empty where none was. A
    flag alone read wrong: on the real months every hotspot area was 'suppressed' beside a shown
    count of 40, because its patrol columns (no patrol data stored, so 0) were the blanked ones."""
    names = [name for name in blanked if blanked[name].any()]
    return [", ".join(name for name in names if blanked[name][i]) for i in range(rows)]


def partner_safe(
    layers: Mapping[str, pd.DataFrame], threshold: int = DEFAULT_THRESHOLD, round_to: int | None = None
) -> dict[str, pd.DataFrame]:
    """Layers safe to share outside the police.

    Incident-level and patrol-level layers (named ``incidents``/``patrols``, or holding an
    ``incident_id``, ``patrol_id`` or ``crime_id`` column) are dropped entirely. In the others
    every count-like column (``count``, ``patrols``, ``n``, ``count_*``, ``*_count``...) has values
    below ``threshold`` blanked (NaN) and a ``suppressed`` flag set on the row; figures derived from
    a blanked count are blanked with it (see :func:`suppression_rule`). ``round_to`` optionally
    rounds the counts that remain (for example to the nearest 5) against differencing.
    """
    threshold = int(threshold)
    if threshold < 1:
        raise InputError(f"partner-safe threshold: must be at least 1, got {threshold}")
    if round_to is not None and int(round_to) < 1:
        raise InputError(f"partner-safe rounding: must be at least 1, got {round_to}")
    round_to = _rounding(threshold, round_to)
    out: dict[str, pd.DataFrame] = {}
    for name, layer in layers.items():
        if _is_record_level(name, layer):
            continue
        out[name] = _safe_table(layer, threshold, round_to)
    return out



__all__ = ["DEFAULT_THRESHOLD", "partner_safe", "suppression_rule"]
