"""py-spy under load: where modelport (best settings) spends its time, as a text summary per model."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bench.common import wrk
from bench.common.procs import ServerProcess, free_port
from bench.common.results import RESULTS
from bench.incumbents.run import WORK
from bench.incumbents.runner import LoadPlan, check_answers
from bench.incumbents.systems import Context, modelport_best

TOP = 25
_LINE = re.compile(r":\d+\)$")  # one entry per function, not per line


def summarize(collapsed: str, top: int = TOP) -> str:
    """Self and inclusive sample shares per function from py-spy's collapsed stacks ("a;b;c N" lines)."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        frames = [_LINE.sub(")", f) for f in stack.split(";")]
        total += samples
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    if not total:
        return "no samples"
    lines = [f"{total} samples", "", f"top {top} by own time (function (file:line)):"]
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in own.most_common(top)]
    lines += ["", f"top {top} by inclusive time:"]
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in inclusive.most_common(top)]
    return "\n".join(lines)


def profile_model(model_name: str, plan: LoadPlan, seconds: float = 8.0, concurrency: int = 64) -> Path:
    """Record modelport-best serving `model_name` under wrk at `concurrency`; write the summary next to the runs."""
    from bench.incumbents.prepare import register_models, save_models

    pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    saved = save_models(WORK)
    register_models(WORK / "modelport-home", saved)
    model = saved[model_name]
    port = free_port()
    launch = modelport_best(model, port, Context(WORK, {}, WORK / "modelport-home"))
    server = ServerProcess(launch.command, log=WORK / "logs" / f"profile-{model_name}.log", cpus=plan.server_cpus,
                           env=launch.env, cwd=launch.cwd)
    raw = WORK / f"profile-{model_name}.txt"
    try:
        base = f"http://127.0.0.1:{port}"
        server.wait_ready(base + launch.ready_path)
        check_answers(base, launch, model)
        script, out = WORK / f"profile-{model_name}.lua", WORK / "profile-wrk.json"
        script.write_text(wrk.render_script(launch.wire, launch.wire.bodies(model.rows), out))
        load = threading.Thread(target=wrk.run, args=(base + launch.wire.path, script, out),
                                kwargs={"connections": concurrency, "seconds": seconds + 3, "cpus": plan.load_cpus})
        load.start()
        subprocess.run([pyspy, "record", "--pid", str(server.proc.pid), "--duration", f"{seconds:.0f}",
                        "--rate", "200", "--format", "raw", "--nonblocking", "--threads", "-o", str(raw)],
                       check=True, capture_output=True, timeout=seconds + 60)
        load.join()
    finally:
        server.stop()
    text = f"py-spy, modelport (best) serving {model_name} under wrk at c={concurrency}\n\n" + summarize(raw.read_text())
    out_path = RESULTS / f"profile-{model_name}.txt"
    RESULTS.mkdir(parents=True, exist_ok=True)
    out_path.write_text(text + "\n")
    return out_path


def profile_all(models: Sequence[str], plan: LoadPlan) -> list[Path]:
    """A profile summary per model."""
    return [profile_model(m, plan) for m in models]
