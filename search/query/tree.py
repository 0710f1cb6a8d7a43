"""The query tree: what a query means, as plain frozen data that the parser makes and the
planner reads (search.query.parser, search.query.plan).

A keyword query is a tree of `And`, `Or` and `Not` over `Phrase`s (text to find as a run of terms,
at every granularity) and `SourceFilter`s; a natural-language question is a `Question`, any of
whose words may match.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from search.text.analysis import fold, to_katakana

_KANA_RUN = re.compile(r"[ぁ-ゖァ-ヺー]+")


@dataclass(frozen=True)
class Phrase:
    """Text to find as a run of terms, at every granularity."""

    text: str
    words: tuple[str, ...]
    subwords: tuple[str, ...]
    alternatives: tuple[Phrase, ...] = field(default=(), compare=False)
    substring: bool = field(default=True, compare=False)  # also match as a substring (grams)
    # How far apart neighbouring terms may stand: 2 where the query had punctuation between them,
    # which leaves a gap of one position in the index too.
    slop: int = 1

    @property
    def folded(self) -> str:
        return fold(self.text)

    @property
    def kana(self) -> str | None:
        """The text in katakana when it is all kana, for matching readings."""
        return to_katakana(self.text) if _KANA_RUN.fullmatch(self.text) else None


@dataclass(frozen=True)
class SourceFilter:
    pattern: str


@dataclass(frozen=True)
class And:
    """Every child matches."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """Any child matches."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """The child does not match (within what the rest of an And matches)."""

    child: Node


@dataclass(frozen=True)
class Question:
    """Any of these words, ranked by BM25 alone."""

    words: tuple[Phrase, ...]
    # Counters after a number, looked up as whole words only, not as sub-words or title words:
    # in 1945年8月14日 the numbers say which date, and 年, 月 and 日 stand in a third of all
    # paragraphs (three posting lists each, a third of a long question's time).
    counters: frozenset[str] = frozenset()


Node = Phrase | SourceFilter | And | Or | Not | Question
Synonyms = Callable[[Phrase], "list[Phrase]"]


def phrases(node: Node) -> Iterator[Phrase]:
    """The phrases a matching paragraph contains (those under NOT are left out)."""
    if isinstance(node, Phrase):
        yield node
        yield from node.alternatives
    elif isinstance(node, (And, Or)):
        for child in node.children:
            yield from phrases(child)
    elif isinstance(node, Question):
        yield from node.words
