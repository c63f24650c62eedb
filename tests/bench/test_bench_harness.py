"""Smoke tests of the benchmark harness pieces: scripts render, results parse, the report renders. Nothing timed."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from bench.__main__ import other_commands, parse
from bench.common import report, wire, wrk
from bench.common.floor_app import CONSTANT, make_app
from bench.common.results import Outcome, Point, Run, load_runs
from bench.incumbents import profile, targets
from bench.incumbents import report as incumbents_report
from bench.incumbents.run import choose
from bench.incumbents.systems import SYSTEMS

ROW = [1.5, 2.0, 3.25]
WIRES = [wire.v2("cancer-lr"), wire.mlflow_inputs(), wire.bentoml(), wire.instances()]


@pytest.mark.parametrize("fmt", WIRES, ids=lambda f: f.name)
def test_lua_script_renders_every_body_and_the_path(fmt: wire.WireFormat, tmp_path: Path) -> None:
    bodies = fmt.bodies(np.array([ROW, [4.0, 5.0, 6.0]]))
    script = wrk.render_script(fmt, bodies, tmp_path / "out.json")
    assert script.count("[===[") == 2
    assert f'wrk.format("POST", "{fmt.path}"' in script
    assert str(tmp_path / "out.json") in script
    assert json.loads(bodies[0]) == json.loads(script.split("[===[")[1].split("]===]")[0])


def test_lua_script_refuses_no_bodies_and_a_bracket_terminator(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one request body"):
        wrk.render_script(wire.instances(), [], tmp_path / "o.json")
    with pytest.raises(ValueError, match="long-bracket terminator"):
        wrk.render_script(wire.instances(), [b'{"a": "]===]"}'], tmp_path / "o.json")


@pytest.mark.parametrize(("fmt", "answer"), [
    (wire.v2("m"), {"outputs": [{"name": "predict", "data": [1]}]}),
    (wire.mlflow_inputs(), {"predictions": [1]}),
    (wire.bentoml(), [1]),
    (wire.instances(), {"predictions": [1]}),
], ids=lambda x: getattr(x, "name", ""))
def test_each_wire_format_reads_the_label_back(fmt: wire.WireFormat, answer: Any) -> None:
    assert fmt.decode(answer) == [1]
    assert "[1.5,2.0,3.25]" in fmt.encode(ROW).decode()


def test_wrk_summary_parses_into_rates_milliseconds_and_errors() -> None:
    text = json.dumps({"requests": 500, "duration_us": 2_000_000, "bytes": 1, "connect": 1, "read": 2, "write": 0,
                       "status": 3, "timeout": 4, "p50_us": 1500.0, "p90_us": 2500.0, "p99_us": 9000.0,
                       "mean_us": 1800.0, "max_us": 12000.0})
    result = wrk.parse_summary(text)
    assert (result.rps, result.p50_ms, result.p99_ms, result.errors) == (250.0, 1.5, 9.0, 10)


def test_wrk_summary_refuses_a_broken_file() -> None:
    with pytest.raises(json.JSONDecodeError):
        wrk.parse_summary("not json")


def _point(system: str, model: str, c: int, repeat: int, rps: float, p50: float = 1.0, p99: float = 5.0) -> Point:
    return Point(system, model, c, repeat, rps, p50, p99, 0, int(rps * 4), 0.9, 100.0)


def _run(run_id: str = "20260101T000000Z", scale: float = 1.0) -> Run:
    run = Run(run_id=run_id, started="2026-01-01T00:00:00+00:00", finished="2026-01-01T00:20:00+00:00",
              command="python -m bench", machine={"nproc": 2, "cpu_model": "test CPU", "memory_gib": 24},
              versions={"main": {"modelport": "0.1.0"}}, settings={"concurrencies": [1, 16, 64], "repeats": 3,
                                                                    "seconds": 4, "warmup_s": 3, "wrk": "wrk 4"},
              inprocess={"lr": {"batched_rows_per_s": 50_000.0, "one_row_predict_us": 300.0},
                         "rf": {"batched_rows_per_s": 2_000.0, "one_row_predict_us": 20_000.0}})
    speed = {"modelport-best": 3000, "modelport-default": 2500, "mlflow": 300, "bentoml": 200, "bentoml-batching": 400,
             "mlserver": 250, "mlserver-batching": 500, "floor-bare": 1000, "floor-constant": 6000}
    for system in SYSTEMS:
        for model in (["lr", "rf"] if system.per_model else ["*"]):
            for c in (1, 16, 64):
                for r in range(3):
                    base = speed[system.key] * scale * (1 + 0.01 * r)
                    run.points.append(_point(system.key, model, c, r, base, p50=1000 / base, p99=10_000 / base))
            run.outcomes.append(Outcome(system.key, model, True, ready_s=1.0))
    run.outcomes.append(Outcome("mlflow", "lr", False, "RuntimeError: server exited with 1 | boom"))
    return run


def test_results_round_trip_and_medians(tmp_path: Path) -> None:
    run = _run()
    run.save(tmp_path)
    (loaded,) = load_runs(tmp_path)
    summary = loaded.summary("modelport-best", "lr", 64)
    assert summary is not None and summary.rps == pytest.approx(3030.0) and summary.repeats == 3
    assert loaded.summary("modelport-best", "lr", 32) is None
    assert loaded.outcome("floor-constant", "rf") == Outcome("floor-constant", "*", True, ready_s=1.0)


def test_targets_are_judged_within_the_run() -> None:
    verdicts = {v.target.split(" (")[0]: v.met for v in targets.judge(_run())}
    assert verdicts["lr: req/s at c=64 >= 3x best incumbent"] is True  # 3000 vs 500 * 1.01
    assert verdicts["rf: req/s at c=64 >= half the machine's limit"] is True  # 3030 >= min(6060, 2000) / 2
    assert verdicts["lr: p50 at c=1 within 1.3x the bare app"] is True


def test_targets_are_not_judged_without_measurements() -> None:
    empty = Run(run_id="x", started="now")
    empty.points.append(_point("modelport-best", "lr", 64, 0, 100.0))
    assert {v.met for v in targets.judge(empty)} == {None}


def test_report_renders_tables_targets_failures_noise_and_charts(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nold intro\n\n<!-- BEGIN drift (monitoring) -->\n## Drift\nkept\n"
                   "<!-- END drift (monitoring) -->\n")
    incumbents_report.write([_run("20260101T000000Z", 0.9), _run("20260102T000000Z")], doc)
    text = doc.read_text()
    assert "old intro" not in text and text.count("# Benchmarks") == 1
    assert "## Drift\nkept" in text
    assert "| modelport (best) | 64 | 3,030 |" in text and "| 0.30 | 100 |" in text
    assert "RuntimeError: server exited with 1 / boom" in text
    assert "req/s run 20260101T000000Z" in text and "+11%" in text
    assert (tmp_path / "img" / "incumbents-throughput.png").stat().st_size > 1000
    incumbents_report.write([_run()], doc)  # a second write replaces, never duplicates
    assert doc.read_text().count("## Incumbents") == 1 and "Only one run is saved so far" in doc.read_text()


def test_report_refuses_no_runs(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no serving run saved"):
        incumbents_report.write([], tmp_path / "b.md")


def test_sections_are_replaced_in_place_and_added_when_missing() -> None:
    text = report.replace_section("a\n", "x", "one", heading="## X")
    assert text == "a\n\n## X\n\n<!-- bench:x:start -->\none\n<!-- bench:x:end -->\n"
    assert report.replace_section(text, "x", "two").count("two") == 1
    assert "one" not in report.replace_section(text, "x", "two")


def test_pyspy_summary_shares_per_function() -> None:
    collapsed = "main (a.py:1);predict (m.py:10) 3\nmain (a.py:1);parse (p.py:5) 1\nbad line\n"
    text = profile.summarize(collapsed)
    assert "4 samples" in text and " 75.0%  predict (m.py)" in text and "100.0%  main (a.py)" in text
    assert profile.summarize("") == "no samples"


def test_systems_are_chosen_by_key_and_unknown_ones_refused() -> None:
    assert [s.key for s in choose(["floor-bare", "mlflow"])] == ["mlflow", "floor-bare"]
    with pytest.raises(SystemExit, match="unknown system"):
        choose(["nope"])
    with pytest.raises(SystemExit):
        parse(["--only", "nothing"])


def test_other_benchmarks_are_found_or_skipped() -> None:
    assert other_commands("nonexistent", full=False) == []
    batch = other_commands("batch", full=False)
    assert batch == [] or batch[0][-1] in ("--quick", "bench.batch")


def _call(app: Any, body: bytes) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app({"type": "http", "method": "POST"}, receive, send))
    return sent[0]["status"], sent[1]["body"]


def test_floor_app_predicts_and_the_constant_floor_answers_a_constant() -> None:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])
    assert _call(make_app(model), b'{"instances": [[0.1], [2.9]]}') == (200, b'{"predictions":[0,1]}')
    assert _call(make_app(None), b'{"instances": [[0.1]]}') == (200, CONSTANT)


def test_instruction_counts_are_read_per_thread_from_callgrinds_files(tmp_path: Path) -> None:
    from bench.monitoring.log_instructions import _thread_totals

    prefix = tmp_path / "on.callgrind"
    for number, total in [(1, 600_000), (4, 0), (12, 41_000)]:
        (tmp_path / f"on.callgrind-{number:02d}").write_text(
            f"# callgrind format\nversion: 1\ncmd: python\npart: 1\nthread: {number}\n\nevents: Ir\n"
            f"fn=(1) main\n0 {total}\n\nsummary: {total}\ntotals: {total}\n")
    (tmp_path / "on.callgrind").write_text("")  # the empty main file callgrind leaves beside the threads' files
    (tmp_path / "other.callgrind-01").write_text("thread: 1\ntotals: 5\n")  # another run's: not read
    assert _thread_totals(prefix) == {1: 600_000, 4: 0, 12: 41_000}
