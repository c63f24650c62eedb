"""Rows/s of a batch job into PostgreSQL: COPY (the default) against plain INSERTs, in one run, alternating.

Run: python -m bench.batch.pg [--rows 500000] [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]
Each round writes into a fresh schema; the job's own seconds are compared (read, score, write, commit).
"""

from __future__ import annotations

import argparse
import uuid
from pathlib import Path
from typing import Any

from bench.batch import data
from bench.batch.run import WORK

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--url", default=DEFAULT_URL)
    options = parser.parse_args(argv)
    from modelport.foundation.settings import Settings

    settings = Settings.at(WORK / "home")
    data.register_models(WORK / "home")
    parquet = data.write_parquet(WORK / f"lr-{options.rows}.parquet", options.rows)
    results: dict[str, list[float]] = {"COPY": [], "INSERT": []}
    for _ in range(options.rounds):
        for way in results:
            results[way].append(_job(options.url, parquet, settings, copy=way == "COPY"))
    for way, speeds in results.items():
        print(f"{way:6s} {', '.join(f'{s:,.0f}' for s in speeds)} rows/s (best {max(speeds):,.0f})")


def _job(url: str, parquet: Path, settings: Any, *, copy: bool) -> float:
    import sqlalchemy as sa

    from modelport.batch import batch_score
    from modelport.batch.tables import TableSink, _records

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    original = TableSink._append
    if not copy:  # the INSERT path that other databases take
        TableSink._append = lambda self, conn, table, frame: conn.execute(  # type: ignore[method-assign]
            sa.insert(table), _records(frame)
        )
    try:
        output = f"{url}?options=-csearch_path%3D{schema}"
        summary = batch_score(
            "bench-lr", input=str(parquet), output=output, table="scores", workers=2, settings=settings, progress=False
        )
        return summary.rows_per_second
    finally:
        TableSink._append = original  # type: ignore[method-assign]
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


if __name__ == "__main__":
    main()
