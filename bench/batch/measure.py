"""Run one command and measure it: wall seconds and the peak memory of its whole process tree.

Two sums are kept. RSS counts every page a process maps, so pages several processes share (the libraries
of numpy, Arrow and scikit-learn, and Ray's shared object store) count once per process: summed over a
tree it overstates what a many-process job holds. PSS (proportional set size, from /proc/PID/smaps_rollup)
splits each shared page among the processes that map it, so its sum is the tree's real footprint.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil


@dataclass(frozen=True)
class Measured:
    """Wall time, peak memory (the tree's summed RSS and PSS, sampled every 50 ms) and what the command printed."""

    seconds: float
    peak_rss_mib: float
    stdout: str
    returncode: int
    peak_pss_mib: float = 0.0  # 0 where the kernel does not report PSS


def run(command: Sequence[str], *, env: Mapping[str, str], log: Path, timeout_s: float = 3600) -> Measured:
    """Run `command` to the end, sampling the RSS of it and every process it starts."""
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with log.open("wb") as errors:
        process = subprocess.Popen(list(command), stdout=subprocess.PIPE, stderr=errors, env=dict(env))
        root = psutil.Process(process.pid)
        peak = peak_pss = 0
        while process.poll() is None:
            rss, pss = _tree_memory(root)
            peak, peak_pss = max(peak, rss), max(peak_pss, pss)
            if time.perf_counter() - start > timeout_s:
                process.kill()
                break
            time.sleep(0.05)  # a sampling period, not a wait for a condition
        stdout = process.stdout.read().decode() if process.stdout else ""
        process.wait()
    return Measured(time.perf_counter() - start, peak / 2**20, stdout, process.returncode, peak_pss / 2**20)


def _tree_memory(root: psutil.Process) -> tuple[int, int]:
    """Summed RSS and PSS of `root` and every process under it (PSS 0 where it cannot be read)."""
    rss = pss = 0
    for pid in _tree(root.pid):
        try:  # a process may end between listing and reading
            proc = psutil.Process(pid)
            rss += proc.memory_info().rss
            pss += getattr(proc.memory_full_info(), "pss", 0)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return rss, pss


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants, from the kernel's per-thread `children` lists.

    psutil's `children(recursive=True)` reads the status of every process on the machine, 1.3 ms a call:
    20 times a second that took a few % of a core from the 2-core job being measured.
    """
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children") as listing:
                    todo.extend(int(child) for child in listing.read().split())
            except OSError:
                continue
    return found
