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

import importlib as _importlib
import sys as _sys
import types as _types

# Modules Whoosh imports for a few functions kensaku never calls, with those functions: together
# ~48 ms of a cold `kensaku search` (urllib.request pulls in http.client, email and more;
# whoosh.lang.morph_en compiles a large table of English word endings; whoosh.lang.porter and
# dmetaphone are English stemming and phonetics; whoosh.util.times, for date fields, imports
# calendar and locale).
_UNUSED_BY_WHOOSH = {
    "urllib.request": ("urlretrieve",),
    "whoosh.lang.morph_en": ("variations",),
    "whoosh.lang.porter": ("stem",),
    "whoosh.lang.dmetaphone": ("double_metaphone",),
    "whoosh.util.times": ("datetime_to_long", "long_to_datetime"),
}


def _import_whoosh_lean() -> None:
    """Import Whoosh with stand-ins for `_UNUSED_BY_WHOOSH`, each of whose functions imports the
    real module if ever called. A stand-in leaves sys.modules as soon as Whoosh has taken the
    function from it, and a later import gets the real module; another thread that imports the
    module meanwhile gets the attributes of a private copy of the real one."""
    if "whoosh.query" in _sys.modules:
        return
    stand_ins = {
        module: _stand_in(module, functions)
        for module, functions in _UNUSED_BY_WHOOSH.items()
        if module not in _sys.modules
    }
    _sys.modules.update(stand_ins)
    try:
        _importlib.import_module("whoosh.query")
    finally:
        for module, stand_in in stand_ins.items():
            if _sys.modules.get(module) is stand_in:
                del _sys.modules[module]


def _stand_in(module: str, functions: tuple[str, ...]) -> _types.ModuleType:
    def calling_the_real_one(function: str):
        def call_the_real_one(*args, **kwargs):
            return getattr(_importlib.import_module(module), function)(*args, **kwargs)

        return call_the_real_one

    copies: list[_types.ModuleType] = []

    def attribute_of_the_real_one(name: str):
        if name == "__path__":
            # The import system's probe (`from m import f` asks whether m is a package) is not
            # a use of the module: answering it from the real one would load it after all.
            raise AttributeError(name)
        if not copies:
            copies.append(_private_copy(module))
        return getattr(copies[0], name)

    stand_in = _types.ModuleType(module)
    for function in functions:
        setattr(stand_in, function, calling_the_real_one(function))
    stand_in.__getattr__ = attribute_of_the_real_one  # PEP 562: for any other attribute
    return stand_in


def _private_copy(module: str) -> _types.ModuleType:
    """The real `module`, loaded apart from sys.modules (where its stand-in is)."""
    import importlib.machinery
    import importlib.util

    parent = _importlib.import_module(module.rpartition(".")[0])
    spec = importlib.machinery.PathFinder.find_spec(module, parent.__path__)
    copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copy)
    return copy


_import_whoosh_lean()

from search.errors import (
    DocumentsNotFound,
    IndexBusy,
    IndexDamaged,
    IndexNotFound,
    KensakuError,
    NotAnIndex,
    QuerySyntaxError,
)
from search.index.build import IndexSummary, build_index, ensure_index, update_index
from search.results.hits import Hit, SearchResults
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
