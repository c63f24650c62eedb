"""Run one command and measure it: wall seconds and the peak RSS of its whole process tree."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil


@dataclass(frozen=True)
class Measured:
    """Wall time, peak memory (the tree's summed RSS, sampled every 50 ms) and what the command printed."""

    seconds: float
    peak_rss_mib: float
    stdout: str
    returncode: int


def run(command: Sequence[str], *, env: Mapping[str, str], log: Path, timeout_s: float = 3600) -> Measured:
    """Run `command` to the end, sampling the RSS of it and every process it starts."""
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with log.open("wb") as errors:
        process = subprocess.Popen(list(command), stdout=subprocess.PIPE, stderr=errors, env=dict(env))
        root = psutil.Process(process.pid)
        peak = 0
        while process.poll() is None:
            peak = max(peak, _tree_rss(root))
            if time.perf_counter() - start > timeout_s:
                process.kill()
                break
            time.sleep(0.05)  # a sampling period, not a wait for a condition
        stdout = process.stdout.read().decode() if process.stdout else ""
        process.wait()
    return Measured(time.perf_counter() - start, peak / 2**20, stdout, process.returncode)


def _tree_rss(root: psutil.Process) -> int:
    total = 0
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for proc in processes:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total
