"""Chi-squared homogeneity against scipy, rare-category merging, the unseen bucket, total variation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from modelport.stats.categorical import OTHER, UNSEEN, align_counts, chi2_homogeneity, merge_rare, total_variation


def test_matches_scipy_chi2_contingency() -> None:
    ref = {"a": 500, "b": 300, "c": 200}
    cur = {"a": 90, "b": 70, "c": 40}
    expected = sps.chi2_contingency([[500, 300, 200], [90, 70, 40]], correction=False)
    got = chi2_homogeneity(ref, cur)
    assert got.statistic == pytest.approx(expected.statistic, rel=1e-9)
    assert got.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert got.details["dof"] == expected.dof


def test_two_by_two_matches_scipy_without_yates() -> None:
    expected = sps.chi2_contingency([[30, 70], [45, 55]], correction=False)
    got = chi2_homogeneity({"x": 30, "y": 70}, {"x": 45, "y": 55})
    assert got.p_value == pytest.approx(expected.pvalue, rel=1e-9)


def test_unseen_categories_get_their_own_bucket() -> None:
    table = align_counts({"a": 10, "b": 5}, {"a": 3, "z": 4, "y": 1})
    assert table.buckets == ("a", "b", UNSEEN)
    assert table.reference == (10, 5, 0)
    assert table.current == (3, 0, 5)


def test_rare_categories_are_merged_but_unseen_is_kept() -> None:
    ref = {"a": 1000, "b": 900, "r1": 2, "r2": 1, "r3": 1}
    cur = {"a": 100, "b": 95, "r1": 1, "new": 30}
    table = merge_rare(align_counts(ref, cur))
    assert OTHER in table.buckets and UNSEEN in table.buckets
    assert "r1" not in table.buckets
    assert sum(table.reference) == sum(ref.values()) and sum(table.current) == sum(cur.values())


def test_many_rare_categories_do_not_false_alarm() -> None:
    rng = np.random.default_rng(3)
    shares = rng.dirichlet(np.full(200, 0.3))
    alarms = 0
    for _ in range(200):
        ref = np.bincount(rng.choice(200, 2000, p=shares), minlength=200)
        cur = np.bincount(rng.choice(200, 300, p=shares), minlength=200)
        result = chi2_homogeneity({str(i): int(c) for i, c in enumerate(ref)}, {str(i): int(c) for i, c in enumerate(cur)})
        alarms += result.p_value < 0.05
    assert alarms / 200 < 0.1


def test_single_bucket_is_no_evidence() -> None:
    result = chi2_homogeneity({"only": 10}, {"only": 4})
    assert (result.statistic, result.p_value) == (0.0, 1.0)


def test_total_variation() -> None:
    assert total_variation({"a": 50, "b": 50}, {"a": 100}) == pytest.approx(0.5)
    assert total_variation({"a": 1}, {"z": 1}) == pytest.approx(1.0)
    assert total_variation({}, {"a": 1}) == 0.0
