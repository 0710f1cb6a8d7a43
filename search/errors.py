"""Errors: what kensaku reports to its caller as a one-line message instead of a traceback.

Every error a user can cause derives from KensakuError; the CLI prints `str(error)` and exits with
`error.exit_code` (2 for bad input, as Click does for usage errors; 1 for everything else).
Misuse of the Python API (a limit that is not a positive whole number, a closed Searcher) raises
Python's own TypeError or ValueError instead, as the standard library does.
"""

from __future__ import annotations


class KensakuError(Exception):
    """An error whose message is meant for the user, on one line."""

    exit_code = 1


class QuerySyntaxError(KensakuError):
    """The query cannot be parsed or has nothing to search for."""

    exit_code = 2


class DocumentsNotFound(KensakuError):
    """The documents directory does not exist or is not a directory."""

    exit_code = 2


class NotAnIndex(KensakuError):
    """The index directory holds something that is not a kensaku index."""

    exit_code = 2


class IndexNotFound(KensakuError):
    """There is no index in the index directory yet."""


class IndexDamaged(KensakuError):
    """The index exists but cannot be read; a rebuild repairs it."""


class IndexOutdated(IndexDamaged):
    """The index was built by another version of kensaku, from the documents in `docs_dir` chosen
    by `rules` (their JSON form; None when that version recorded none)."""

    def __init__(self, message: str, docs_dir: str, rules: dict | None = None) -> None:
        super().__init__(message)
        self.docs_dir = docs_dir
        self.rules = rules


class IndexBusy(KensakuError):
    """Another process is writing the index."""


class IndexWorkerDied(KensakuError):
    """A process indexing documents ended before it finished (killed: out of memory, a signal);
    the index is as it was."""
