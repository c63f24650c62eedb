"""Progress of a batch job: a Rich bar on a terminal, plain log lines otherwise."""

from __future__ import annotations

import sys
from typing import Any, Protocol, TextIO

from modelport.foundation.clock import Clock, SystemClock

LOG_EVERY_SECONDS = 10.0


class Progress(Protocol):
    """Told about every committed chunk."""

    def advance(self, rows: int, rejected: int) -> None: ...

    def close(self) -> None: ...


def make_progress(
    mode: bool | Progress | None, total: int | None, *, stream: TextIO | None = None, clock: Clock | None = None
) -> Progress:
    """None shows a bar on a terminal and log lines elsewhere; False shows nothing; a Progress object is used as is."""
    if mode is not None and not isinstance(mode, bool):
        return mode
    stream = stream or sys.stderr
    if mode is False:
        return SilentProgress()
    if stream.isatty():
        return BarProgress(total, stream)
    return LogProgress(total, stream, clock or SystemClock())


class SilentProgress:
    def advance(self, rows: int, rejected: int) -> None:
        return None

    def close(self) -> None:
        return None


class LogProgress:
    """One line every LOG_EVERY_SECONDS (and a last one), for logs and CI."""

    def __init__(self, total: int | None, stream: TextIO, clock: Clock) -> None:
        self.total = total
        self.stream = stream
        self.clock = clock
        self.started = self.last = clock.monotonic()
        self.rows = self.rejected = 0

    def advance(self, rows: int, rejected: int) -> None:
        self.rows += rows
        self.rejected += rejected
        if self.clock.monotonic() - self.last >= LOG_EVERY_SECONDS:
            self._line()

    def close(self) -> None:
        self._line()

    def _line(self) -> None:
        self.last = self.clock.monotonic()
        elapsed = max(self.last - self.started, 1e-9)
        rate = self.rows / elapsed
        of = f"/{self.total}" if self.total else ""
        eta = f", eta {(self.total - self.rows) / rate:.0f}s" if self.total and rate > 0 else ""
        self.stream.write(f"batch: {self.rows}{of} rows, {self.rejected} rejected, {rate:,.0f} rows/s{eta}\n")
        self.stream.flush()


class BarProgress:
    """A Rich progress bar: rows, rows/s and time left."""

    def __init__(self, total: int | None, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._bar: Any = Progress(
            TextColumn("scoring"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("rows"),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            console=Console(file=stream),
            transient=False,
        )
        self._task = self._bar.add_task("scoring", total=total, rate="")
        self._bar.start()

    def advance(self, rows: int, rejected: int) -> None:
        self._bar.advance(self._task, rows)
        speed = self._bar.tasks[0].speed
        self._bar.update(self._task, rate=f"{speed:,.0f} rows/s" if speed else "")

    def close(self) -> None:
        self._bar.stop()
