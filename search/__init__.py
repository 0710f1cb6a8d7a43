"""kensaku: Japanese full-text search with SudachiPy and Whoosh.

The pipeline, one module a stage: documents (files to paragraphs) → analysis (Sudachi terms) →
index (Whoosh on disk) → query (parsing) → results (ranked hits, highlight) → cli.

    import search
    search.build_index("seeds", "index")
    for hit in search.search("ピラー2", "index").hits:
        print(hit.source, hit.line, hit.snippet)
"""

import sys as _sys


def _import_whoosh_without_urllib() -> None:
    """Import whoosh.compat without urllib.request (with http.client, email and more: ~35 ms of
    a cold `kensaku search`). Whoosh imports it only to re-export `urlretrieve`, which it never
    calls; it gets a stand-in that imports the real one if ever called. Nothing else sees the
    stand-in: it leaves sys.modules as soon as whoosh.compat has it."""
    if "urllib.request" in _sys.modules or "whoosh.compat" in _sys.modules:
        return
    import importlib
    import types

    def urlretrieve(*args, **kwargs):
        from urllib.request import urlretrieve as real

        return real(*args, **kwargs)

    stand_in = types.ModuleType("urllib.request")
    stand_in.urlretrieve = urlretrieve
    _sys.modules["urllib.request"] = stand_in
    try:
        importlib.import_module("whoosh.compat")
    finally:
        if _sys.modules.get("urllib.request") is stand_in:
            del _sys.modules["urllib.request"]


_import_whoosh_without_urllib()

from .errors import (DocumentsNotFound, IndexBusy, IndexDamaged, KensakuError, NotAnIndex,
                     QuerySyntaxError)
from .index import IndexSummary, build_index, ensure_index, update_index
from .results import Hit, Searcher, SearchResults, search

__all__ = [
    "DocumentsNotFound", "Hit", "IndexBusy", "IndexDamaged", "IndexSummary", "KensakuError",
    "NotAnIndex", "QuerySyntaxError", "SearchResults", "Searcher", "build_index", "ensure_index",
    "search", "update_index",
]
