"""Reranking: reorder BM25's best paragraphs for a question or keywords by how well each answers.

BM25 scores the query's words one by one, and its length normalisation favours short paragraphs,
so a short paragraph with one rare word (a heading, a navigation line, the article's title) can
beat the paragraph that answers. An answer paragraph holds most of the query's words, rare ones
above all, in one sentence and close together; a word may also stand in the document's title
instead (a paragraph of the article ラオス need not say ラオス); and the paragraph that defines the
thing asked about (「日米2プラス2」とは、…) answers 日米2プラス2とは何か？. `combine` multiplies
BM25's share of the best score by those signals, with weights of its own for questions
(`QUESTION`) and for keywords (`KEYWORDS`). A question asking only what a term is (ルビとは) puts
the paragraphs defining it first, then those naming it (search.ranking.definitions).

Whatever the weights, a paragraph holding none of the query's words (lifted by its document's
title alone) never ranks above one holding some (`rerank`). Keyword queries keep their tiers and
their soft AND (`rank_keywords`): the reranking orders paragraphs only among those matching in the
same way.

The weights were fitted (bench/fit_rerank.py) on questions of JSQuAD and JaQuAD, and keyword queries
derived from them, kept apart from the samples docs/benchmarks.md reports (bench/evaluate.py);
see its "Relevance".
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from search.ranking.definitions import defines, standing
from search.text.analysis import bigrams, fold
from search.text.sentences import has_sentence_end, split_sentences

NEAR_CHARS = 12  # two question words this close in a paragraph count as used together
HEADING_CHARS = 40  # a paragraph this short without a sentence end is a heading
# A citation: a quoted title, after a short source and date at most (47 NEWS『…』。,
# ウィキニュース、2005年11月14日"…"。), or a source and its date (朝日新聞社、2010年3月27日。).
_CITATION = re.compile(
    r'^[^『"“]{0,40}[『"“][^『』"“”]{1,120}[』"”][。.]?$'
    r"|^[^。]{1,40}、\s*\d{4}年\d{1,2}月\d{1,2}日\s*(?:[（(][^）)]{0,20}[）)])?[。.]?$"
)
# Bigrams with kana or punctuation say little about what a question asks.
_WEAK_BIGRAM = re.compile(r"[\u3040-\u309f、。？！?!「」・（）()\s]")
# What a 「XとはYか」 question asks to define: X, before とは or って at the start.
_DEFINITION_ASKED = re.compile(r"^\s*[「『]?(.{2,40}?)[」』]?\s*(?:とは|って)")


@dataclass(frozen=True)
class QuestionWord:
    """A content word of the question: the ways a paragraph may spell it, and its weight (IDF)."""

    spellings: frozenset[str]
    weight: float


@dataclass(frozen=True)
class Asked:
    """What the reranker knows about a question (or keywords)."""

    words: tuple[QuestionWord, ...]
    bigrams: frozenset[str]
    # The spellings of what a 「XとはYか」 question asks to define (X), if it is one; for keywords,
    # any of the words.
    defined: tuple[frozenset[str], ...] = ()

    @property
    def total_weight(self) -> float:
        return sum(word.weight for word in self.words) or 1.0


def asked(
    question: str,
    words: Iterable[tuple[str, str]],
    doc_frequency: Callable[[str], int],
    doc_count: int,
    keywords: bool = False,
) -> Asked:
    """The question's words as (surface, normalized form) pairs, weighted by their rarity in the
    index (`doc_frequency` of the normalized form), its character bigrams without kana or
    punctuation, and what it asks to define. `keywords`: the words are a keyword query's, any of
    which a paragraph may define."""
    weighted = tuple(
        QuestionWord(
            frozenset({fold(surface), normalized}), idf(doc_frequency(normalized), doc_count)
        )
        for surface, normalized in words
    )
    folded = fold(question)
    strong = frozenset(bigram for bigram in bigrams(folded) if not _WEAK_BIGRAM.search(bigram))
    if keywords:
        defined = tuple(word.spellings for word in weighted)
    else:
        asking = _DEFINITION_ASKED.match(folded)
        defined = (frozenset({asking.group(1)}),) if asking else ()
    return Asked(weighted, strong, defined)


def idf(doc_frequency: int, doc_count: int) -> float:
    """How rare a word is (BM25's idf): what it weighs in the share of a query a paragraph holds."""
    return math.log(1 + (doc_count - doc_frequency + 0.5) / (doc_frequency + 0.5))


@dataclass(frozen=True)
class Signals:
    """How a paragraph answers a question, each in [0, 1] (`heading` 0 or 1)."""

    share: float  # BM25F's score over the best one's
    covered: float  # weighted share of the words in the paragraph or its title
    plain: float  # unweighted share of the words in the paragraph itself
    sentence: float  # `covered` for the best sentence (title words count in every sentence)
    sentence_bigrams: float  # share of the question's bigrams in the best sentence for them
    bigrams: float  # share of the question's bigrams in the paragraph
    near: float  # share of neighbouring question words standing close together
    heading: float  # short without a sentence end, or a citation: cannot hold an answer
    defines: float  # whether the paragraph defines what is asked (X とは, X は…のことである)


@dataclass(frozen=True)
class Weights:
    """log(score) = Σ weight · log(signal + offset) over `log`, + Σ weight · signal over `linear`."""

    log: dict
    linear: dict


# Fitted by bench/fit_rerank.py; dividing by `plain` favours rare words over common ones.
QUESTION = Weights(
    log={
        "share": (0.5, 0.0),
        "covered": (1.5, 0.05),
        "plain": (-0.75, 0.05),
        "sentence": (2.25, 0.2),
    },
    linear={"sentence_bigrams": 0.75, "bigrams": 0.5, "near": 1.0, "heading": -1.2, "defines": 1.0},
)
KEYWORDS = Weights(
    log={
        "share": (0.5, 0.0),
        "covered": (2.0, 0.05),
        "plain": (-0.75, 0.05),
        "sentence": (1.75, 0.2),
    },
    linear={"sentence_bigrams": 0.75, "bigrams": 0.5, "near": 0.5, "heading": -1.2, "defines": 0.5},
)


def signals(share: float, text: str, title: str, question: Asked) -> Signals:
    """The answer signals of one paragraph (with its document's title) for a question."""
    folded, folded_title = fold(text), fold(title)
    in_text = [_found(word, folded) for word in question.words]
    in_title = [_found(word, folded_title) for word in question.words]
    sentences = split_sentences(folded)
    return Signals(
        share=share,
        covered=_weight(question, (a or b for a, b in zip(in_text, in_title))),
        plain=sum(in_text) / len(in_text) if in_text else 0.0,
        sentence=max(
            _weight(question, (t or _found(w, s) for w, t in zip(question.words, in_title)))
            for s in sentences
        ),
        sentence_bigrams=max(_bigram_share(question, s) for s in sentences),
        bigrams=_bigram_share(question, folded),
        near=_near_share(question, folded),
        heading=float(is_heading(text)),
        defines=float(
            any(defines(term, folded) for spellings in question.defined for term in spellings)
        ),
    )


def combine(found: Signals, weights: Weights = QUESTION) -> float:
    """The answer score of a paragraph's signals (a product of powers and exponentials)."""
    log_score = sum(
        weight * math.log(max(getattr(found, name), 0.0) + offset or 1e-9)
        for name, (weight, offset) in weights.log.items()
    )
    log_score += sum(weight * getattr(found, name) for name, weight in weights.linear.items())
    return math.exp(log_score)


def content_first(pool: list, heading: Callable[[int], bool], depth: int) -> list:
    """The first `depth` of a pool of (score, docnum) pairs, best first, taking paragraphs of
    content before headings, navigation lines and citations (which BM25's length normalisation
    puts first: they are short; `heading` tells them by docnum, see `is_heading`), each in the
    pool's order."""
    return sorted(pool, key=lambda pair: heading(pair[1]))[:depth]


def is_heading(text: str) -> bool:
    """A heading, a navigation line or a citation: what introduces or sources a text, not it."""
    text = text.strip()
    return (len(text) < HEADING_CHARS and not has_sentence_end(text)) or bool(_CITATION.match(text))


def _found(word: QuestionWord, text: str) -> bool:
    return any(spelling in text for spelling in word.spellings)


def _weight(question: Asked, found: Iterable[bool]) -> float:
    return sum(w.weight for w, hit in zip(question.words, found) if hit) / question.total_weight


def _bigram_share(question: Asked, sentence: str) -> float:
    if not question.bigrams:
        return 0.0
    return sum(bigram in sentence for bigram in question.bigrams) / len(question.bigrams)


def _near_share(question: Asked, text: str) -> float:
    """The share of the question's neighbouring word pairs that stand close in the text."""
    places = [_places(word, text) for word in question.words]
    pairs = list(itertools.pairwise(places))
    if not pairs:
        return 0.0
    return sum(_close(a, b) for a, b in pairs) / len(pairs)


def _close(places: list[int], others: list[int]) -> bool:
    """Whether a place in `places` lies within NEAR_CHARS of one in `others` (sorted)."""
    for place in places:
        nearest = bisect.bisect_left(others, place - NEAR_CHARS)
        if nearest < len(others) and others[nearest] <= place + NEAR_CHARS:
            return True
    return False


def _places(word: QuestionWord, text: str) -> list[int]:
    """Where the word stands in the text, in order."""
    places = []
    for spelling in word.spellings:
        start = text.find(spelling)
        while start >= 0:
            places.append(start)
            start = text.find(spelling, start + 1)
    return sorted(places)


def rerank(
    ranked: list[tuple[float, int]],
    paragraph: Callable[[int], tuple[str, str]],
    question: Asked,
    holds: Callable[[int], bool] | None = None,
    weights: Weights = QUESTION,
    defined: str | None = None,
) -> list[tuple[float, int]]:
    """(final score, docnum) pairs reordered by `combine` of their `signals` (see
    `question_order` for the final score); `paragraph` gives a docnum's (text, title), `holds`
    whether its text holds one of the question's words (by default, whether one is spelled in
    it). For a question asking only what the term `defined` is, the paragraphs defining it come
    first, then those naming it (see definitions.standing)."""
    if not ranked:
        return []
    top = ranked[0][0] or 1.0
    texts = [paragraph(docnum) for _, docnum in ranked]
    found = [signals(score / top, *text, question) for (score, _), text in zip(ranked, texts)]
    held = [holds(docnum) if holds else one.plain > 0 for (_, docnum), one in zip(ranked, found)]
    standings = None
    if defined is not None:
        term = fold(defined)
        # A heading (ルビとは, ルビとは何ですか？) introduces the definition; it is not one.
        standings = [
            min(standing(term, fold(text)), 1 if is_heading(text) else 2) for text, _ in texts
        ]
    return [
        (score, docnum)
        for (_, docnum), score in question_order(
            ranked, [combine(one, weights) for one in found], held, standings
        )
    ]


def question_order(
    ranked: list[tuple[float, int]],
    values: list[float],
    held: list[bool],
    standings: list[int] | None = None,
) -> list[tuple[tuple[float, int], float]]:
    """(BM25F's (score, docnum), final score) best first: by answer score (`values`), but a
    paragraph holding none of the question's words (`held`; lifted by its title alone) after
    all the others; where `standings` are given (0 to 2), by them first (higher first) among
    those holding some. The final score is that order, as a keyword query's tiers are: 3 for
    holding some of the words, plus the standing, plus under 1 for the answer score."""
    finals = [
        3.0 * held[i] + (standings[i] if standings else 0) + values[i] / (1.0 + values[i])
        for i in range(len(ranked))
    ]
    order = sorted(
        range(len(ranked)),
        key=lambda i: (not held[i], -(standings[i] if standings else 0), -values[i]),
    )
    return [(ranked[i], finals[i]) for i in order]


@dataclass(frozen=True)
class Candidate:
    """A paragraph matching a keyword query: its score (tier bonuses plus BM25F), the part of it
    that is tier bonus, whether it holds only some of the query (`partial`), and then the
    weighted share of the query's parts it holds."""

    score: float
    tier: float
    docnum: int
    partial: bool = False
    covered: float = 1.0


def rank_keywords(
    candidates: list[Candidate],
    paragraph: Callable[[int], tuple[str, str]],
    question: Asked,
    weights: Weights = KEYWORDS,
) -> list[tuple[float, Candidate]]:
    """Keyword matches best first, each with its final score (see `keyword_order`)."""
    found = keyword_signals(candidates, paragraph, question)
    return keyword_order(candidates, [combine(one, weights) for one in found])


def keyword_signals(
    candidates: list[Candidate], paragraph: Callable[[int], tuple[str, str]], question: Asked
) -> list[Signals]:
    """The answer signals of each candidate, BM25F's share taken within its group (those holding
    all the query, those holding some) and without tier bonuses, the share of the query held as
    the index found it."""
    tops: dict[bool, float] = {}
    for candidate in candidates:
        tops[candidate.partial] = max(
            tops.get(candidate.partial, 0.0), candidate.score - candidate.tier
        )
    found = []
    for c in candidates:
        one = signals((c.score - c.tier) / (tops[c.partial] or 1.0), *paragraph(c.docnum), question)
        # The index knows what a paragraph holds better than a look for spellings (講じた for
        # 講ずる, Pillar2 for ピラー2).
        found.append(replace(one, covered=max(one.covered, c.covered)))
    return found


def keyword_order(
    candidates: list[Candidate], values: list[float]
) -> list[tuple[float, Candidate]]:
    """(final score, candidate) best first: paragraphs holding all the parts by tier, then answer
    score (`values`); then those holding some by answer score, in which the weighted share of the
    parts they hold (or their title holds) counts most. The final score is that order: the tier
    plus 1 to 99 for the answer score for the first, under 1 for the others."""
    ranked = []
    for candidate, value in zip(candidates, values):
        squashed = value / (1.0 + value)
        final = 0.99 * squashed if candidate.partial else candidate.tier + 1.0 + 98.0 * squashed
        ranked.append((final, candidate))
    ranked.sort(key=lambda pair: (-pair[0], pair[1].docnum))
    return ranked


def following_order(candidates: list[Candidate], lowest: float) -> list[tuple[float, Candidate]]:
    """(final score, candidate) of those after the reranked ones (scored down to `lowest`), in
    their order (the first pass's): a paragraph holding all the parts scores its tier plus
    under 1 for BM25F, one holding some under 1 by its share and BM25F, never above the one
    before, so that scores fall with rank."""
    ranked = []
    for candidate in candidates:
        bm25f = candidate.score - candidate.tier
        squashed = bm25f / (1.0 + bm25f)
        if candidate.partial:
            final = 0.99 * candidate.covered * squashed
        else:
            final = candidate.tier + squashed
        lowest = min(lowest, final)
        ranked.append((lowest, candidate))
    return ranked


def question_following(ranked: list[tuple[float, int]], lowest: float) -> list[tuple[float, int]]:
    """(score, docnum) of a question's paragraphs after the reranked ones (scored down to
    `lowest`), in BM25F's order: under 1 for BM25F, never above the one before."""
    following = []
    for score, docnum in ranked:
        lowest = min(lowest, score / (1.0 + score))
        following.append((lowest, docnum))
    return following
