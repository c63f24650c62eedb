"""The `modelport` command line (Typer), one module per command group."""
