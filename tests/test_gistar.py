"""Gi* against PySAL esda, FDR applied once, harm weights reaching the statistic."""
from __future__ import annotations

import types
import warnings

import numpy as np
import pandas as pd
import pytest

from hotspot_engine.reference import geography
from hotspot_engine.analyse.gistar import fdr_bh, gi_bins, gistar
from hotspot_engine.analyse.hotspots import HotspotParams, score_cells

# A compact patch of real res-9 cells in central Southampton: a k=3 disk (37 cells) around a cell
# near Above Bar Street, so edge cells have fewer than 6 neighbours, as at a study-area boundary.
CENTRE = int(geography.cells_for_points(np.array([50.9063]), np.array([-1.4043]), 9)[0])


def _patch(radius: int = 3) -> np.ndarray:
    import h3

    return np.sort(np.array([h3.str_to_int(c) for c in h3.grid_disk(h3.int_to_str(CENTRE), radius)], dtype=np.uint64))


def _esda(values: np.ndarray, i: np.ndarray, j: np.ndarray, permutations: int = 0):
    """esda.G_Local on a libpysal W built from the same pairs. The pairs include self: esda keeps a
    non-zero diagonal as the self weight when star=True (esda/getisord.py,
    _infer_star_and_structure_w), which is the binary self weight 1 of Gi*."""
    import esda
    import libpysal
    from scipy import sparse

    n = values.size
    matrix = sparse.csr_matrix((np.ones(i.size), (i, j)), shape=(n, n))
    w = libpysal.weights.WSP(matrix).to_W(silence_warnings=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return esda.G_Local(values, w, star=True, transform="B", permutations=permutations, seed=1)


@pytest.mark.parametrize("k", [1, 2])
def test_z_equals_esda_on_counts(k):
    cells = _patch(4)
    i, j = geography.ring_neighbours(cells, k)
    rng = np.random.default_rng(7)
    counts = rng.poisson(0.8, cells.size).astype(float)
    counts[cells.size // 2] += 9  # a hot cell, so z spans both signs
    ours = gistar(counts, i, j)
    ref = _esda(counts, i, j)
    np.testing.assert_allclose(ours.z, ref.Zs, rtol=0, atol=1e-9)
    # esda's p_norm is one-sided; ours is two-sided.
    np.testing.assert_allclose(ours.p_norm, 2 * ref.p_norm, rtol=0, atol=1e-12)


def test_z_equals_esda_on_study_area_subset():
    """Real study-area cells (a district edge included) and continuous harm-like values."""
    cells = geography.study_area(9, ("Gosport",)).cells["h3"].to_numpy()
    i, j = geography.ring_neighbours(cells, 1)
    values = np.random.default_rng(3).gamma(0.3, 400.0, cells.size)
    np.testing.assert_allclose(gistar(values, i, j).z, _esda(values, i, j).Zs, rtol=0, atol=1e-9)


def test_self_pairs_optional_and_duplicates_collapse():
    cells = _patch(2)
    i, j = geography.ring_neighbours(cells, 1)
    values = np.random.default_rng(0).poisson(1.0, cells.size).astype(float)
    off = i != j
    reference = gistar(values, i, j).z
    np.testing.assert_allclose(gistar(values, i[off], j[off]).z, reference, atol=1e-12)
    np.testing.assert_allclose(gistar(values, np.concatenate([i, i]), np.concatenate([j, j])).z, reference, atol=1e-12)


def test_hand_computed_z():
    """Three cells in a line, weights {0,1}, {0,1,2}, {1,2}; values 1, 2, 3.
    Getis & Ord (1992) / Ord & Getis (1995) Gi*: z_i = (sum_j w_ij x_j - xbar W_i) /
    (S sqrt((n W_i - W_i^2) / (n - 1))), xbar = 2, S = sqrt(2/3) (population), n = 3.
    Cell 0: W = 2, lag 3 -> (3 - 4) / (sqrt(2/3) * sqrt((6 - 4) / 2)) = -1.224744871391589."""
    i = np.array([0, 0, 1, 1, 1, 2, 2])
    j = np.array([0, 1, 0, 1, 2, 1, 2])
    z = gistar(np.array([1.0, 2.0, 3.0]), i, j).z
    assert z[0] == pytest.approx(-1.224744871391589, abs=1e-12)
    assert z[2] == pytest.approx(1.224744871391589, abs=1e-12)
    assert z[1] == 0.0  # the disk covers every cell: nothing to test


def test_no_variation_gives_zero_not_nan():
    cells = _patch(1)
    i, j = geography.ring_neighbours(cells, 1)
    for values in (np.zeros(cells.size), np.full(cells.size, 3.0)):
        result = gistar(values, i, j, permutations=9)
        assert np.all(result.z == 0) and np.all(result.p_norm == 1)


@pytest.mark.parametrize("kind", ["counts", "harm"])
def test_permutation_p_matches_a_naive_loop_on_the_same_draws(kind):
    """The binary-search-plus-correction shortcut equals a per-cell loop over the same draws, where
    for cell i the drawn position i stands for the last cell (see gistar._permutation_p)."""
    from hotspot_engine.analyse import gistar as module

    cells = _patch(3)
    i, j = geography.ring_neighbours(cells, 1)
    rng = np.random.default_rng(5)
    values = rng.poisson(1.5, cells.size).astype(float) if kind == "counts" else rng.gamma(0.5, 300.0, cells.size)
    values[5] += 12
    values[-1] = 4.0  # the stand-in cell differs from most, so a wrong correction shows
    perms = 199
    fast = gistar(values, i, j, permutations=perms, seed=11).p_sim

    n = values.size
    card = np.bincount(i, minlength=n) - 1
    draws = module._neighbour_draws(n - 1, int(card.max()), perms, 11)
    lag = np.bincount(i, weights=values[j], minlength=n)
    naive = np.empty(n)
    for cell in range(n):
        chosen = draws[:, : card[cell]].copy()
        chosen[chosen == cell] = n - 1
        sims = values[cell] + values[chosen].sum(axis=1)
        tol = 1e-6
        ge, le = (sims >= lag[cell] - tol).sum(), (sims <= lag[cell] + tol).sum()
        naive[cell] = min(1.0, 2 * (min(ge, le) + 1) / (perms + 1))
    assert (card < draws.shape[1]).any()  # edge cells with fewer neighbours are exercised
    np.testing.assert_allclose(fast, naive)


@pytest.mark.parametrize("population, width", [(500, 6), (10, 6)])
def test_neighbour_draws_are_distinct_and_uniform(population, width):
    from hotspot_engine.analyse.gistar import _neighbour_draws

    draws = _neighbour_draws(population, width, 4000, seed=0)
    assert draws.shape == (4000, width) and draws.min() >= 0 and draws.max() < population
    assert all(len(set(row)) == width for row in draws.tolist())
    # Each position is drawn width/population of the time; chi-square at the 0.1% level.
    frequency = np.bincount(draws.ravel(), minlength=population)
    from scipy import stats

    assert stats.chisquare(frequency).pvalue > 0.001


def test_permutation_p_agrees_with_esda_on_continuous_values():
    """With no ties, esda's default ('directed', one-sided) pseudo p doubled is our two-sided p, up
    to Monte Carlo error (different random streams)."""
    cells = _patch(6)
    i, j = geography.ring_neighbours(cells, 1)
    values = np.random.default_rng(2).lognormal(0, 1, cells.size)
    values[:20] *= 4
    ours = gistar(values, i, j, permutations=999, seed=3).p_sim
    theirs = np.minimum(1, 2 * _esda(values, i, j, permutations=999).p_sim)
    assert np.corrcoef(ours, theirs)[0, 1] > 0.98
    assert np.abs(ours - theirs).mean() < 0.05
    hot = np.argmax(gistar(values, i, j).z)
    assert ours[hot] < 0.05 and theirs[hot] < 0.05


def test_permutation_is_reproducible_by_seed():
    cells = _patch(3)
    i, j = geography.ring_neighbours(cells, 1)
    values = np.random.default_rng(1).poisson(1.0, cells.size).astype(float)
    a = gistar(values, i, j, permutations=99, seed=4).p_sim
    assert np.array_equal(a, gistar(values, i, j, permutations=99, seed=4).p_sim)
    assert gistar(values, i, j).p_sim is None


def test_fdr_bh_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    p = np.random.default_rng(0).uniform(0, 1, 500) ** 3
    np.testing.assert_allclose(fdr_bh(p), multipletests(p, method="fdr_bh")[1], atol=1e-15)


def test_gi_bins_follow_arcgis_thresholds():
    z = np.array([3.0, 2.0, 1.7, 0.5, -1.7, -2.0, -3.0, 2.0])
    p = np.array([0.005, 0.02, 0.08, 0.5, 0.08, 0.02, 0.005, 0.10])
    assert gi_bins(z, p).tolist() == [3, 2, 1, 0, -1, -2, -3, 0]


def _frames(cells: np.ndarray, count: np.ndarray, harm: np.ndarray):
    study = pd.DataFrame({"h3": cells, "district": "Southampton", "csp": "Safe City Partnership Southampton"})
    counts = pd.DataFrame({"h3": cells, "count": count, "harm": harm})
    return study, counts


def test_fdr_applied_exactly_once():
    cells = _patch(6)
    rng = np.random.default_rng(9)
    count = rng.poisson(0.6, cells.size).astype(float)
    count[:4] += 8
    study, counts = _frames(cells, count, count * 100)
    result = score_cells(study, counts, None, None, HotspotParams()).cells
    p = result["gi_p"].to_numpy()
    once = fdr_bh(p)
    twice = fdr_bh(once)
    assert not np.allclose(once, twice)  # the check can tell once from twice on this input
    np.testing.assert_allclose(result["gi_p_fdr"].to_numpy(), once, atol=0)
    assert np.all(result["gi_bin"].to_numpy() == gi_bins(result["gi_z"].to_numpy(), once))


def test_harm_weights_change_gistar():
    """Equal counts everywhere near the centre, but one cell's incidents are murders: Gi* of harm
    differs from Gi* of count (a defect seen elsewhere: weights changed the counts shown, not Gi*)."""
    cells = _patch(5)
    count = np.ones(cells.size)
    harm = np.full(cells.size, 30.0)
    centre = int(np.searchsorted(cells, np.uint64(CENTRE)))
    harm[centre] = 5475.0
    study, counts = _frames(cells, count, harm)
    by_count = score_cells(study, counts, None, None, HotspotParams(measure="count")).cells.set_index("h3")
    by_harm = score_cells(study, counts, None, None, HotspotParams(measure="harm")).cells.set_index("h3")
    key = format(CENTRE, "x")
    assert by_count.loc[key, "gi_z"] == 0.0  # equal counts: no clustering of counts at all
    assert by_harm.loc[key, "gi_z"] > 3.0
    assert not np.allclose(by_count["gi_z"], by_harm.loc[by_count.index, "gi_z"])


def test_fdr_bh_equals_scipy_with_ties_and_ones():
    from scipy import stats

    rng = np.random.default_rng(3)
    p = np.concatenate([rng.uniform(size=500), rng.uniform(0, 1e-4, 50), np.ones(20), np.full(30, 0.01)])
    rng.shuffle(p)
    np.testing.assert_allclose(fdr_bh(p), stats.false_discovery_control(p, method="bh"), rtol=1e-12, atol=0)


def test_analytical_p_is_the_two_sided_normal_tail():
    from scipy import stats

    from hotspot_engine.analyse.gistar import gistar as gi

    rng = np.random.default_rng(5)
    values = rng.poisson(3, 200).astype(float)
    i = np.repeat(np.arange(200), 3)
    j = (i + np.tile([0, 1, 199], 200)) % 200
    result = gi(values, i, j)
    z = np.asarray(result.z)
    np.testing.assert_allclose(np.asarray(result.p_norm), 2 * stats.norm.sf(np.abs(z)), rtol=1e-12, atol=1e-300)


def _scipy_disks(i: np.ndarray, j: np.ndarray, n: int, m: int):
    """The scipy.sparse matrix the engine built before Disks (issue 24 item 5)."""
    from scipy import sparse

    matrix = sparse.csr_matrix((np.ones(i.size), (i, j)), shape=(n, m))
    matrix = (matrix + sparse.identity(n, format="csr") if n == m else matrix + sparse.eye(n, m, format="csr")).tocsr()
    matrix.data[:] = 1.0
    return matrix


@pytest.mark.parametrize("seed", range(6))
def test_disks_sum_as_scipy_sparse_to_the_last_bit(seed):
    """Disks @ x adds in scipy's order: equal bit for bit on non-integer values (where order shows),
    with duplicate pairs, missing and present self pairs, 1-D and 2-D, square and not."""
    from hotspot_engine.analyse.gistar import binary_weights

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    m = n if seed % 2 == 0 else int(rng.integers(1, 400))
    pairs = int(rng.integers(0, 8 * n))
    i, j = rng.integers(0, n, pairs), rng.integers(0, m, pairs)
    ours, theirs = binary_weights(i, j, n, m), _scipy_disks(i, j, n, m)
    assert np.array_equal(ours.indptr, theirs.indptr) and np.array_equal(ours.indices, theirs.indices)
    x = rng.standard_normal(m) * 10.0 ** rng.integers(-8, 8, m)
    assert np.array_equal(ours @ x, theirs @ x)
    grid = rng.standard_normal((m, 5)) * 10.0 ** rng.integers(-8, 8, (m, 1))
    assert np.array_equal(ours @ grid, np.asarray(theirs @ grid))
    assert np.array_equal(ours.sum(axis=1), np.asarray(theirs.sum(axis=1)).ravel())


def test_disks_on_real_ring_pairs_equal_scipy():
    from hotspot_engine.analyse.gistar import binary_weights

    cells = _patch(6)
    i, j = geography.ring_neighbours(cells, 2)
    x = np.random.default_rng(1).gamma(0.3, 2.0, cells.size)
    assert np.array_equal(binary_weights(i, j, cells.size) @ x, _scipy_disks(i, j, cells.size, cells.size) @ x)


@pytest.mark.slow
def test_special_functions_load_alone_and_are_scipys_own():
    """In a fresh process (the command line) the ufuncs load without scipy.special's package, and
    a later plain import hands back the very same functions."""
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys\n"
        "from hotspot_engine.analyse.gistar import special_functions, upper_tail\n"
        "f = special_functions()\n"
        "p = upper_tail(__import__('numpy').array([3.0, 7.0]), 1.5, 0.2)\n"
        "assert 'scipy.special' not in sys.modules and 'scipy.sparse' not in sys.modules, sorted(sys.modules)\n"
        "import scipy.special as s\n"
        "assert f.betainc is s.betainc and f.gammainc is s.gammainc and f.ndtr is s.ndtr\n"
        "from scipy import stats\n"
        "assert abs(p - stats.nbinom.sf([2, 6], 5.0, 5.0 / 6.5)).max() < 1e-15\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def _fallback(monkeypatch):
    """special_functions() as the command line calls it (scipy.special not imported, one thread), fresh
    from its cache; the cache is cleared again after the test."""
    import sys
    import threading

    from hotspot_engine.analyse import gistar as G

    monkeypatch.delitem(sys.modules, "scipy.special", raising=False)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    G.special_functions.cache_clear()
    try:
        return G.special_functions()
    finally:
        G.special_functions.cache_clear()


#: What a scipy laid out otherwise could hand the stand-in path: (ndtr, gammainc, betainc) as found there.
_OTHER_LAYOUTS = {
    "ufunc missing": lambda s: types.SimpleNamespace(ndtr=s.ndtr, gammainc=s.gammainc),
    # betainc taking (a, x) only, as a two-input ufunc: the engine's three-argument call would raise.
    "other arguments": lambda s: types.SimpleNamespace(ndtr=s.ndtr, gammainc=s.gammainc, betainc=np.frompyfunc(
        lambda a, x: s.betainc(a, a, x), 2, 1)),
    # gammainc with its arguments the other way round (same ufunc shape, other values): P(x, a).
    "arguments swapped": lambda s: types.SimpleNamespace(ndtr=s.ndtr, betainc=s.betainc, gammainc=np.frompyfunc(
        lambda a, x: s.gammainc(x + 1.0, a), 2, 1)),
    "not a ufunc": lambda s: types.SimpleNamespace(ndtr=lambda x: s.ndtr(x), gammainc=s.gammainc, betainc=s.betainc),
    "the import raises": lambda s: _raise(AttributeError("module 'scipy' has no attribute '__path__'")),
}


def _raise(error: Exception):
    raise error


@pytest.mark.parametrize("layout", ["module renamed", *_OTHER_LAYOUTS])
def test_special_functions_fall_back_to_the_plain_import_when_scipy_is_laid_out_otherwise(monkeypatch, layout):
    import sys

    import scipy.special
    from scipy import stats

    from hotspot_engine.analyse import gistar as G

    if layout == "module renamed":  # the stand-in import itself fails: no scipy.special._ufuncs
        monkeypatch.setattr(G, "UFUNCS_MODULE", "_ufuncs_moved_elsewhere")
    else:
        monkeypatch.setattr(G, "_ufuncs_alone", lambda: _OTHER_LAYOUTS[layout](scipy.special))
    special = _fallback(monkeypatch)
    assert special is scipy.special  # the plain import, never the stand-in or the partial module
    assert sys.modules.get("scipy.special") in (None, scipy.special)  # the stand-in did not stay behind
    assert special.ndtr(-1.959963984540054) == pytest.approx(0.025, abs=1e-12)
    assert special.betainc(2.0, 3.0, 0.4) == pytest.approx(stats.beta.cdf(0.4, 2.0, 3.0), rel=1e-13)
    assert special.gammainc(5.0, 2.0) == pytest.approx(stats.gamma.cdf(2.0, 5.0), rel=1e-13)
    with monkeypatch.context() as m:  # the engine's tails on the fallback equal scipy.stats'
        m.setattr(G, "special_functions", lambda: special)
        p = G.upper_tail(np.array([3.0, 7.0]), 1.5, 0.2)
    assert np.abs(p - stats.nbinom.sf([2, 6], 5.0, 5.0 / 6.5)).max() < 1e-15


def test_special_functions_take_the_loaded_ufuncs_when_the_layout_is_as_expected(monkeypatch):
    """The same seam, unbroken: without a layout change the stand-in path returns the ufuncs module
    (so the fallback tests above test the fallback, not a path never taken)."""
    from hotspot_engine.analyse import gistar as G

    monkeypatch.setattr(G, "_ufuncs_alone", lambda: __import__("scipy.special._ufuncs", fromlist=["_"]))
    special = _fallback(monkeypatch)
    assert special.__name__ == "scipy.special._ufuncs"
