"""Server processes: started pinned to a CPU set in their own process group, measured as a tree, stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """One server under test: its whole process tree is pinned, measured and stopped together."""

    def __init__(self, command: Sequence[str], *, log: Path, cpus: Sequence[int] | None = None,
                 env: Mapping[str, str] | None = None, cwd: Path | None = None) -> None:
        self.command = list(command)
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        pinned = set(cpus) if cpus else None

        def setup() -> None:
            os.setsid()  # own process group: stop() reaches every worker it forks
            if pinned:
                os.sched_setaffinity(0, pinned)  # children inherit the CPU set

        with log.open("wb") as sink:
            self.proc = subprocess.Popen(self.command, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env={**os.environ, **(env or {})}, cwd=cwd, preexec_fn=setup)
        self.root = psutil.Process(self.proc.pid)

    def wait_ready(self, url: str, timeout_s: float = 180.0) -> float:
        """Seconds until GET `url` answers 200; raises with the log's tail if the server dies or never does."""
        start = time.monotonic()
        while time.monotonic() - start < timeout_s:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode} before it was ready: {self.tail()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as answer:
                    if answer.status == 200:
                        return time.monotonic() - start
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.25)
        raise RuntimeError(f"server not ready at {url} after {timeout_s:.0f}s: {self.tail()}")

    def tree(self) -> list[psutil.Process]:
        """The server and every process it started, alive now."""
        try:
            return [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def cpu_seconds(self) -> float:
        """User + system CPU seconds used so far by the live process tree."""
        total = 0.0
        for proc in self.tree():
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                continue
        return total

    def rss_mb(self) -> float:
        """Resident memory of the whole tree, in MiB."""
        total = 0
        for proc in self.tree():
            try:
                total += proc.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total / 2**20

    def tail(self, lines: int = 15) -> str:
        """The last lines the server printed."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM the process group, then SIGKILL what is left after `timeout_s`."""
        members = self.tree()
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            _, alive = psutil.wait_procs(members, timeout=timeout_s)
            if not alive:
                break
        self.proc.wait(timeout=timeout_s)
