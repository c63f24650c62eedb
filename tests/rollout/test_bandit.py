"""Thompson sampling: traffic moves to the better arm, the floor keeps exploring, regret is reported."""

from __future__ import annotations

import numpy as np
import pytest

from modelport.foundation.errors import InvalidInputError
from modelport.rollout.bandit import Arm, allocate, regret, shares_to_weights


def _run(rates: list[float], *, rounds: int = 15, per_round: int = 400, binary: bool = True,
         seed: int = 0) -> list[dict[int, float]]:
    """Serve `per_round` requests per round by the current shares; rewards drawn from `rates`."""
    rng = np.random.default_rng(seed)
    rewards: dict[int, list[np.ndarray]] = {v: [] for v in range(len(rates))}
    shares = {v: 1 / len(rates) for v in range(len(rates))}
    history = []
    for round_index in range(rounds):
        counts = rng.multinomial(per_round, [shares[v] for v in range(len(rates))])
        for version, count in enumerate(counts):
            draws = rng.binomial(1, rates[version], count) if binary else rng.normal(rates[version], 1.0, count)
            rewards[version].append(draws)
        arms = [Arm.of(v, np.concatenate(rewards[v])) for v in range(len(rates))]
        shares = allocate(arms, binary=binary, floor=0.05, seed=round_index).shares
        history.append(shares)
    return history


def test_traffic_shifts_to_the_better_arm() -> None:
    history = _run([0.30, 0.36, 0.25])
    assert history[-1][1] > 0.8
    assert all(share >= 0.05 - 1e-9 for share in history[-1].values())  # the floor keeps every arm alive


def test_continuous_rewards_shift_too() -> None:
    history = _run([1.0, 1.3], binary=False, rounds=8)
    assert history[-1][1] > 0.85


def test_equal_arms_stay_shared() -> None:
    allocation = allocate([Arm.of(1, [1, 0] * 500), Arm.of(2, [1, 0] * 500)], binary=True, seed=1)
    assert abs(allocation.shares[1] - 0.5) < 0.1
    assert allocation.regret == 0.0


def test_regret_counts_rewards_lost_to_worse_arms() -> None:
    arms = [Arm.of(1, [1] * 80 + [0] * 20), Arm.of(2, [1] * 10 + [0] * 40)]
    assert regret(arms) == pytest.approx(50 * (0.8 - 0.2))
    assert regret([Arm(1), Arm(2)]) == 0.0


def test_weights_sum_to_100_and_bad_settings_are_refused() -> None:
    assert sum(shares_to_weights({1: 1 / 3, 2: 1 / 3, 3: 1 / 3}).values()) == pytest.approx(100)
    with pytest.raises(InvalidInputError, match="two versions"):
        allocate([Arm(1)], binary=True)
    with pytest.raises(InvalidInputError, match="floor"):
        allocate([Arm(1), Arm(2), Arm(3)], binary=True, floor=0.5)
    with pytest.raises(InvalidInputError, match="reward"):
        allocate([Arm.of(1, [3.0]), Arm(2)], binary=True)
