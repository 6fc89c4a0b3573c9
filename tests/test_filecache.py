"""The editable lookups are read once per version of the file: an edit applies on the next call,
a broken file is reported every time, and a caller cannot change what the next caller gets."""
import os

import numpy as np
import pytest

from hotspot_engine.reference import geography
from hotspot_engine.errors import InputError
from hotspot_engine.analyse.hotspots import load_exclusions
from hotspot_engine.reference.offences import load_harm_weights


def _write(path, text, bump_ns=0):
    path.write_text(text)
    if bump_ns:  # two writes in one clock tick would share an mtime: move it on explicitly
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + bump_ns))


def test_edited_csp_lookup_applies_on_the_next_call(tmp_path):
    path = tmp_path / "district_csp.csv"
    _write(path, "lad_code,district,csp\nE06000044,Portsmouth,Safer Portsmouth\n")
    assert geography.csp_lookup(path)["csp"].tolist() == ["Safer Portsmouth"]
    _write(path, "lad_code,district,csp\nE06000044,Portsmouth,Portsmouth CSP\n", bump_ns=10**9)
    assert geography.csp_lookup(path)["csp"].tolist() == ["Portsmouth CSP"]


def test_a_broken_lookup_is_reported_on_every_call_until_mended(tmp_path):
    path = tmp_path / "district_csp.csv"
    _write(path, "lad_code,district\nE06000044,Portsmouth\n")
    for _ in range(2):
        with pytest.raises(InputError, match="missing column"):
            geography.csp_lookup(path)
    _write(path, "lad_code,district,csp\nE06000044,Portsmouth,Portsmouth CSP\n", bump_ns=10**9)
    assert len(geography.csp_lookup(path)) == 1


def test_callers_get_their_own_copy(tmp_path):
    first = geography.csp_lookup()
    first.loc[:, "csp"] = "changed"
    assert "changed" not in set(geography.csp_lookup()["csp"])
    weights = load_harm_weights()
    weights["weight_days"] = 0
    assert load_harm_weights()["weight_days"].sum() > 0
    exclusions = tmp_path / "exclusions.csv"
    _write(exclusions, "pattern,reason\nhospital,not a patrol place\n")
    mine = load_exclusions(exclusions)
    mine.loc[0, "pattern"] = "changed"
    assert load_exclusions(exclusions)["pattern"].tolist() == ["hospital"]


def test_edited_harm_weights_apply_on_the_next_call(tmp_path):
    path = tmp_path / "harm.csv"
    _write(path, "group,weight_days\nrobbery,100\n")
    assert load_harm_weights(path).set_index("group").loc["robbery", "weight_days"] == 100
    _write(path, "group,weight_days\nrobbery,200\n", bump_ns=10**9)
    assert load_harm_weights(path).set_index("group").loc["robbery", "weight_days"] == 200


def test_memoised_neighbours_and_centres_equal_a_fresh_computation():
    cells = geography.study_area(8).cells["h3"].to_numpy()
    i1, _ = geography.ring_neighbours(cells, 1)
    i1[:] = 0  # a caller editing its copy must not reach the memo
    i2, j2 = geography.ring_neighbours(cells, 1)
    fresh_i, fresh_j = geography._compute_ring_neighbours(cells, 1)
    assert np.array_equal(i2, fresh_i) and np.array_equal(j2, fresh_j)
    lat, _ = geography.cell_centres(cells)
    lat[:] = 0
    assert np.array_equal(geography.cell_centres(cells)[0], geography._compute_cell_centres(cells)[0])
    # A different array of the same length gets its own answer, not the memo's.
    shifted = np.roll(cells, 1)
    assert np.array_equal(geography.cell_centres(shifted)[0], np.roll(geography._compute_cell_centres(cells)[0], 1))
