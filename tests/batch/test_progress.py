"""Progress: a Rich bar on a terminal, a log line every 10 s elsewhere, nothing when turned off."""

from __future__ import annotations

import io

from modelport.batch.progress import BarProgress, LogProgress, SilentProgress, make_progress
from modelport.foundation.clock import ManualClock


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_log_lines_come_every_ten_seconds_and_at_the_end() -> None:
    clock, stream = ManualClock(), io.StringIO()
    progress = make_progress(None, 1000, stream=stream, clock=clock)
    assert isinstance(progress, LogProgress)
    progress.advance(100, 1)
    assert stream.getvalue() == ""
    clock.advance(10)
    progress.advance(100, 0)
    clock.advance(5)
    progress.close()
    assert stream.getvalue().splitlines() == [
        "batch: 200/1000 rows, 1 rejected, 20 rows/s, eta 40s",
        "batch: 200/1000 rows, 1 rejected, 13 rows/s, eta 60s",
    ]


def test_a_terminal_gets_a_bar_and_false_gets_silence() -> None:
    terminal = _Terminal()
    bar = make_progress(None, 500, stream=terminal)
    assert isinstance(bar, BarProgress)
    bar.advance(250, 0)
    bar.close()
    assert "250/500" in terminal.getvalue()
    assert isinstance(make_progress(False, 500, stream=terminal), SilentProgress)
    custom = SilentProgress()
    assert make_progress(custom, None) is custom
