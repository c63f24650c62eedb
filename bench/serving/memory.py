"""Resident memory of `modelport serve` with 10 models, at 1 and at 4 workers (parent + workers, summed).

Run: .venv/bin/python bench/serving/memory.py [EXISTING_HOME [1|spawn|prefork ...]]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import free_port, stop


def register_models(home: Path, count: int = 10) -> None:
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier

    from modelport.foundation.settings import Settings
    from modelport.registry.service import Registry

    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    registry = Registry.open(Settings.at(home))
    for i in range(count):
        model = RandomForestClassifier(n_estimators=100, max_depth=12, random_state=i).fit(x, y)
        registry.register(model, name=f"model-{i}", input_example=x.head(3))
    registry.close()


def tree_rss_mib(pid: int) -> float:
    """RSS of a process and all its descendants, in MiB (proportional set size when available)."""
    total = 0.0
    for proc in [pid, *descendants(pid)]:
        total += pss_kib(proc) / 1024
    return total


def pss_kib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return float(line.split()[1])
    except OSError:
        pass
    return 0.0


def descendants(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int(Path(entry, "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if parent == pid:
                found += [int(entry.name), *descendants(int(entry.name))]
    return found


def measure(home: Path, workers: int, extra: list[str]) -> float:
    port = free_port()
    env = {**os.environ, "MODELPORT_HOME": str(home)}
    command = [sys.executable, "-c", "from modelport.cli.app import main; main()", "serve", "--port", str(port),
               "--no-auth", "--workers", str(workers), *extra]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ready = 0
        deadline = time.monotonic() + 600
        while ready < 3 * workers and time.monotonic() < deadline:  # several 200s: every worker answered
            try:
                ok = httpx.get(f"http://127.0.0.1:{port}/v2/health/ready", timeout=2).status_code == 200
            except httpx.HTTPError:
                ok = False
            ready = ready + 1 if ok else 0
            time.sleep(0.5)
        time.sleep(3)
        return tree_rss_mib(process.pid)
    finally:
        stop(process)


def main() -> None:
    home = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="modelport-memory-"))
    if not (home / "modelport.db").exists():
        register_models(home)
    only = sys.argv[2:] or ["1", "spawn", "prefork"]
    runs = {"1": (1, []), "spawn": (4, ["--no-prefork"]), "prefork": (4, ["--prefork"])}
    for workers, extra in (runs[name] for name in only):
        label = f"workers={workers} {' '.join(extra)}".strip()
        print(f"{label}: {measure(home, workers, extra):.0f} MiB (PSS, parent + workers)", flush=True)


if __name__ == "__main__":
    main()
