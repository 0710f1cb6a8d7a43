"""kensaku: Japanese full-text search with SudachiPy, on an index kept in Whoosh's files.

A paragraph's way in (the build side):
    file → discovery, readers/ → blocks → documents → paragraphs → analysis, schema → terms
         → engine.builder → engine.format → postings on disk → index (generations, manifest)
A query's way out (the query side):
    string → parser → tree (query) → plan → engine (postings, bm25, matching) → scores
           → ranking, rerank → searcher → hits (results) → highlight → snippets
Whoosh keeps the storage, the table of contents, the stored fields and columns and the term
index; kensaku's engine (search.engine) writes and reads the postings itself. The command line
(cli) and the server (server) are thin layers over `Searcher` and `build_index`.

    import search
    search.build_index("seeds", "index")
    for hit in search.search("ピラー2", "index").hits:
        print(hit.source, hit.line, hit.snippet)
"""

# Before anything imports Whoosh (see lean_whoosh).
import search.lean_whoosh
from search.errors import (
    DocumentsNotFound,
    IndexBusy,
    IndexDamaged,
    IndexNotFound,
    KensakuError,
    NotAnIndex,
    QuerySyntaxError,
)
from search.index.build import IndexSummary
from search.results.hits import Hit, SearchResults
from search.service.indexing import build_index, ensure_index, update_index
from search.service.searcher import Searcher, search

__all__ = [
    "DocumentsNotFound",
    "Hit",
    "IndexBusy",
    "IndexDamaged",
    "IndexNotFound",
    "IndexSummary",
    "KensakuError",
    "NotAnIndex",
    "QuerySyntaxError",
    "SearchResults",
    "Searcher",
    "build_index",
    "ensure_index",
    "search",
    "update_index",
]
