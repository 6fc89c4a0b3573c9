"""Partner-safe outputs against the attacks that defeated them (issue 25, item 2).

An attacker holds a partner-safe table and knows the method. Three attacks:

1. **Ring sums**: any published column that is an affine function of each cell's ring sum (the
   ring sum itself, Gi* z) is fitted on the cells whose whole ring is visible, inverted, and the
   resulting linear system over the H3 ring solved for the blanked counts.
2. **Expected times ratio** on a funnel table: the blanked partner count is their product.
3. **Area total minus its visible cells**: the band of counts the published (rounded) figures
   allow for a lone blanked cell; recovered when only one count fits.

Each attack is first run on a table that blanks only the counts (what partner-safe did before
issue 25), where it must recover most counts, so these tests can fail; then on the partner-safe
table (and the on-screen tables), where it must recover none.
"""
from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pytest

from hotspot_engine.write import export
from hotspot_engine.write.disclosure import NEIGHBOURHOOD_COLUMNS

THRESHOLD = 5


def _ring_matrix(cells: list[str], k: int = 1) -> np.ndarray:
    index = {c: i for i, c in enumerate(cells)}
    ring = np.zeros((len(cells), len(cells)))
    for i, cell in enumerate(cells):
        for other in h3.grid_disk(cell, k):
            if other in index:
                ring[i, index[other]] = 1.0
    return ring


