"""Getis-Ord Gi* on H3 k-ring binary weights, vectorised with numpy.

The statistic is the one of PySAL's ``esda.G_Local(y, w, star=True, transform='B')`` (Getis & Ord
1992; Ord & Getis 1995): binary weights over each cell and its k-ring neighbours, the cell itself
weighted 1. The weights arrive as neighbour pairs ``(i, j)`` with self included, as returned by
:func:`hotspot_engine.reference.geography.ring_neighbours`, so nothing here loops over cells in Python.

Inference:

* analytical z and a two-sided normal p (``p_norm``; esda's own ``p_norm`` is one-sided);
* optionally a conditional-permutation pseudo p (``p_sim``): each cell keeps its own value and its
  neighbours' values are drawn without replacement from all other cells, ``permutations`` times;
  two-sided, i.e. twice the smaller tail count, ``2 * (min(#>=, #<=) + 1) / (permutations + 1)``
  capped at 1 (esda's default "directed" p is half of this).

* the product's own test (:func:`exact_neighbourhood_p`): the exact tail probability of each
  cell's neighbourhood total (the same disk Gi* sums) against the study area's expectation, under a
  negative binomial whose dispersion is estimated from the data (:func:`estimate_dispersion`;
  Poisson when it is zero). Why: at res 9 a force-wide year averages about 0.1 incidents a cell, and
  Gi*'s normal approximation then gives a neighbourhood total of 5 (expectation 0.8) p = 1e-6 where
  its Poisson tail is about 1e-3; on 5,000 incidents scattered at random it flagged 5-9 areas a year
  (MEASURED.md), while the exact tail with Benjamini-Hochberg finds at most one
  (benchmarks/bench_hotspots.py prints the figures over 20 seeds).

Multiple testing (:func:`fdr_bh`) is *not* applied here: the caller applies it exactly once.

No scipy at import (issue 24 item 5): the disks are :class:`Disks`, a binary CSR structure in numpy
whose products add in the order scipy.sparse's do (equal to the last bit: tests/test_gistar.py), and
the tails use scipy.special's compiled ufuncs loaded without scipy.special's array-API layer
(:func:`special_functions`). Importing scipy.sparse and scipy.special cost every `hotspots` run 0.14-0.15 s of
CPU (scipy 1.17; ``python -X importtime``: scipy._lib._array_api clones numpy's namespace, pulling in
numpy.f2py and numpy.testing, and _support_alternative_backends wraps every function), against 0.013 s
for the ufuncs' own extension modules.
"""
from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class GiStar:
    """Gi* results aligned with the input values.

    z: standardised Gi* (esda's ``Zs``); 0 where the statistic is undefined (no variation).
    p_norm: two-sided p-value of z under the normal approximation.
    p_sim: two-sided conditional-permutation pseudo p-value, or None when permutations == 0.
    """

    z: np.ndarray
    p_norm: np.ndarray
    p_sim: np.ndarray | None = None


