"""`python -m checkd` runs the CLI."""

from checkd.cli import main

main()
