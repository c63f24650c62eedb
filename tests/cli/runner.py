"""Run the `modelport` command in-process and capture what it printed (shared by the CLI tests)."""

from __future__ import annotations

import pytest

from modelport.cli.app import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Exit code, standard output and standard error of `modelport ARGS...`."""
    try:
        main(list(args))
        code = 0
    except SystemExit as done:
        code = int(done.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
