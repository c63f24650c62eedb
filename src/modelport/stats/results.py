"""The record a significance test returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TestResult:
    """A test statistic, its p-value, and test-specific extras (degrees of freedom, effect, ...)."""

    __test__ = False  # not a pytest test class despite the name

    statistic: float
    p_value: float
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"statistic": self.statistic, "p_value": self.p_value, **self.details}
