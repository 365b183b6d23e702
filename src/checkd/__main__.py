"""`python -m checkd` runs the CLI (`python -m checkd agent` the lean agent)."""

from checkd.launch import main

main()