def _cells_table(seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    """A 400-cell patch with mostly small counts, as the hotspot cells export lays it out."""
    rng = np.random.default_rng(seed)
    centre = h3.latlng_to_cell(50.90, -1.40, 9)
    cells = sorted(h3.grid_disk(centre, 11))[:400]
    counts = rng.poisson(rng.choice([1.0, 3.0, 9.0], len(cells), p=[0.5, 0.3, 0.2])).astype(float)
    ring = _ring_matrix(cells)
    total = ring @ counts
    mean, sd, w = counts.mean(), counts.std(), ring.sum(axis=1)
    z = (total - mean * w) / (sd * np.sqrt((len(cells) * w - w**2) / (len(cells) - 1)))
    frame = pd.DataFrame({"h3": cells, "count": counts, "harm": counts * 365.0, "nbhd_total": total,
                          "expected": mean * w, "gi_z": z, "gi_bin": np.sign(z) * (np.abs(z) > 2.5) * 3,
                          "district": "X"})
    return frame, ring


def _ring_attack(published: pd.DataFrame, truth: np.ndarray, ring: np.ndarray) -> float:
    """Share of blanked counts recovered exactly through any column affine in the ring sum:
    y = a + b * (ring_visible @ visible + ring_blank @ x) is linear in (a, b, b * x)."""
    blank = published["count"].isna().to_numpy()
    if not blank.any():
        return 0.0
    known = np.where(blank, 0.0, published["count"].to_numpy(dtype=float, na_value=0.0))
    best = 0.0
    for column in published.columns:
        if column in ("count", "h3") or not pd.api.types.is_numeric_dtype(published[column]):
            continue
        y = published[column].to_numpy(dtype=float, na_value=np.nan)
        rows = np.isfinite(y)
        design = np.column_stack([np.ones(rows.sum()), ring[rows] @ known, ring[rows][:, blank]])
        solved, _, rank, _ = np.linalg.lstsq(design, y[rows], rcond=None)
        if rank < design.shape[1]:
            continue  # many solutions fit: the column does not determine the blanked counts
        if np.max(np.abs(design @ solved - y[rows])) > 1e-6 * max(1.0, np.abs(y[rows]).max()) \
                or abs(solved[1]) < 1e-9:
            continue  # not an affine function of the ring sum
        recovered = solved[2:] / solved[1]
        best = max(best, float(np.mean(np.abs(recovered - truth[blank]) < 0.5)))
    return best


def test_ring_sum_attack_recovers_counts_blanked_alone_but_none_from_partner_safe():
    frame, ring = _cells_table()
    truth = frame["count"].to_numpy()
    assert (truth < THRESHOLD).mean() > 0.4
    small = frame["count"] < THRESHOLD
    naive = frame.assign(count=frame["count"].mask(small), harm=frame["harm"].mask(small))
    assert _ring_attack(naive, truth, ring) > 0.9  # the attack works when only counts are blanked
    safe = export.partner_safe({"cells": frame}, threshold=THRESHOLD)["cells"]
    assert not set(NEIGHBOURHOOD_COLUMNS) & set(safe.columns)
    assert safe["count"].isna().sum() == (truth < THRESHOLD).sum()
    assert _ring_attack(safe, truth, ring) == 0.0


def _funnel_table(seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    police = rng.poisson(6, 300).astype(float)
    partner = rng.poisson(police * 0.6).astype(float)
    expected = police * 0.6
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, partner / expected, np.nan)
    return pd.DataFrame({"lsoa_code": [f"E0{i:07d}" for i in range(300)], "partner_count": partner,
                         "police_count": police, "expected": expected, "ratio": ratio,
                         "funnel_z": (partner - expected) / np.sqrt(np.maximum(expected, 1e-9)),
                         "flag": ""})


def _product_attack(published: pd.DataFrame, truth: pd.DataFrame) -> float:
    """Share of blanked partner and police counts recovered from expected, ratio and z."""
    got, blanked = 0, 0
    force_ratio = float(np.nanmedian(truth["expected"] / truth["police_count"]))
    for _, (row, real) in enumerate(zip(published.to_dict("records"), truth.to_dict("records"))):
        for column in ("partner_count", "police_count"):
            if not pd.isna(row[column]):
                continue
            blanked += 1
            guesses = []
            if column == "partner_count" and np.isfinite(row["expected"]) and np.isfinite(row["ratio"]):
                guesses.append(row["expected"] * row["ratio"])
            if column == "police_count" and np.isfinite(row["expected"]):
                guesses.append(row["expected"] / force_ratio)
            if column == "police_count" and np.isfinite(row["ratio"]) and row["ratio"] > 0 \
                    and not pd.isna(row["partner_count"]):
                guesses.append(row["partner_count"] / row["ratio"] / force_ratio)
            got += any(abs(g - real[column]) < 0.5 for g in guesses)
    return got / blanked if blanked else 0.0


def test_expected_times_ratio_recovers_nothing_from_a_partner_safe_funnel():
    table = _funnel_table()
    naive = table.assign(partner_count=table["partner_count"].where(table["partner_count"] >= THRESHOLD),
                         police_count=table["police_count"].where(table["police_count"] >= THRESHOLD))
    assert _product_attack(naive, table) > 0.9
    safe = export.partner_safe({"partners": table}, threshold=THRESHOLD)["partners"]
    assert safe["partner_count"].isna().any() and safe["police_count"].isna().any()
    assert _product_attack(safe, table) == 0.0


def _band(shown: float, step: int) -> tuple[float, float]:
    """The whole counts a shown count can stand for: itself when exact (step 1), else those that round
    to it, never under the threshold (the rule in write/disclosure.py)."""
    return (shown, shown) if step <= 1 else (max(shown - step // 2, THRESHOLD), shown + step // 2)


def _fits(total: tuple[float, float], visible: list[float], step: int, others: int = 0) -> list[int]:
    """The hidden counts (0 to the threshold - 1) a total (low, high) less the visible counts allows.
    ``others``: further hidden counts the attacker knows are at least the threshold (secondary
    suppression), with nothing known above it."""
    bands = [_band(v, step) for v in visible]
    low, high = total[0] - sum(b[1] for b in bands), total[1] - sum(b[0] for b in bands)
    if others:
        low, high = -np.inf, high - others * THRESHOLD
    return [v for v in range(THRESHOLD) if low - 1e-9 <= v <= high + 1e-9]


def _difference_attack(areas: pd.DataFrame, cells: pd.DataFrame, truth: pd.Series, step: int) -> float:
    """Areas holding exactly one blanked cell: the counts its published total and visible cells allow
    (each published count stands for the whole counts that round to it); recovered when only one fits."""
    got, tried = 0, 0
    for area_id, members in cells.groupby("hotspot_id"):
        blank = members["count"].isna()
        total = areas.loc[areas["hotspot_id"] == area_id, "count"].iloc[0]
        if blank.sum() != 1 or pd.isna(total):
            continue
        tried += 1
        fits = _fits(_band(total, step), members.loc[~blank, "count"].tolist(), step)
        got += fits == [int(truth[members.index[blank][0]])]
    assert tried > 0
    return got / tried


def test_area_total_minus_visible_cells_recovers_nothing_from_partner_safe():
    rng = np.random.default_rng(9)
    ids = np.repeat([f"H{i:02d}" for i in range(40)], 6)
    counts = pd.Series(rng.choice([2, 3, 6, 8, 11, 14], len(ids)).astype(float))
    cells = pd.DataFrame({"h3": range(len(ids)), "hotspot_id": ids, "count": counts})
    areas = cells.groupby("hotspot_id", as_index=False)["count"].sum()
    exact = export.partner_safe({"cells": cells, "areas": areas}, threshold=THRESHOLD, round_to=1)
    assert _difference_attack(exact["areas"], exact["cells"], counts, 1) > 0.9
    safe = export.partner_safe({"cells": cells, "areas": areas}, threshold=THRESHOLD)
    assert _difference_attack(safe["areas"], safe["cells"], counts, THRESHOLD) == 0.0


@pytest.mark.slow
def test_partner_safe_hotspot_export_and_screen_tables_of_the_sample(sample_db, tmp_path):
    """The real exports: no neighbourhood statistic in the partner-safe hotspot cells (in every
    format), and on screen no restricted count hidden in the flagged table or the ranking score."""
    from hotspot_engine import service
    from hotspot_engine.__main__ import main as cli_main
    from hotspot_engine.filters import Filters
    from hotspot_engine.service import partners as partner_service
    from hotspot_engine.store import database as store

    db = sample_db
    for fmt in ("csv", "xlsx", "gpkg"):
        out = tmp_path / f"safe.{fmt}"
        assert cli_main(["export", "hotspots", "--db", str(db), "--from", "2023-04", "--to", "2024-03",
                         "--partner-safe", "--out", str(out)]) == 0
        if fmt == "csv":
            frame = pd.read_csv(next(tmp_path.glob("safe*cells*.csv")), low_memory=False)
        elif fmt == "xlsx":
            frame = pd.read_excel(out, sheet_name=None)
            frame = next(v for k, v in frame.items() if "cell" in k)
        else:
            import pyogrio

            frame = pyogrio.read_dataframe(out, layer="hotspot_cells")
        assert not set(NEIGHBOURHOOD_COLUMNS) & set(frame.columns), fmt
        assert frame["count"].isna().any() and (frame["count"].dropna() % THRESHOLD == 0).all(), fmt
    con = store.connect(db, read_only=True)
    try:
        filters = Filters(date_from="2023-04", date_to="2024-03")
        result = service.hotspots(con, filters)
        ranking = partner_service.combined_ranking(con, result.cells, filters,
                                                   {"police": 0.0, "Ambulance call-outs": 1.0}, THRESHOLD)
    finally:
        con.close()
    hidden = ranking["Ambulance call-outs"].isna() & ranking["suppressed"]
    assert hidden.any()
    # Ranked on the counts as shown: a hidden cell scores 0 and a shown one its shown share, so the
    # layer total a score gives is the sum of the shown counts, not the exact total (issue 25).
    shown = ranking["Ambulance call-outs"]
    assert (ranking.loc[hidden, "score"] == 0).all() and (shown.dropna() % THRESHOLD == 0).all()
    np.testing.assert_allclose(ranking.loc[~hidden, "score"], shown[~hidden] / shown.sum())


# --------------------------------------------------------------------------------------------
# On screen: a total that includes the one hidden count, less the shown counts (issue 25)
# --------------------------------------------------------------------------------------------


def _one_hidden(rng, n: int) -> np.ndarray:
    """``n`` counts of which exactly one (the first) is under the threshold and above 0."""
    counts = rng.integers(THRESHOLD, 4 * THRESHOLD, n).astype(float)
    counts[0] = rng.integers(1, THRESHOLD)
    return counts


def _score_attack(shown: pd.DataFrame, truth: np.ndarray, step: int) -> bool:
    """With the police weight 0 a shown score is the cell's count over the layer's total: the total
    is a shown count over its score, and that total less every shown count leaves the hidden one."""
    visible = shown[shown["ae"].notna()]
    total = float(visible["ae"].iloc[0] / visible["score"].iloc[0])
    hidden_row = shown["ae"].isna().to_numpy()
    return _fits((total, total), visible["ae"].tolist(), step) == [int(truth[hidden_row][0])]


def test_a_ranking_score_gives_back_no_hidden_count_on_screen():
    """The Partner data page's ranking: scores were computed from the exact counts, so one hidden cell
    was the layer's total (a count over its score) less the shown counts; ranked on the shown counts,
    a restricted layer's scores say nothing more than the table."""
    from hotspot_engine.analyse import partners as analysis

    rng = np.random.default_rng(11)
    naive_got = safe_got = 0
    trials = 60
    for _ in range(trials):
        n = int(rng.integers(3, 30))
        counts = _one_hidden(rng, n)
        cells = pd.DataFrame({"h3": np.arange(n, dtype=np.uint64), "harm": rng.uniform(1, 500, n)})
        partner = pd.DataFrame({"source": "ae", "h3": np.arange(n, dtype=np.uint64), "count": counts})
        weights = {"police": 0.0, "ae": 1.0}
        naive = analysis.combined_ranking(cells, partner, weights).sort_values("h3")
        small = naive["ae"] < THRESHOLD  # what the page showed before: the count hidden, the others exact
        naive = naive.assign(ae=naive["ae"].mask(small), score=naive["score"].mask(small))
        naive_got += _score_attack(naive, counts, 1)
        safe = analysis.combined_ranking(cells, partner, weights, shown_only={"ae": THRESHOLD}).sort_values("h3")
        assert safe["ae"].isna().sum() == 1 and (safe["ae"].dropna() % THRESHOLD == 0).all()
        safe_got += _score_attack(safe, counts, THRESHOLD)
    assert naive_got / trials > 0.9
    assert safe_got == 0


def _funnel_attack(shown: pd.DataFrame, limits: pd.DataFrame, truth: np.ndarray, step: int) -> bool:
    """The attacker knows the police counts. Any expected count over its police count (a row's, or a
    limit's) is the force-wide ratio; times the police total it is the partner total, less the shown
    counts the hidden one. Exact R when nothing is banded; otherwise the total it gives is banded too."""
    ratios = pd.concat([shown["expected"] / shown["police_count"], limits["expected"] / limits["police_count"]])
    total = float(ratios.dropna().iloc[0] * shown["police_count"].sum())
    hidden_row = shown["partner_count"].isna().to_numpy()
    # the strongest attacker: knows which hidden count is the small one, the rest being at least the threshold
    small = hidden_row & (truth < THRESHOLD)
    fits = _fits(_band(round(total), step), shown.loc[~hidden_row, "partner_count"].tolist(), step,
                 others=int(hidden_row.sum() - small.sum()))
    return fits == [int(truth[small][0])]


def test_the_funnel_ratio_gives_back_no_hidden_lsoa_on_screen_or_in_the_export():
    """The funnel of a restricted layer: the expected counts (police count x force-wide ratio) gave the
    partner total, which less the shown LSOA counts gave back the one hidden. On screen
    (service.screen_funnel) and in the partner-safe export nothing comes back."""
    from hotspot_engine.analyse import partners as analysis
    from hotspot_engine.filters import Filters
    from hotspot_engine.service import partners as partner_service

    rng = np.random.default_rng(13)
    naive_got = screen_got = export_got = 0
    trials = 40
    for _ in range(trials):
        n = int(rng.integers(3, 40))
        partner = _one_hidden(rng, n)
        counts = pd.DataFrame({"lsoa_code": [f"L{i:04d}" for i in range(n)], "district": "D", "csp": "C",
                               "partner_count": partner.astype(np.int64),
                               "police_count": rng.integers(5, 60, n)})
        result = analysis.funnel(counts)
        table = result.table.set_index("lsoa_code").loc[counts["lsoa_code"]].reset_index()
        truth = table["partner_count"].to_numpy(dtype=float)
        naive = table.assign(partner_count=table["partner_count"].where(truth >= THRESHOLD))
        naive_got += _funnel_attack(naive, result.limits, truth, 1)
        compared = partner_service.PartnerFunnel(result, Filters(), {}, hide_small=True, notes=list(result.notes))
        screened = partner_service.screen_funnel(compared, THRESHOLD)
        screen = screened.result
        # The page's notes give the force-wide ratio too: the shown one, not the exact one.
        assert analysis.ratio_note(screen.ratio) in screened.notes and analysis.ratio_note(screen.ratio) in screen.notes
        assert sum(note.startswith("Force-wide ratio") for note in screened.notes) == 1
        shown = screen.table.set_index("lsoa_code").loc[counts["lsoa_code"]].reset_index()
        # the lone small count and one secondary (the smallest shown): a lone hidden count could be
        # pinned by the rounded total in small views (benchmarks/bench_partner_safe_recovery.py)
        assert shown["partner_count"].isna().sum() == 2 and shown[["funnel_z", "p_higher", "p_lower"]].isna().all().all()
        screen_got += _funnel_attack(shown, screen.limits, truth, THRESHOLD)
        safe = export.partner_safe({"partners": table}, threshold=THRESHOLD)["partners"]
        # The export bands the police counts too; the attacker has the exact ones from police data.
        safe = safe.assign(police_count=table["police_count"])
        export_got += _funnel_attack(safe, result.limits.iloc[0:0], truth, THRESHOLD) if safe["expected"].notna().any() else 0
    assert naive_got / trials > 0.9
    assert screen_got == 0 and export_got == 0


def test_the_layer_list_shows_a_restricted_layers_row_total_as_counts_are_shown():
    """A restricted events layer's row count is its total: exact beside its rounded cells, it narrowed
    the hidden ones (one hidden cell: the total less the shown band). Open and partnership layers
    keep their exact row counts."""
    from hotspot_engine.service import partners as partner_service

    layers = pd.DataFrame({"source": ["ae", "ambulance", "premises", "tiny"], "kind": ["events", "events", "places", "events"],
                           "owner": "x", "sharing": ["restricted", "partnership", "open", "restricted"],
                           "rows": [1_237, 1_237, 41, 3], "first": "", "last": ""})
    shown = partner_service.screen_layers(layers, THRESHOLD).set_index("source")["rows"]
    assert shown["ae"] == 1_235 and shown["ambulance"] == 1_237 and shown["premises"] == 41
    assert np.isnan(shown["tiny"])
    assert layers["rows"].tolist() == [1_237, 1_237, 41, 3]  # the caller's frame is not changed


def test_the_suppressed_flag_names_the_columns_it_blanked():
    """Audit item 7: on the real months every partner-safe hotspot area read 'suppressed' beside a
    shown count of 40, because its patrol columns (no patrol data: 0) were the blanked ones."""
    from hotspot_engine.write.disclosure import partner_safe

    areas = pd.DataFrame({"hotspot_id": ["a", "b", "c"], "count": [40, 3, 12], "harm": [100.0, 5.0, 30.0],
                          "patrols": [0, 0, 7], "patrol_minutes": [0.0, 0.0, 70.0], "top_location": ["x", "y", "z"]})
    safe = partner_safe({"hotspot_areas": areas})["hotspot_areas"]
    assert safe["count"].tolist()[0] == 40 and safe["suppressed"].tolist() == [True, True, False]
    assert safe["suppressed_columns"].tolist()[0] == "patrols, patrol_minutes"
    assert set(safe["suppressed_columns"][1].split(", ")) == {"count", "harm", "patrols", "patrol_minutes", "top_location"}
    assert safe["suppressed_columns"][2] == ""
    for i, names in enumerate(safe["suppressed_columns"]):  # every named column is blank in that row, and only those
        blank = {c for c in ("count", "harm", "patrols", "patrol_minutes", "top_location") if pd.isna(safe[c][i])}
        assert blank == set(filter(None, names.split(", "))), i
