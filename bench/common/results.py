"""The result schema: one JSON file per run, and the medians the report is built from."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent.parent / "results"


@dataclass(frozen=True)
class Point:
    """One wrk repetition against one server."""

    system: str
    model: str
    concurrency: int
    repeat: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    cpu_cores: float  # server tree CPU seconds / wall seconds
    rss_mb: float


@dataclass(frozen=True)
class Outcome:
    """How one system fared on one model: ok, or the exact reason it could not run."""

    system: str
    model: str
    ok: bool
    error: str = ""
    ready_s: float = 0.0


@dataclass(frozen=True)
class Summary:
    """The median of the repetitions of one (system, model, concurrency) point."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_cores: float
    rss_mb: float
    repeats: int
    rps_spread: float  # (max - min) / median of requests/s over the repetitions


@dataclass
class Run:
    """Everything one `python -m bench` serving run measured."""

    run_id: str
    started: str
    finished: str = ""
    command: str = ""
    machine: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, dict[str, str]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    inprocess: dict[str, dict[str, float]] = field(default_factory=dict)
    outcomes: list[Outcome] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)

    def save(self, folder: Path = RESULTS) -> Path:
        """Write `folder/incumbents-<run_id>.json`."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"incumbents-{self.run_id}.json"
        path.write_text(json.dumps(asdict(self), indent=1) + "\n")
        return path

    @classmethod
    def from_json(cls, text: str) -> Run:
        """A Run from its JSON file's text."""
        raw = json.loads(text)
        raw["outcomes"] = [Outcome(**o) for o in raw.get("outcomes", [])]
        raw["points"] = [Point(**p) for p in raw.get("points", [])]
        return cls(**raw)

    def summary(self, system: str, model: str, concurrency: int) -> Summary | None:
        """The median over repetitions, or None when the point was not measured."""
        found = [p for p in self.points if p.system == system and p.model == model and p.concurrency == concurrency]
        if not found:
            return None
        rps = [p.rps for p in found]
        mid = statistics.median(rps)
        return Summary(
            rps=mid, p50_ms=statistics.median(p.p50_ms for p in found),
            p99_ms=statistics.median(p.p99_ms for p in found), errors=sum(p.errors for p in found),
            cpu_cores=statistics.median(p.cpu_cores for p in found), rss_mb=max(p.rss_mb for p in found),
            repeats=len(found), rps_spread=(max(rps) - min(rps)) / mid if mid else 0.0)

    def outcome(self, system: str, model: str) -> Outcome | None:
        """How `system` fared on `model` (the constant floor is recorded under model '*')."""
        for item in self.outcomes:
            if item.system == system and item.model in (model, "*"):
                return item
        return None


def load_runs(folder: Path = RESULTS) -> list[Run]:
    """Every saved serving run, oldest first."""
    return [Run.from_json(p.read_text()) for p in sorted(folder.glob("incumbents-*.json"))]
