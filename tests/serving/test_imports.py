"""Importing the serving and HTTP modules stays cheap and leaves prometheus_client alone."""

from __future__ import annotations

import subprocess
import sys


def test_prometheus_is_not_imported_before_a_metrics_object_is_built() -> None:
    code = ("import sys, modelport.http.app, modelport.serving.dataplane, modelport.http.server; "
            "print('prometheus_client' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # multiprocess mode is fixed when prometheus_client is first imported: that must come after
    # the server has set PROMETHEUS_MULTIPROC_DIR
    assert done.stdout.strip() == "False"
