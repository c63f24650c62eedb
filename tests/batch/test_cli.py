"""`modelport batch` on the command line, and the idempotent re-run a scheduler relies on."""

from __future__ import annotations

from pathlib import Path

import orjson
import pandas as pd
import pytest

from modelport.cli.app import main

from .batch_helpers import Models, iris_rows, read_output


@pytest.fixture
def env(models: Models, monkeypatch: pytest.MonkeyPatch) -> Models:
    monkeypatch.setenv("MODELPORT_HOME", str(models.settings.home))
    monkeypatch.delenv("MODELPORT_DB_URL", raising=False)
    monkeypatch.delenv("MODELPORT_ARTIFACTS", raising=False)
    return models


def _run(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as done:
        return int(done.code or 0)
    return 0


def test_batch_json_summary_and_output(env: Models, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    iris_rows(env.iris_x, 2).to_parquet(tmp_path / "in.parquet")
    code = _run(
        [
            "batch",
            "iris@champion",
            "--input",
            str(tmp_path / "*.parquet"),
            "--output",
            str(tmp_path / "out"),
            "--id-column",
            "customer",
            "--with-proba",
            "--chunk-rows",
            "100",
            "--json",
        ]
    )
    assert code == 0
    summary = orjson.loads(capsys.readouterr().out)
    assert (summary["rows_scored"], summary["chunks"], summary["version"]) == (300, 3, 1)
    out = read_output(tmp_path / "out")
    assert list(out.columns) == ["customer", "prediction", "proba_0", "proba_1", "proba_2", "model_version"]


def test_batch_columns_accepts_a_comma_list(env: Models, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    iris_rows(env.iris_x, 1).to_csv(tmp_path / "in.csv", index=False)
    names = ",".join(str(c) for c in env.iris_x.columns)
    assert (
        _run(["batch", "iris", "-i", str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.csv"), "--columns", names])
        == 0
    )
    assert "scored 150 rows with iris:1, rejected 0" in capsys.readouterr().out
    assert len(read_output(tmp_path / "out.csv", "csv")) == 150


def test_batch_errors_are_one_line_with_a_nonzero_exit(
    env: Models, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    iris_rows(env.iris_x, 1).drop(columns=["petal width (cm)"]).to_parquet(tmp_path / "in.parquet")
    code = _run(["batch", "iris", "--input", str(tmp_path / "in.parquet"), "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code != 0
    assert "input 'petal width (cm)': missing column in the input" in err and "Traceback" not in err
    assert (
        _run(
            [
                "batch",
                "iris",
                "--input",
                str(tmp_path / "in.parquet"),
                "--output",
                str(tmp_path / "o"),
                "--engine",
                "spark",
            ]
        )
        != 0
    )
    assert "engine 'spark': use local or ray" in capsys.readouterr().err


def test_a_cron_line_run_twice_is_idempotent(env: Models, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """What docs/batch.md tells cron users: a dated output and --resume; a second run adds nothing."""
    iris_rows(env.iris_x, 3).to_parquet(tmp_path / "in.parquet")
    line = [
        "batch",
        "iris@champion",
        "--input",
        str(tmp_path / "in.parquet"),
        "--output",
        str(tmp_path / "scores" / "2026-01-01"),
        "--resume",
        "--chunk-rows",
        "200",
        "--json",
    ]
    assert _run(line) == 0
    first = orjson.loads(capsys.readouterr().out)
    assert _run(line) == 0
    second = orjson.loads(capsys.readouterr().out)
    assert (first["rows_this_run"], second["rows_this_run"], second["rows_scored"]) == (450, 0, 450)
    out = read_output(tmp_path / "scores" / "2026-01-01")
    assert out["row"].tolist() == list(range(450))


def test_an_orchestrator_task_calling_the_api_is_idempotent(env: Models, tmp_path: Path) -> None:
    """The shape of the Airflow/Prefect task in docs/batch.md: retried, it never duplicates a row."""
    from modelport import batch_score

    def score_partition(day: str) -> dict[str, object]:
        summary = batch_score(
            "iris@champion",
            input=str(tmp_path / "landing" / day / "*.parquet"),
            output=str(tmp_path / "scores" / day),
            id_column="customer",
            resume=True,
            progress=False,
        )
        return summary.to_dict()

    (tmp_path / "landing" / "2026-01-02").mkdir(parents=True)
    iris_rows(env.iris_x, 2).to_parquet(tmp_path / "landing" / "2026-01-02" / "a.parquet")
    first, retried = score_partition("2026-01-02"), score_partition("2026-01-02")
    assert first["rows_scored"] == retried["rows_scored"] == 300 and retried["rows_this_run"] == 0
    assert pd.read_parquet(tmp_path / "scores" / "2026-01-02")["customer"].is_unique
