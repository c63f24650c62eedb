"""Alert rules: a monitored value, a window, a threshold, a minimum sample, k-of-m persistence and a cool-down."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from modelport.foundation.errors import InvalidInputError
from modelport.foundation.names import validate_name
from modelport.monitoring.records import parse_window

SIGNALS = ("drift.dataset", "drift.share", "drift.max_score", "drift.prediction", "health.error_rate",
           "health.latency_p50", "health.latency_p95", "health.latency_p99", "health.requests",
           "performance.estimated_accuracy")
_PERFORMANCE = re.compile(r"^performance\.(accuracy|precision|recall|f1|roc_auc|log_loss|mae|rmse|r2)$")
_FEATURE = re.compile(r"^drift\.feature:.{1,128}$")
OPERATORS = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}
SEVERITIES = ("info", "warning", "critical")


@dataclass(frozen=True)
class AlertRule:
    """Fire when `signal op threshold` held in at least `k` of the last `m` windows with `min_samples` rows."""

    name: str
    model: str
    signal: str
    op: str
    threshold: float
    window: str = "1h"
    min_samples: int = 100
    k: int = 1
    m: int = 1
    cooldown: str = "1h"
    severity: str = "warning"
    retrain: bool = False  # a firing also asks for a retraining (monitoring/alerts/retrain.py)

    def __post_init__(self) -> None:
        validate_name(self.name, what="rule name")
        validate_name(self.model)
        if self.signal not in SIGNALS and not _PERFORMANCE.fullmatch(self.signal) and not _FEATURE.fullmatch(self.signal):
            raise InvalidInputError(f"rule {self.name!r}: unknown signal {self.signal!r}; use one of "
                                    f"{', '.join(SIGNALS)}, performance.<metric> or drift.feature:<name>", field="signal")
        if self.op not in OPERATORS:
            raise InvalidInputError(f"rule {self.name!r}: op must be one of {', '.join(OPERATORS)}", field="op")
        if not 1 <= self.k <= self.m <= 100:
            raise InvalidInputError(f"rule {self.name!r}: need 1 <= k <= m <= 100, got k={self.k}, m={self.m}", field="k")
        if self.severity not in SEVERITIES:
            raise InvalidInputError(f"rule {self.name!r}: severity must be one of {', '.join(SEVERITIES)}",
                                    field="severity")
        if not isinstance(self.retrain, bool):
            raise InvalidInputError(f"rule {self.name!r}: retrain must be true or false", field="retrain")
        if self.min_samples < 0:
            raise InvalidInputError(f"rule {self.name!r}: min_samples must be zero or more", field="min_samples")
        parse_window(self.window)
        parse_window(self.cooldown)

    def breached(self, value: float) -> bool:
        """Whether `value` crosses the threshold."""
        return bool(OPERATORS[self.op](value, self.threshold))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def rule_from_dict(data: Mapping[str, Any], *, model: str | None = None) -> AlertRule:
    """A rule from a mapping (a file entry or an API body); `model` fills in a missing model."""
    if not isinstance(data, Mapping):
        raise InvalidInputError("an alert rule must be a mapping of fields", field="rule")
    known = set(AlertRule.__dataclass_fields__)
    unknown = set(data) - known
    if unknown:
        raise InvalidInputError(f"alert rule: unknown fields {sorted(unknown)}; known: {sorted(known)}", field="rule")
    fields = {"model": model, **data} if model is not None else dict(data)
    try:
        fields["threshold"] = float(fields["threshold"])
        return AlertRule(**fields)
    except KeyError as exc:
        raise InvalidInputError(f"alert rule: missing field {exc.args[0]!r}", field=str(exc.args[0])) from exc
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"alert rule: {exc}", field="rule") from exc


def load_rules_file(path: Path) -> list[AlertRule]:
    """Rules from a TOML (`[[rules]]` tables) or JSON (`{"rules": [...]}`) file."""
    import tomllib  # Python 3.11+: TOML files need it, JSON files do not

    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInputError(f"alert rules file {path}: {exc}", field="rules") from exc
    entries = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise InvalidInputError(f"alert rules file {path}: expected a list under 'rules'", field="rules")
    return [rule_from_dict(entry) for entry in entries]


def default_rules(model: str, *, registered_metrics: Mapping[str, float] | None = None) -> list[AlertRule]:
    """Rules that warn on data drift and alert on a real drop of performance or a burst of errors.

    Drift warns (severity warning, 2 of the last 3 hourly windows, one message a day at most): inputs
    drift harmlessly all the time. Performance alerts (critical) when realized or estimated accuracy
    falls 5 points under the accuracy registered with the version.
    """
    rules = [
        AlertRule("data-drift", model, "drift.dataset", ">=", 1.0, window="1h", min_samples=200, k=2, m=3,
                  cooldown="1d", severity="warning"),
        AlertRule("error-rate", model, "health.error_rate", ">", 0.05, window="15m", min_samples=50, k=2, m=3,
                  cooldown="1h", severity="critical"),
    ]
    accuracy = (registered_metrics or {}).get("accuracy")
    if accuracy is not None:
        floor = float(accuracy) - 0.05
        rules.append(AlertRule("accuracy-drop", model, "performance.accuracy", "<", floor, window="1d",
                               min_samples=200, k=1, m=1, cooldown="6h", severity="critical"))
        rules.append(AlertRule("estimated-accuracy-drop", model, "performance.estimated_accuracy", "<", floor,
                               window="1h", min_samples=200, k=2, m=3, cooldown="6h", severity="critical"))
    return rules
