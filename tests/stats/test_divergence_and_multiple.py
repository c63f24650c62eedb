"""Jensen-Shannon and PSI against reference formulas; Holm and Bonferroni against statsmodels' rules."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon

from modelport.foundation.errors import InvalidInputError
from modelport.stats.divergence import binned_counts, js_distance, psi, quantile_edges
from modelport.stats.multiple import bonferroni, bonferroni_adjusted, holm, holm_adjusted


@pytest.mark.parametrize(("p", "q"), [([1, 2, 3], [3, 2, 1]), ([5, 0, 5], [0, 10, 0]), ([1, 1], [1, 1])])
def test_js_matches_scipy(p: list[int], q: list[int]) -> None:
    assert js_distance(p, q) == pytest.approx(float(jensenshannon(p, q, base=2)), abs=1e-9)


def test_psi_formula_and_empty_bins() -> None:
    ref, cur = np.array([0.25, 0.25, 0.5]), np.array([0.2, 0.3, 0.5])
    expected = float(np.sum((cur - ref) * np.log(cur / ref)))
    assert psi(ref, cur) == pytest.approx(expected, rel=1e-12)
    assert psi([1, 0], [0, 1]) > 10
    assert psi([3, 3], [3, 3]) == 0.0


def test_bins_from_reference_quantiles() -> None:
    ref = np.sort(np.arange(100.0))
    edges = quantile_edges(ref, 4)
    assert binned_counts(ref, edges).tolist() == [25, 25, 25, 25]
    assert binned_counts(np.array([-5.0, 500.0]), edges).tolist() == [1, 0, 0, 1]
    assert quantile_edges(np.ones(10), 10).tolist() == [1.0]
    assert quantile_edges(np.empty(0)).size == 0


def test_holm_golden_values() -> None:
    # statsmodels.stats.multitest.multipletests([0.01, 0.04, 0.03, 0.005], method="holm")
    p = [0.01, 0.04, 0.03, 0.005]
    assert holm_adjusted(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm(p, 0.05) == [True, False, False, True]
    assert bonferroni(p, 0.05) == [True, False, False, True]
    assert bonferroni_adjusted(p) == pytest.approx([0.04, 0.16, 0.12, 0.02])
    assert holm_adjusted([]) == []


def test_holm_is_never_weaker_than_bonferroni() -> None:
    rng = np.random.default_rng(0)
    for _ in range(100):
        p = rng.uniform(0, 0.05, size=8).tolist()
        assert all(h or not b for h, b in zip(holm(p), bonferroni(p), strict=True))


def test_alpha_out_of_range() -> None:
    with pytest.raises(InvalidInputError, match="alpha"):
        holm([0.1], alpha=1.5)