def _validate(values: np.ndarray, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    values = np.asarray(values, dtype=float).ravel()
    i = np.asarray(i, dtype=np.int64).ravel()
    j = np.asarray(j, dtype=np.int64).ravel()
    if i.shape != j.shape:
        raise ValueError("gistar: i and j must have the same length")
    n = values.size
    if n and (i.size == 0 or i.min() < 0 or j.min() < 0 or i.max() >= n or j.max() >= n):
        raise ValueError("gistar: neighbour positions must index into values")
    if not np.isfinite(values).all():
        raise ValueError("gistar: values must be finite")
    return values, i, j


@dataclass(frozen=True)
class Disks:
    """Binary weights (each cell with its neighbours, itself included) in compressed sparse rows:
    row r holds the columns ``indices[indptr[r]:indptr[r + 1]]``, ascending; ``rows`` is the row of
    each stored pair. ``disks @ x`` sums x over each row's columns in the order scipy.sparse's csr
    product of the same matrix adds them (from 0, column by column), so the sums are the same to the
    last bit: the k-th column of each row is added for every row at once (``padded``: a row's k-th
    column, or the zero row appended to x where the row is shorter; adding 0.0 changes no sum that
    starts from 0). A disk holds 7 cells at ring 1, so that is 7 vector additions."""

    indptr: np.ndarray
    indices: np.ndarray
    rows: np.ndarray
    shape: tuple[int, int]
    padded: np.ndarray

    def __matmul__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        with_zero, taken = np.zeros(self.shape[1] + 1), np.empty(self.shape[0])
        if x.ndim == 1:
            return self._sum_rows(x, with_zero, taken)
        # Column by column, through the same two buffers: the whole cells x months grid at once made
        # 4 MB temporaries, fresh pages for the kernel to fault in (2,000 faults, 35-43 ms against 13-15).
        grid = np.empty((self.shape[0], x.shape[1]))
        for month in range(x.shape[1]):
            grid[:, month] = self._sum_rows(x[:, month], with_zero, taken)
        return grid

    def _sum_rows(self, x: np.ndarray, with_zero: np.ndarray, taken: np.ndarray) -> np.ndarray:
        with_zero[:-1] = x  # the last slot stays 0.0: where a shorter row's padding points
        out = np.zeros(self.shape[0])
        for column in self.padded:
            np.take(with_zero, column, out=taken)
            out += taken
        return out

    def sum(self, axis: int = 1) -> np.ndarray:
        """Stored pairs per row (the disk's size), as floats; rows only."""
        if axis != 1:
            raise ValueError("Disks.sum: rows only (axis=1)")
        return np.diff(self.indptr).astype(float)


def binary_weights(i: np.ndarray, j: np.ndarray, n: int, m: int | None = None) -> Disks:
    """Binary weights with each cell its own neighbour (duplicate pairs collapse to 1), which is
    what esda does with star=True on binary weights: a missing diagonal is filled with 1. ``n`` rows
    and ``m`` (default ``n``) columns."""
    m = n if m is None else m
    i = np.asarray(i, dtype=np.int64).ravel()
    j = np.asarray(j, dtype=np.int64).ravel()
    # Pair keys row * m + column, sorted, repeats dropped. Built in place: each temporary array of a
    # 44,000-cell study area is fresh memory the kernel must fault in (np.unique, which hashes int64
    # keys in numpy 2.4, took 90 ms here against 3.5 ms for the sort).
    diagonal = min(n, m)
    keys = np.empty(i.size + diagonal, dtype=np.int64)
    np.multiply(i, m, out=keys[:i.size])
    keys[:i.size] += j
    np.multiply(np.arange(diagonal, dtype=np.int64), m + 1, out=keys[i.size:])
    keys.sort(kind="stable")  # ring pairs come grouped by row: runs that a merge sort takes as they are
    if keys.size:
        keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
    rows, indices = np.divmod(keys, max(m, 1))
    sizes = np.bincount(rows, minlength=n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(sizes, out=indptr[1:])
    padded = np.full((int(sizes.max()) if n else 0, n), m, dtype=np.int64)
    position = np.arange(keys.size, dtype=np.int64)
    position -= indptr[rows]
    padded[position, rows] = indices
    return Disks(indptr, indices, rows, (n, m), padded)


#: The ufuncs the engine calls, and the extension module of scipy.special that holds them (scipy
#: 1.17). A scipy that moves or renames the module, leaves one of them out of it, or changes one's
#: arguments or meaning takes the plain import instead (tests/test_gistar.py simulates each).
UFUNCS_MODULE = "_ufuncs"
#: What each ufunc must be for the stand-in path to be used: its number of inputs and one value it
#: must give (I_0.4(2, 3) = 0.5248 by the binomial sum; P(1, 1) = 1 - 1/e; Phi(0) = 1/2). Three calls,
#: a few microseconds, against a wrong tail p on every cell if a scipy changed a signature.
UFUNC_CHECKS: dict[str, tuple[int, tuple[float, ...], float]] = {
    "betainc": (3, (2.0, 3.0, 0.4), 0.5248),
    "gammainc": (2, (1.0, 1.0), 1.0 - float(np.exp(-1.0))),
    "ndtr": (1, (0.0,), 0.5),
}
NEEDED_UFUNCS = tuple(UFUNC_CHECKS)


@lru_cache(maxsize=1)
def special_functions():
    """scipy.special's compiled ufuncs (``betainc``, ``gammainc``, ``ndtr``). When scipy.special is not
    imported yet and no other thread runs (the command line), its extension module is loaded under
    a stand-in package for the moment of the import (a second thread could meet the stand-in, so
    the Streamlit app takes the plain import). A later ``import scipy.special`` reuses the loaded
    module: the same ufunc objects, the same digits (tests/test_gistar.py). Anything unexpected (the
    module moved or renamed, a ufunc missing from it, other arguments or other values:
    :data:`UFUNC_CHECKS`) falls back to the plain import."""
    if "scipy.special" not in sys.modules and threading.active_count() == 1:
        try:
            ufuncs = _ufuncs_alone()
            if _as_expected(ufuncs):
                return ufuncs
        except Exception:  # a scipy laid out otherwise: the plain import below
            pass
    from scipy import special

    return special


def _as_expected(ufuncs) -> bool:
    """Every ufunc of :data:`UFUNC_CHECKS` is a numpy ufunc with that many inputs and one output, and
    gives that value to 1e-12."""
    for name, (inputs, args, value) in UFUNC_CHECKS.items():
        found = getattr(ufuncs, name, None)
        if not (isinstance(found, np.ufunc) and found.nin == inputs and found.nout == 1):
            return False
        with np.errstate(all="ignore"):
            if not abs(float(found(*args)) - value) <= 1e-12:
                return False
    return True


def _ufuncs_alone():
    import importlib
    import types

    import scipy

    stand_in = types.ModuleType("scipy.special")
    stand_in.__path__ = [str(Path(scipy.__path__[0]) / "special")]
    sys.modules["scipy.special"] = stand_in
    try:
        return importlib.import_module(f"scipy.special.{UFUNCS_MODULE}")
    finally:
        if sys.modules.get("scipy.special") is stand_in:  # the plain import must never meet the stand-in
            del sys.modules["scipy.special"]
        if scipy.__dict__.get("special") is stand_in:
            delattr(scipy, "special")


def gistar(values: np.ndarray, i: np.ndarray, j: np.ndarray, permutations: int = 0, seed: int = 0,
           weights: Disks | None = None) -> GiStar:
    """Gi* of ``values`` with binary weights given by the pairs (i, j) (i's neighbour j).

    Self pairs are added where missing. Returns z, the two-sided normal p and, when
    ``permutations`` > 0, the two-sided conditional-permutation pseudo p (reproducible by ``seed``).
    ``weights``: :func:`binary_weights` of the same pairs, when the caller has built them already.
    """
    values, i, j = _validate(values, i, j)
    n = values.size
    if n == 0:
        empty = np.zeros(0)
        return GiStar(empty, empty.copy(), empty.copy() if permutations else None)
    weights = binary_weights(i, j, n) if weights is None else weights
    lag = weights @ values  # sum of values over each cell's disk
    cardinality = np.diff(weights.indptr).astype(float)  # disk size, self included

    total = values.sum()
    mean = total / n
    variance = (values**2).sum() / n - mean**2  # population variance, as esda
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = lag / total
        expected = cardinality / n
        var_g = cardinality * (n - cardinality) / (n - 1) / n**2 * variance / mean**2 if n > 1 else np.zeros(n)
        z = (statistic - expected) / np.sqrt(var_g)
    # No variation (all equal, e.g. all zero) or a disk covering every cell: nothing to test.
    z = np.where(np.isfinite(z), z, 0.0)
    p_norm = 2.0 * special_functions().ndtr(-np.abs(z))  # the normal tail, without importing scipy.stats
    p_sim = None
    if permutations:
        p_sim = _permutation_p(values, lag, cardinality.astype(np.int64), int(permutations), seed)
    return GiStar(z=z, p_norm=p_norm, p_sim=p_sim)


def _permutation_p(values: np.ndarray, lag: np.ndarray, cardinality: np.ndarray, permutations: int, seed: int) -> np.ndarray:
    """Two-sided conditional-permutation pseudo p for each cell's disk sum.

    As in esda's crand, one matrix of draws (permutations x max neighbours, distinct positions in
    range(n - 1), :func:`_neighbour_draws`) is shared by all cells. For cell i a drawn position d
    stands for cell d, except d == i, which stands for cell n - 1: a one-to-one map onto the n - 1
    *other* cells, so each row is a uniform draw without replacement from them. (esda maps through
    the array with i deleted; the distribution is the same.)

    That map makes the work almost independent of the cell: the simulated disk sum of cell i with
    c neighbours is ``values[i] + base[:, c]`` (``base`` = cumulative sums of values[draws]), plus
    ``values[n-1] - values[i]`` in the few permutations whose first c draws contain i. So each cell
    is counted against the sorted ``base[:, c]`` with a binary search, and only those few
    (cell, permutation) pairs are corrected. Gi* of a draw and of the observation share the
    denominator sum(values), so disk sums are compared directly.
    """
    n = values.size
    others = cardinality - 1  # neighbours besides the cell itself
    p = np.ones(n)
    if n < 2 or others.max() <= 0:
        return p
    width = int(min(others.max(), n - 1))
    others = np.minimum(others, width)
    draws = _neighbour_draws(n - 1, width, permutations, seed)
    base = np.zeros((permutations, width + 1))
    np.cumsum(values[draws], axis=1, out=base[:, 1:])
    # Sums are compared with a tolerance: summation order differs between observed and simulated
    # sums, and exact ties (common with counts) must count on both sides.
    tolerance = 1e-9 * max(1.0, float(np.abs(values).max()) * (width + 1))
    need = lag - values  # what the neighbours' draw must reach to equal the observation
    ge = np.zeros(n, dtype=np.int64)
    le = np.zeros(n, dtype=np.int64)
    ordered = np.sort(base, axis=0)
    for size in np.unique(others):
        cells = np.flatnonzero(others == size)
        column = ordered[:, size]
        ge[cells] = permutations - np.searchsorted(column, need[cells] - tolerance, side="left")
        le[cells] = np.searchsorted(column, need[cells] + tolerance, side="right")

    # Permutations where cell i drew itself (position i among its first c draws): that draw is
    # cell n-1 instead. Swap the uncorrected comparison for the corrected one.
    rows = np.repeat(np.arange(permutations), width)
    cols = np.tile(np.arange(width), permutations)
    cell = draws.ravel()
    inside = cols < others[cell]
    rows, cell = rows[inside], cell[inside]
    old = base[rows, others[cell]]
    new = old + values[n - 1] - values[cell]
    threshold = need[cell]
    ge_delta = (new >= threshold - tolerance).astype(np.int64) - (old >= threshold - tolerance)
    le_delta = (new <= threshold + tolerance).astype(np.int64) - (old <= threshold + tolerance)
    ge += np.bincount(cell, weights=ge_delta, minlength=n).astype(np.int64)
    le += np.bincount(cell, weights=le_delta, minlength=n).astype(np.int64)

    p = 2.0 * (np.minimum(ge, le) + 1) / (permutations + 1)
    p[others == 0] = 1.0
    return np.minimum(p, 1.0)


def _neighbour_draws(population: int, width: int, permutations: int, seed: int) -> np.ndarray:
    """``permutations`` rows of ``width`` distinct positions drawn uniformly from range(population).

    Rows are drawn with replacement and any row holding a repeat is drawn again (rejection keeps
    the rows uniform over distinct tuples); with a handful of neighbours among thousands of cells
    repeats are rare. When the disk is a large part of the area, whole permutations are used.
    """
    rng = np.random.default_rng(seed)
    if width * 4 > population:
        return np.argsort(rng.random((permutations, population)), axis=1)[:, :width]
    draws = rng.integers(0, population, size=(permutations, width))
    while True:
        ordered = np.sort(draws, axis=1)
        repeated = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
        if not repeated.any():
            return draws
        draws[repeated] = rng.integers(0, population, size=(int(repeated.sum()), width))


def neighbourhood_totals(values: np.ndarray, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum of ``values`` over each cell's disk (self included) and the disk's size, the two
    quantities behind both Gi* and the exact test. ``values`` may be cells x periods (2-D)."""
    values = np.asarray(values, dtype=float)
    flat, i, j = _validate(values if values.ndim == 1 else values[:, 0], i, j)
    weights = binary_weights(i, j, flat.size)
    return np.asarray(weights @ values), np.diff(weights.indptr).astype(float)


def upper_tail(observed: np.ndarray, expected: np.ndarray, dispersion: float = 0.0) -> np.ndarray:
    """P(X >= observed) for X negative binomial with mean ``expected`` and variance
    ``expected + dispersion * expected**2`` (Poisson when ``dispersion`` is 0).

    Through the regularised incomplete gamma and beta functions, so a non-integer ``observed``
    (a harm total in incident units) gets the continuous extension of the tail and integers get
    the exact tail: P(Poisson(m) >= s) = gammainc(s, m); P(NB >= s) = betainc(s, r, m / (r + m))."""
    observed = np.asarray(observed, dtype=float)
    expected = np.broadcast_to(np.asarray(expected, dtype=float), observed.shape)
    p = np.ones(observed.shape)
    live = (observed > 0) & (expected > 0)
    s, m = observed[live], expected[live]
    if dispersion > 0:
        r = 1.0 / dispersion
        p[live] = special_functions().betainc(s, r, m / (r + m))
    else:
        p[live] = special_functions().gammainc(s, m)
    p[(observed > 0) & (expected <= 0)] = 0.0
    return p


def lower_tail(observed: np.ndarray, expected: np.ndarray, dispersion: float = 0.0) -> np.ndarray:
    """P(X <= observed), the same distribution as :func:`upper_tail` (1 - P(X >= observed + 1))."""
    return 1.0 - upper_tail(np.asarray(observed, dtype=float) + 1.0, expected, dispersion)


def exact_neighbourhood_p(totals: np.ndarray, expected: np.ndarray, dispersion: float = 0.0) -> np.ndarray:
    """Two-sided exact p of each neighbourhood total against its expectation: twice the smaller
    tail, capped at 1 (the convention of exact Poisson tests, e.g. R's poisson.test with the
    'minlike' method replaced by doubling, which is conservative)."""
    upper = upper_tail(totals, expected, dispersion)
    lower = lower_tail(totals, expected, dispersion)
    return np.minimum(1.0, 2.0 * np.minimum(upper, lower))


def estimate_dispersion(period_totals: np.ndarray, max_dispersion: float = 1.0) -> float:
    """Method-of-moments negative-binomial dispersion of neighbourhood totals over periods
    (cells x periods): how much a place's total moves from one period to the next beyond Poisson
    noise, once the force-wide change between periods is taken out. Each cell's expected total in
    period t is its own mean times period t's share of the force total, and
    ``sum((x - e)**2 - e) / sum(e**2)`` over cells and periods estimates the dispersion, floored at
    0 and capped at ``max_dispersion``. Real police.uk violence gives about 0.06 (a coefficient of
    variation of about 0.25 beyond Poisson, DOMAIN.md); scattered-at-random data gives about 0.
    Returns 0 when there are fewer than two periods (nothing to estimate from)."""
    x = np.asarray(period_totals, dtype=float)
    if x.ndim != 2 or x.shape[1] < 2 or x.sum() <= 0:
        return 0.0
    column_share = x.sum(axis=0) / x.sum()
    expected = x.sum(axis=1, keepdims=True) * column_share[None, :]
    denominator = float((expected**2).sum())
    if denominator <= 0:
        return 0.0
    # The plain moment estimator is biased low by the cell means estimated from the same data:
    # each cell's squared deviation sums to (T - 1) / T of its variance, so scale it back up.
    periods = x.shape[1]
    estimate = float(((((x - expected) ** 2).sum() * periods / (periods - 1)) - expected.sum()) / denominator)
    return float(min(max(estimate, 0.0), max_dispersion))


def estimate_dispersion_held(period_totals: np.ndarray, held: np.ndarray, max_dispersion: float = 1.0) -> float:
    """:func:`estimate_dispersion` where some places hold only some periods (``held``: same shape,
    True where the place's total is data; a police force's unstored months are no data, not
    zeros). Places are grouped by the periods they hold (one group a force, in practice); each group
    with two periods or more gives the moment estimator's sums over its own periods and its own
    period shares (a force's own month-to-month change is taken out, as the force-wide one is), and
    the sums are pooled. With every period held it is :func:`estimate_dispersion`'s estimate."""
    x = np.asarray(period_totals, dtype=float)
    held = np.asarray(held, dtype=bool)
    if x.ndim != 2 or x.shape[1] < 2:
        return 0.0
    patterns, group = np.unique(held, axis=0, return_inverse=True)
    group = group.ravel()
    numerator = denominator = 0.0
    for g, pattern in enumerate(patterns):
        rows = x[group == g][:, pattern]
        periods = rows.shape[1]
        if periods < 2 or rows.sum() <= 0:
            continue
        expected = rows.sum(axis=1, keepdims=True) * (rows.sum(axis=0) / rows.sum())[None, :]
        numerator += float(((rows - expected) ** 2).sum() * periods / (periods - 1) - expected.sum())
        denominator += float((expected**2).sum())
    if denominator <= 0:
        return 0.0
    return float(min(max(numerator / denominator, 0.0), max_dispersion))


def fdr_bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (scipy's ``false_discovery_control``, method 'bh').
    Apply once, over all cells of the study area."""
    p = np.asarray(p, dtype=float)
    if p.size == 0:
        return p.copy()
    # The step-up rule itself (equal to scipy's to the last digit: tests/test_gistar.py): importing
    # scipy.stats for it cost every `hotspots` run 0.4-0.6 s of start-up.
    order = np.argsort(p, kind="stable")
    scaled = p[order] * p.size / np.arange(1, p.size + 1)
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    return adjusted


def gi_bins(z: np.ndarray, p: np.ndarray) -> np.ndarray:
    """ArcGIS ``Gi_Bin``: +-3 for p < 0.01, +-2 for p < 0.05, +-1 for p < 0.10, else 0; the sign is
    that of z. Pass the p-value that decides significance (here the FDR-adjusted one)."""
    z = np.asarray(z, dtype=float)
    p = np.asarray(p, dtype=float)
    level = np.select([p < 0.01, p < 0.05, p < 0.10], [3, 2, 1], default=0)
    return (np.sign(z) * level).astype(np.int8)


__all__ = ["GiStar", "Disks", "binary_weights", "special_functions", "gistar", "fdr_bh", "gi_bins", "neighbourhood_totals", "upper_tail", "lower_tail",
           "exact_neighbourhood_p", "estimate_dispersion", "estimate_dispersion_held"]
