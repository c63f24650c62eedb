"""`modelport batch`: score files or a database query with a registered version, resumably."""

from __future__ import annotations

import typer

from modelport.cli.output import console, print_json


def batch(
    ref: str = typer.Argument(..., help="NAME, NAME@ALIAS or NAME:VERSION."),
    input_uri: str = typer.Option(..., "--input", "-i",
                                  help="Parquet, CSV or JSON Lines: a path, a glob, a folder or an fsspec URL; "
                                       "or a SQLAlchemy database URL with --query."),
    output: str = typer.Option(..., "--output", "-o",
                               help="A folder (local or fsspec URL) for part files, or a SQLAlchemy URL for a table."),
    engine: str = typer.Option("local", "--engine", help="local or ray."),
    ray_address: str | None = typer.Option(None, "--ray-address", help="An existing Ray cluster (default: a local Ray)."),
    resume: bool = typer.Option(False, "--resume", help="Finish a job that stopped; a finished job is left as it is."),
    chunk_rows: int = typer.Option(100_000, "--chunk-rows", help="Rows per chunk: the unit of memory and of commit."),
    columns: list[str] | None = typer.Option(None, "--columns",
                                             help="Input columns fed to the model (default: the signature's). "
                                                  "Repeat, or separate with commas."),
    id_column: str | None = typer.Option(None, "--id-column", help="Copied to the output (default: `row`, the position)."),
    with_proba: bool = typer.Option(False, "--with-proba", help="Add a proba_<class> column per class."),
    query: str | None = typer.Option(None, "--query", help="SQL (or a table name) for a database input."),
    input_format: str | None = typer.Option(None, "--input-format", help="parquet, csv or jsonl (default: by name)."),
    output_format: str | None = typer.Option(None, "--output-format", help="parquet or csv (default: by name)."),
    table: str | None = typer.Option(None, "--table", help="Output table for a database output (default: predictions)."),
    workers: int | None = typer.Option(None, "--workers", help="Parallel workers (default: one per core)."),
    parallel: str = typer.Option("auto", "--parallel",
                                 help="auto, threads, or processes (auto: processes for models that hold the GIL)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Score every row of an input with a registered version; results, rejects and a summary go to the output.

    Example: modelport batch churn@champion --input 'data/*.parquet' --output scores/ --with-proba --resume
    """
    from modelport.batch import batch_score

    summary = batch_score(
        ref, input=input_uri, output=output, engine=engine, ray_address=ray_address, resume=resume,
        chunk_rows=chunk_rows, columns=_split(columns), id_column=id_column, with_proba=with_proba, query=query,
        input_format=input_format, output_format=output_format, table=table, workers=workers, parallel=parallel,
        progress=None,
    )
    if as_json:
        print_json(summary.to_dict())
        return
    console().print(
        f"scored [bold]{summary.rows_scored}[/] rows with {summary.model}:{summary.version}, "
        f"rejected {summary.rows_rejected}, in {summary.seconds:.1f}s ({summary.rows_per_second:,.0f} rows/s); "
        f"summary: {summary.summary_location}",
        highlight=False,
    )


def _split(columns: list[str] | None) -> list[str] | None:
    if not columns:
        return None
    return [name.strip() for value in columns for name in value.split(",") if name.strip()]
