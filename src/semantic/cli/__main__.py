"""`python -m semantic.cli`: the `semantic` command."""

from semantic.cli import main

main()
