"""kensaku: Japanese full-text search with SudachiPy and Whoosh.

The pipeline, one module a stage: documents (files to paragraphs) → analysis (Sudachi terms) →
index (Whoosh on disk) → query (parsing) → results (ranked hits, highlight) → cli.

    import search
    search.build_index("seeds", "index")
    for hit in search.search("ピラー2", "index").hits:
        print(hit.source, hit.line, hit.snippet)
"""

from .errors import (DocumentsNotFound, IndexBusy, IndexDamaged, KensakuError, NotAnIndex,
                     QuerySyntaxError)
from .index import IndexSummary, build_index, ensure_index, update_index
from .results import Hit, Searcher, SearchResults, search

__all__ = [
    "DocumentsNotFound", "Hit", "IndexBusy", "IndexDamaged", "IndexSummary", "KensakuError",
    "NotAnIndex", "QuerySyntaxError", "SearchResults", "Searcher", "build_index", "ensure_index",
    "search", "update_index",
]
