"""Settings, read from the environment only when `Settings.from_env` is called."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Where modelport keeps its database and artifacts."""

    home: Path
    db_url: str
    artifacts_url: str
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `env` (default: the process environment)."""
        env = os.environ if env is None else env
        home = Path(env.get("MODELPORT_HOME") or Path.home() / ".modelport").expanduser()
        db_url = env.get("MODELPORT_DB_URL") or f"sqlite:///{home / 'modelport.db'}"
        artifacts = env.get("MODELPORT_ARTIFACTS") or str(home / "artifacts")
        return cls(home=home, db_url=db_url, artifacts_url=artifacts)

    @classmethod
    def at(cls, home: Path | str) -> Settings:
        """Settings with everything under one folder (handy for tests and scripts)."""
        return cls.from_env({"MODELPORT_HOME": str(home)})
