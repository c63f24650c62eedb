"""What a batch job is (its identity, for resuming) and what scoring one chunk produces."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson
import pandas as pd


@dataclass(frozen=True)
class JobSpec:
    """The choices that define a job: the same spec on the same output is the same job."""

    ref: str
    input: str
    output: str
    query: str | None = None
    input_format: str | None = None
    output_format: str | None = None
    table: str | None = None
    chunk_rows: int = 100_000
    columns: tuple[str, ...] | None = None
    id_column: str | None = None
    with_proba: bool = False

    @property
    def job_id(self) -> str:
        """A short digest of the spec: a re-run of the same command finds its own journal."""
        encoded = orjson.dumps(asdict(self), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(encoded).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "job_id": self.job_id}


@dataclass(frozen=True)
class ChunkStats:
    """The journal entry of one committed chunk."""

    index: int
    rows: int
    scored: int
    rejected: int

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChunkStats:
        return cls(int(data["index"]), int(data["rows"]), int(data["scored"]), int(data["rejected"]))


@dataclass
class ScoredChunk:
    """One chunk's output rows and rejected rows, ready to commit together."""

    stats: ChunkStats
    output: pd.DataFrame
    rejects: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(frozen=True)
class JobState:
    """What the output already holds for a job: the pinned version and the committed chunks."""

    version: int | None
    done: dict[int, ChunkStats]
