"""`python -m modelport.cli` runs the command line."""

from modelport.cli.app import main

main()
