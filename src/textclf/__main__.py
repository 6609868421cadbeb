"""`python -m textclf`: the same as the `textclf` command."""

from textclf.cli import main

main()
