"""CLI: the `kensaku` command, a thin layer over the library.

- `main`: the commands and their options;
- `output`: how results are printed, for a person or another program;
- `progress`: the progress line of a build;
- `terminal`: the width of text on a terminal and its control characters made visible.
"""
