"""`python -m search` runs the kensaku command line."""

from .cli import main

main(prog_name="kensaku")
