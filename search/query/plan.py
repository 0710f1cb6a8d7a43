"""The planner: a query tree (search.query.tree) turned into the plan the engine runs, expressed as
a tree of Whoosh queries (search.engine.matching runs it; Whoosh's own matchers run what it does
not know, and the tests).

A phrase matches in four ways, ranked in tiers: as whole words, as sub-words, as a substring of the
folded text (character bigrams, so that anything `grep -F` finds is found), and, for a query in kana,
by reading. A substring that begins or ends with a Latin letter or a digit matches only where it
does not run on into more letters (digits) there, as a word would: AI does not find Air, 2 does
not find 2024, PAC finds PAC-3 and PAC3. Synonym expansions rank below every literal match. A run
of words (or sub-words) is looked up as the pairs of neighbours it holds when all of them are
common words (analysis.pairs), and scored by how often those pairs occur rather than by its words
one by one. A question is the OR of its words' terms, scored by BM25F.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

from whoosh import query as q

from search.engine.nodes import Bonus, Bounded, FoldedPattern
from search.index.schema import (
    CHARS,
    CONTEXT,
    GRAMS,
    PAIR_FIELD,
    READINGS,
    SOURCE,
    SUBWORDS,
    WORDS,
)
from search.query.tree import And, Node, Not, Or, Phrase, Question, SourceFilter
from search.text.analysis import bigrams, fold, pair, paired
from search.text.word_bounds import latin_class

WORD_BOOST = 2.0
# Added once per matching field of a phrase, so that whole words outrank sub-words, sub-words
# outrank mere substrings, and all of these outrank readings and synonyms, whatever BM25 says.
TIER_BONUS = {WORDS: 10_000.0, SUBWORDS: 1_000.0, GRAMS: 100.0}
GRAM_BOOST = 0.5
READING_BOOST = 0.5
EXPANSION_BOOST = 0.5
CONTEXT_BOOST = 0.5  # a question word in the document's title
Lexicon = Callable[[str, str], bool]  # (field, term) -> whether the index holds the term


def to_whoosh(node: Node, lexicon: Lexicon | None = None, tiers: dict[str, float] = TIER_BONUS):
    """The Whoosh query for a query tree; `lexicon` lets kana phrases match readings."""
    if isinstance(node, Phrase):
        return _phrase_query(node, lexicon, tiers=tiers)
    if isinstance(node, Question):
        return q.Or(
            [q.Term(field, term, boost=boost) for field, term, boost in question_terms(node)]
        )
    if isinstance(node, SourceFilter):
        return q.ConstantScoreQuery(FoldedPattern(SOURCE, source_regex(node.pattern)), 0.0)
    if isinstance(node, Or):
        return q.Or([to_whoosh(child, lexicon, tiers) for child in node.children])
    if isinstance(node, Not):
        return q.AndNot(q.Every(), to_whoosh(node.child, lexicon, tiers))
    wanted = [to_whoosh(c, lexicon, tiers) for c in node.children if not isinstance(c, Not)]
    unwanted = [to_whoosh(c.child, lexicon, tiers) for c in node.children if isinstance(c, Not)]
    positive = q.And(wanted) if wanted else q.Every()
    return q.AndNot(positive, q.Or(unwanted)) if unwanted else positive


def source_regex(pattern: str) -> str:
    """The regular expression a folded source must match whole for `source:PATTERN`, as
    .gitignore reads a pattern: one without `/` is a name at any depth (the path, or any part of
    it after a `/`, starts with it: 000067 finds aozora/000067_x.txt), one with `/` is the path
    from the documents folder (a leading `/` only says so). `*` stands for any characters and `?`
    for one; with neither, PATTERN is a prefix. Everything else is literal (〔〕, [], spaces)."""
    folded = fold(pattern)
    anchored = "/" in folded.rstrip("/")
    body = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char)
        for char in folded.lstrip("/")
    )
    if "*" not in folded and "?" not in folded:
        body += ".*"
    return body if anchored or folded.startswith("/") else f"(?:.*/)?{body}"


def keeps_source(node: Node | None, source: str) -> bool:
    """Whether the `source:` filters of a query's tree keep the document `source`, for a
    paragraph of the same text as one the query matched (its words match alike: only the
    filters may tell the two apart)."""
    return _source_verdict(node, fold(source)) is not False


def _source_verdict(node: Node | None, folded: str) -> bool | None:
    """A tree's verdict on a folded source: None where only the paragraph's words decide."""
    if isinstance(node, SourceFilter):
        return re.fullmatch(source_regex(node.pattern), folded) is not None
    if isinstance(node, Not):
        verdict = _source_verdict(node.child, folded)
        return None if verdict is None else not verdict
    if isinstance(node, Or):
        verdicts = [_source_verdict(child, folded) for child in node.children]
        return True if True in verdicts else None if None in verdicts else False
    if isinstance(node, And):
        verdicts = [_source_verdict(child, folded) for child in node.children]
        return False if False in verdicts else None if None in verdicts else True
    return None


def untiered(node: Node, lexicon: Lexicon | None = None):
    """The Whoosh query of a tree scored by BM25F alone, without tier bonuses."""
    return to_whoosh(node, lexicon, tiers={})


def _phrase_query(
    phrase: Phrase,
    lexicon: Lexicon | None,
    literal: bool = True,
    tiers: dict[str, float] = TIER_BONUS,
):
    tier = tiers if literal else {}
    boost = 1.0 if literal else EXPANSION_BOOST
    parts = [
        _tiered(_sequence(WORDS, phrase.words, WORD_BOOST * boost, phrase.slop), tier.get(WORDS)),
        _tiered(_sequence(SUBWORDS, phrase.subwords, boost, phrase.slop), tier.get(SUBWORDS)),
        _tiered(
            _bounded(_gram_query(phrase.folded, GRAM_BOOST * boost), phrase.folded.strip()),
            tier.get(GRAMS),
        ),
    ]
    reading = _reading_query(phrase.kana, lexicon) if phrase.kana and lexicon else None
    if reading is not None:
        parts.append(reading)
    for alternative in phrase.alternatives:
        parts.append(_phrase_query(alternative, lexicon, literal=False))
    return q.Or([part for part in parts if part is not None])


def question_terms(question: Question) -> list[tuple[str, str, float]]:  # bm25.WeightedTerm
    """The (field, term, boost) triples whose BM25F scores add up to a question's score: each
    content word as a word and as a word of the title, and each of its sub-words (a counter after
    a number only as a word)."""
    terms = []
    for word in question.words:
        if word.words[0] in question.counters:
            terms.append((WORDS, word.words[0], WORD_BOOST))
            continue
        terms += [(WORDS, word.words[0], WORD_BOOST), (CONTEXT, word.words[0], CONTEXT_BOOST)]
        terms += [(SUBWORDS, part, 1.0) for part in word.subwords]
    return terms


def in_title(phrase: Phrase):
    """The Whoosh query for the phrase's words in the document's title (the `context` field), or
    None for a phrase without words."""
    return _sequence(CONTEXT, phrase.words, CONTEXT_BOOST, phrase.slop)


def _sequence(field_name: str, terms: tuple[str, ...], boost: float, slop: int = 1):
    """`terms` side by side in a field (within `slop` positions); common words as a run of their
    pairs, scored by how often the pairs occur rather than the single words. None for no terms."""
    if not terms:
        return None
    if len(terms) == 1:
        return q.Term(field_name, terms[0], boost=boost)
    if slop == 1 and field_name in PAIR_FIELD and paired(terms):
        joined = tuple(pair(first, second) for first, second in itertools.pairwise(terms))
        return _sequence(PAIR_FIELD[field_name], joined, boost)
    return q.Phrase(field_name, list(terms), slop=slop, boost=boost)


def _gram_query(folded: str, boost: float):
    """The folded text as a run of bigrams; one character as itself (the chars field)."""
    folded = folded.strip()
    if not folded:
        return None
    if len(folded) == 1:
        return q.Term(CHARS, folded, boost=boost)
    return _sequence(GRAMS, tuple(bigrams(folded)), boost)


def _reading_query(kana: str, lexicon: Lexicon):
    """The kana as a run of readings the index holds (fewest readings first), or None."""
    pieces = fewest_known_pieces(kana, lambda piece: lexicon(READINGS, piece))
    if not pieces:
        return None
    return (
        _sequence(READINGS, tuple(pieces), READING_BOOST)
        if len(pieces) > 1
        else q.Term(READINGS, pieces[0], boost=READING_BOOST)
    )


def fewest_known_pieces(text: str, known: Callable[[str], bool]) -> list[str] | None:
    """`text` cut into the fewest pieces that are all `known`, or None when it cannot be."""
    best: list[list[str] | None] = [[]] + [None] * len(text)
    for end in range(1, len(text) + 1):
        for start in range(end):
            before, now = best[start], best[end]
            shorter = before is not None and (now is None or len(before) + 1 < len(now))
            if shorter and before is not None and known(text[start:end]):
                best[end] = [*before, text[start:end]]
    return best[len(text)]


def _bounded(query, folded: str):
    """The substring query kept to Latin word boundaries where `folded` needs them."""
    if query is None or not (latin_class(folded[0]) or latin_class(folded[-1])):
        return query
    return Bounded(query, folded)


def _tiered(query, bonus: float | None):
    if query is None or not bonus:
        return query
    return Bonus(query, bonus)
