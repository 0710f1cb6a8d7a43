"""`python -m search` runs the kensaku command line."""

from .cli import run

run()
