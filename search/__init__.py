"""kensaku: Japanese full-text search with SudachiPy, on an index kept in Whoosh's files.

The stages, each a subpackage, a search or a build flowing down them:

    text/      analysis (Sudachi's terms, folding), sentences, word bounds, synonym groups
    ingest/    discovery (which files), readers/ (a format each), paragraphs (cited blocks)
    index/     schema, codec/ (terms, postings, stored text), writer, manifest, generations,
               changes, opening, build, shards and sharding (a sharded index)
    engine/    postings read, the collection's figures, BM25F scores, matching the planned query
    query/     tree, parser (→ ParsedQuery), synonyms, plan
    ranking/   a shard's stages, the coordinator over shards (→ Ranked), rerank
    results/   hits (the JSON contract), highlight and snippets
    cluster/   shards built and searched on Ray (the `cluster` extra)
    service/   Searcher, collections, indexing, the live index a server follows, refresh, status
    cli/, server/   the `kensaku` command and the page and HTTP API, thin over service/
    mcp/       the index served to AI assistants (`kensaku mcp`), beside server/

A paragraph's way in: file → ingest (blocks → Paragraphs) → text (terms) → index (segments,
a new generation, the manifest swapped). A query's way out: string → query (ParsedQuery, plan)
→ ranking over engine over index → results (hits, snippets). A layer imports only the layers
below it (the import-linter contract in pyproject.toml). Whoosh keeps the storage, the table of
contents, the stored fields and columns and the term index; kensaku writes and reads its own
postings (index.codec).

    import search
    search.build_index("seeds", "index")
    for hit in search.search("ピラー2", "index").hits:
        print(hit.source, hit.line, hit.snippet)
    search.search("ピラー2 format:pdf after:2024", "index", sort="date", facets=True).facets
"""

# Before anything imports Whoosh (see lean_whoosh).
import search.lean_whoosh as _lean_whoosh  # noqa: F401  (first: see lean_whoosh)
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
from search.query.filters import Filters
from search.results.hits import Hit, SearchResults
from search.service.indexing import build_index, ensure_index, update_index
from search.service.searcher import Searcher, search

__all__ = [
    "DocumentsNotFound",
    "Filters",
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
