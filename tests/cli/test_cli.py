"""The command line, in-process through `main`, and once as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.runner import run


@pytest.fixture
def model_file(tmp_path: Path, iris_pipeline) -> Path:
    import skops.io as sio

    path = tmp_path / "iris.skops"
    sio.dump(iris_pipeline, path)
    return path


@pytest.fixture
def rows_csv(tmp_path: Path, iris) -> Path:
    x, _ = iris
    path = tmp_path / "rows.csv"
    x.head(4).to_csv(path, index=False)
    return path


def test_register_list_show_alias_json(home: Path, capsys, model_file: Path, rows_csv: Path) -> None:
    code, out, _ = run(capsys, "models", "register", str(model_file), "--name", "iris", "--alias", "champion",
                       "--input-example", str(rows_csv), "--metric", "acc=0.95", "--tag", "team=ml", "--json")
    assert code == 0
    registered = json.loads(out)
    assert (registered["name"], registered["version"], registered["metrics"]) == ("iris", 1, {"acc": 0.95})
    run(capsys, "models", "register", str(model_file), "--name", "iris", "--input-example", str(rows_csv))
    code, out, _ = run(capsys, "models", "list", "--json")
    assert json.loads(out)[0]["aliases"] == {"champion": 1} and json.loads(out)[0]["latest_version"] == 2
    code, out, _ = run(capsys, "models", "alias", "iris", "2", "champion", "--json")
    assert code == 0 and json.loads(out)["from_version"] == 1 and json.loads(out)["to_version"] == 2
    code, out, _ = run(capsys, "models", "show", "iris@champion", "--json")
    shown = json.loads(out)
    assert shown["version"] == 2 and shown["signature"]["inputs"]["columns"][0]["name"] == "sepal length (cm)"
    code, out, _ = run(capsys, "models", "history", "iris", "champion", "--json")
    assert [(m["from_version"], m["to_version"]) for m in json.loads(out)] == [(None, 1), (1, 2)]


def test_human_output_is_tables(home: Path, capsys, model_file: Path, rows_csv: Path) -> None:
    run(capsys, "models", "register", str(model_file), "--name", "iris", "--input-example", str(rows_csv))
    code, out, _ = run(capsys, "models", "list", "iris")
    assert code == 0 and "versions of iris" in out and "sklearn" in out
    code, out, _ = run(capsys, "models", "show", "iris:1")
    assert "sha256:" in out and "sepal length (cm)" in out


def test_predict_json_and_csv(home: Path, capsys, model_file: Path, rows_csv: Path, iris_pipeline, iris,
                              tmp_path: Path) -> None:
    x, _ = iris
    run(capsys, "models", "register", str(model_file), "--name", "iris", "--input-example", str(rows_csv))
    code, out, _ = run(capsys, "predict", "iris", "--input", str(rows_csv))
    assert code == 0 and json.loads(out)["predictions"] == iris_pipeline.predict(x.head(4)).tolist()
    target = tmp_path / "out.csv"
    code, _, _ = run(capsys, "predict", "iris:1", "--input", str(rows_csv), "--format", "csv", "--proba",
                     "--output", str(target))
    header = target.read_text().splitlines()[0]
    assert code == 0 and header == "prediction,proba_0,proba_1,proba_2"
    rows_json = tmp_path / "rows.json"
    rows_json.write_text(json.dumps({"instances": x.head(2).to_numpy().tolist()}))
    code, out, _ = run(capsys, "predict", "iris", "--input", str(rows_json))
    assert code == 0 and json.loads(out)["predictions"] == iris_pipeline.predict(x.head(2)).tolist()


def test_archive_and_delete(home: Path, capsys, model_file: Path) -> None:
    run(capsys, "models", "register", str(model_file), "--name", "iris", "--alias", "champion")
    run(capsys, "models", "register", str(model_file), "--name", "iris")
    code, out, _ = run(capsys, "models", "archive", "iris:2", "--json")
    assert code == 0 and json.loads(out)["status"] == "archived"
    code, _, err = run(capsys, "models", "delete", "iris:1", "--yes")
    assert code == 4 and "alias 'champion' points at it" in err
    code, out, _ = run(capsys, "models", "delete", "iris:2", "--yes", "--json")
    assert code == 0 and json.loads(out) == {"deleted": "iris:2"}


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["models", "show", "Bad Name"], 2, "invalid model name 'Bad Name'"),
        (["models", "show", "ghost"], 3, "model 'ghost' is not registered"),
        (["models", "show", "ghost:0"], 2, "invalid version '0'"),
        (["models", "alias", "ghost", "one", "champion"], 2, "invalid version 'one'"),
        (["models", "register", "/no/such/file", "--name", "x"], 2, "does not exist"),
        (["models", "register", "MODEL", "--name", "x", "--metric", "acc"], 2, "--metric 'acc': expected KEY=VALUE"),
        (["models", "register", "MODEL", "--name", "x", "--metric", "acc=high"], 2, "expected a number"),
        (["models", "register", "MODEL", "--name", "x", "--flavor", "keras"], 7, "unknown flavor 'keras'"),
        (["models", "register", "MODEL", "--name", "x", "--input-example", "/nope.csv"], 2, "does not exist"),
        (["predict", "ghost", "--input", "ROWS"], 3, "model 'ghost' is not registered"),
        (["predict", "ghost", "--input", "ROWS", "--format", "xml"], 2, "--format 'xml': use json or csv"),
        (["models", "delete", "x@champion", "--yes"], 2, "delete takes NAME or NAME:VERSION"),
    ],
)
def test_errors_are_one_line_with_an_exit_code(home: Path, capsys, model_file: Path, rows_csv: Path,
                                              args: list[str], code: int, message: str) -> None:
    args = [str(model_file) if a == "MODEL" else str(rows_csv) if a == "ROWS" else a for a in args]
    got, _, err = run(capsys, *args)
    assert got == code, err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_pickle_needs_trust_flag(home: Path, capsys, tmp_path: Path, iris_pipeline) -> None:
    import joblib

    path = tmp_path / "m.joblib"
    joblib.dump(iris_pipeline, path)
    code, _, err = run(capsys, "models", "register", str(path), "--name", "iris")
    assert code == 5 and "--trust-pickle" in err
    code, out, _ = run(capsys, "models", "register", str(path), "--name", "iris", "--trust-pickle", "--json")
    assert code == 0 and json.loads(out)["trusted"] is True


def test_prediction_input_that_breaks_the_signature(home: Path, capsys, model_file: Path, rows_csv: Path,
                                                    tmp_path: Path) -> None:
    run(capsys, "models", "register", str(model_file), "--name", "iris", "--input-example", str(rows_csv))
    bad = tmp_path / "bad.csv"
    bad.write_text(rows_csv.read_text().replace("5.1,", "wide,", 1))
    code, _, err = run(capsys, "predict", "iris", "--input", str(bad))
    assert code == 2 and "input 'sepal length (cm)': expected float64, got string (row 0)" in err


def test_debug_shows_the_traceback(home: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "modelport.cli", "--debug", "models", "show", "ghost"],
                          capture_output=True, text=True)
    assert done.returncode != 0 and "Traceback" in done.stderr and "NotFoundError" in done.stderr


def test_real_process_register_from_stdin_and_help(home: Path, model_file: Path) -> None:
    exe = [sys.executable, "-m", "modelport.cli"]
    with model_file.open("rb") as stdin:
        done = subprocess.run([*exe, "models", "register", "-", "--name", "piped", "--json"], stdin=stdin,
                              capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["flavor"] == "sklearn"
    for command in (["models", "register"], ["predict"], ["quickstart"], ["models", "alias"]):
        shown = subprocess.run([*exe, *command, "--help"], capture_output=True, text=True)
        assert shown.returncode == 0 and "Example:" in shown.stdout


@pytest.mark.slow
def test_quickstart_registers_two_versions_and_starts_a_canary(home: Path, capsys) -> None:
    code, out, _ = run(capsys, "quickstart", "--no-serve", "--json")
    done = json.loads(out)
    assert code == 0 and (done["model"], done["versions"], done["champion"]) == ("cancer", [1, 2], 1)
    assert done["canary"]["state"] == "running" and done["canary"]["traffic"] == {"2": 10.0, "1": 90.0}
    code, out, _ = run(capsys, "models", "show", "cancer@champion", "--json")
    assert json.loads(out)["version"] == 1
    # a second run reuses what the first set up instead of failing or registering again
    code, out, _ = run(capsys, "quickstart", "--no-serve", "--json")
    again = json.loads(out)
    assert code == 0 and again["versions"] == [1, 2] and again["canary"]["reused"] is True
    code, out, _ = run(capsys, "models", "list", "cancer", "--json")
    assert [v["version"] for v in json.loads(out)] == [1, 2]


@pytest.mark.slow
def test_quickstart_serves_and_its_curl_line_works(home: Path, tmp_path: Path) -> None:
    import os
    import shutil
    import signal
    import socket
    import time

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path / "quickstart.out"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "modelport.cli", "quickstart", "--port", str(port),
                                 "--no-traffic"], stdout=out, stderr=subprocess.STDOUT, env=os.environ.copy())
        try:
            deadline = time.monotonic() + 180
            while True:
                assert proc.poll() is None, log.read_text()
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/v2/health/ready").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "quickstart server not ready in 180 s"
                time.sleep(0.2)
            curl = next(line.strip() for line in log.read_text().splitlines() if line.strip().startswith("curl "))
            assert shutil.which("curl"), "curl is needed to run the printed line"
            answer = subprocess.run(["bash", "-c", curl], capture_output=True, text=True, timeout=30)
            body = json.loads(answer.stdout)
            assert body["predictions"] in ([0], [1]) and body["model_version"] in ("1", "2")
            assert len(body["prediction_ids"]) == 1
            status = subprocess.run([sys.executable, "-m", "modelport.cli", "rollout", "status", "cancer", "--json"],
                                    capture_output=True, text=True, timeout=60)
            assert json.loads(status.stdout)["strategy"] == "canary"
            dashboard = next(line.split()[1] for line in log.read_text().splitlines() if line.strip().endswith(
                "# the dashboard: versions, canary, drift, alerts"))
            page = httpx.get(dashboard)
            assert dashboard == f"http://127.0.0.1:{port}/ui/" and page.status_code == 200 and "app.js" in page.text
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=60)
    assert code == 0, log.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [(["models", "bogus"], "No such command 'bogus'"), (["models", "register", "x"], "Missing option '--name'"),
     (["predict", "iris"], "Missing option '--input'"),
     (["serve", "--no-auth", "--auto-rollout", "bandit"], "--auto-rollout 'bandit': use one of off, canary"),
     (["serve", "--no-auth", "--inline-predict-us", "-1"], "inline_predict_us must be >= 0")],
)
def test_usage_errors_are_short_with_exit_code_2(home: Path, capsys, args: list[str], message: str) -> None:
    code, _, err = run(capsys, *args)
    assert code == 2 and message in err and "Traceback" not in err


def test_signature_can_be_given_at_registration(home: Path, capsys, model_file: Path, tmp_path: Path) -> None:
    names = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
    signature = {"inputs": {"type": "columns", "columns": [{"name": n, "dtype": "float64", "nullable": True}
                                                           for n in names]}}
    path = tmp_path / "sig.json"
    path.write_text(json.dumps(signature))
    code, out, _ = run(capsys, "models", "register", str(model_file), "--name", "iris", "--signature", str(path),
                       "--json")
    assert code == 0 and all(c["nullable"] for c in json.loads(out)["signature"]["inputs"]["columns"])
    path.write_text(json.dumps({"inputs": {"type": "columns", "columns": [{"name": "a", "dtype": "complex"}]}}))
    code, _, err = run(capsys, "models", "register", str(model_file), "--name", "iris", "--signature", str(path))
    assert code == 2 and "invalid signature" in err
    path.write_text("[1, 2]")
    code, _, err = run(capsys, "models", "register", str(model_file), "--name", "iris", "--signature", str(path))
    assert code == 2 and "--signature: expected a JSON object" in err


def _leaf_commands(group, prefix):  # type: ignore[no-untyped-def]

    for name, command in getattr(group, "commands", {}).items():
        if hasattr(command, "commands"):
            yield from _leaf_commands(command, [*prefix, name])
        else:
            yield [*prefix, name], command


def test_every_command_has_help_with_an_example() -> None:
    import typer

    from modelport.cli.app import app

    missing = [" ".join(path) for path, command in _leaf_commands(typer.main.get_command(app), [])
               if "Example:" not in (command.help or "") and "Examples:" not in (command.help or "")]
    assert missing == []
