"""Scope: what a search keeps to and how it orders. A search's `Narrowing` (its filters, and
whether newest first) is the same for every shard; each shard makes it its own `Scope`, by its own
docnums, from its documents (search.engine.documents): which paragraphs the filters admit, and
each paragraph's document's day when the order is by date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from search.engine.documents import Documents
from search.query.filters import Filters


@dataclass(frozen=True)
class Narrowing:
    """What a search keeps to (`filters`: search.query.filters) and whether it orders its hits
    by their documents' date, newest first (`by_date`), rather than by relevance."""

    filters: Filters = field(default_factory=Filters)
    by_date: bool = False

    def __bool__(self) -> bool:
        return bool(self.filters) or self.by_date


@dataclass(frozen=True)
class Scope:
    """What a ranking keeps to and how it orders, on one open index: `allowed`, by docnum,
    whether a paragraph may match (a numpy boolean array; None: all may), and `days`, by docnum,
    its document's day (YYYYMMDD) when the ranking is by date, newest first (None: by
    relevance)."""

    allowed: Any = None
    days: Any = None

    @cached_property
    def _allowed_bytes(self) -> bytes:
        return self.allowed.tobytes()

    def admits(self, docnum: int) -> bool:
        return self.allowed is None or bool(self._allowed_bytes[docnum])

    def within(self, scores: dict[int, float]) -> dict[int, float]:
        """The scores of the paragraphs it allows."""
        if self.allowed is None:
            return scores
        allowed = self._allowed_bytes
        return {docnum: score for docnum, score in scores.items() if allowed[docnum]}


EVERYWHERE = Scope()


def scope_of(documents: Documents, narrowing: Narrowing) -> Scope:
    """The scope of a narrowing on the index whose documents are `documents`."""
    if not narrowing:
        return EVERYWHERE
    filters = narrowing.filters
    return Scope(
        documents.admitted(filters.admits, filters) if filters else None,
        documents.days_by_paragraph if narrowing.by_date else None,
    )
