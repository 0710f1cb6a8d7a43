"""`python -m search` runs the kensaku command line."""

from search.cli.main import run

run()
