"""The two-proportion z-test (pooled), e.g. error rates of a canary against its baseline."""

from __future__ import annotations

import math

from modelport.foundation.errors import InvalidInputError
from modelport.stats.results import TestResult

ALTERNATIVES = ("two-sided", "larger", "smaller")


def two_proportion_test(
    successes_a: int, total_a: int, successes_b: int, total_b: int, *, alternative: str = "two-sided"
) -> TestResult:
    """Pooled z-test of p_a == p_b; "larger" tests p_a > p_b. Details: both shares and their difference."""
    _check_counts(successes_a, total_a, "a")
    _check_counts(successes_b, total_b, "b")
    if alternative not in ALTERNATIVES:
        raise InvalidInputError(f"alternative {alternative!r}: use one of {', '.join(ALTERNATIVES)}", field="alternative")
    share_a, share_b = successes_a / total_a, successes_b / total_b
    pooled = (successes_a + successes_b) / (total_a + total_b)
    variance = pooled * (1 - pooled) * (1 / total_a + 1 / total_b)
    details = {"share_a": share_a, "share_b": share_b, "difference": share_a - share_b}
    if variance == 0:
        return TestResult(0.0, 1.0, details)
    z = (share_a - share_b) / math.sqrt(variance)
    return TestResult(z, _normal_p(z, alternative), details)


def _normal_p(z: float, alternative: str) -> float:
    from scipy.stats import norm

    if alternative == "larger":
        return float(norm.sf(z))
    if alternative == "smaller":
        return float(norm.cdf(z))
    return float(2 * norm.sf(abs(z)))


def _check_counts(successes: int, total: int, which: str) -> None:
    if total <= 0 or not 0 <= successes <= total:
        raise InvalidInputError(
            f"sample {which}: need 0 <= successes <= total and total > 0, got {successes} of {total}",
            field=f"sample_{which}",
        )
