"""Questions: reorder BM25's best paragraphs by how well each could hold the answer.

BM25 scores the question's words one by one, so a short paragraph with one rare word (or a heading
that is just the article's title) can beat the paragraph that answers. An answer paragraph holds
most of the question's words, rare ones above all, in one sentence and close together; a word
may also stand in the document's title instead (a paragraph of the article ラオス need not say
ラオス). `rerank()` multiplies BM25's share of the best score by those signals.

The weights were fitted on 2,000 JSQuAD and 2,000 JaQuAD questions kept apart from the samples the
README reports (bench/evaluate.py); see the README's "How good and how fast".
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass
from typing import Callable, Iterable

from .analysis import fold

NEAR_CHARS = 12  # two question words this close in a paragraph count as used together
HEADING_CHARS = 40  # a paragraph this short without a sentence end is a heading
_SENTENCES = re.compile(r"[^。！？!?]+[。！？!?]*")
_SENTENCE_END = re.compile(r"[。！？!?]")
# Bigrams with kana or punctuation say little about what a question asks.
_WEAK_BIGRAM = re.compile(r"[\u3040-\u309f、。？！?!「」・（）()\s]")


@dataclass(frozen=True)
class QuestionWord:
    """A content word of the question: the ways a paragraph may spell it, and its weight (IDF)."""

    spellings: frozenset[str]
    weight: float


@dataclass(frozen=True)
class Asked:
    """What the reranker knows about a question."""

    words: tuple[QuestionWord, ...]
    bigrams: frozenset[str]

    @property
    def total_weight(self) -> float:
        return sum(word.weight for word in self.words) or 1.0


def asked(question: str, words: Iterable[tuple[str, str]],
          doc_frequency: Callable[[str], int], doc_count: int) -> Asked:
    """The question's words as (surface, normalized form) pairs, weighted by their rarity in the
    index, and its character bigrams without kana or punctuation."""
    weighted = tuple(
        QuestionWord(frozenset({fold(surface), normalized}), _idf(doc_frequency(normalized), doc_count))
        for surface, normalized in words)
    folded = fold(question)
    bigrams = frozenset(folded[i:i + 2] for i in range(len(folded) - 1)
                        if not _WEAK_BIGRAM.search(folded[i:i + 2]))
    return Asked(weighted, bigrams)


def _idf(doc_frequency: int, doc_count: int) -> float:
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
    heading: float  # short, without a sentence end: cannot hold an answer


# log(score) = Σ weight · log(signal + offset) for the first four, + Σ weight · signal for the rest.
# Fitted by bench/fit_rerank.py; dividing by `plain` favours rare words over common ones.
LOG_WEIGHTS = {"share": (0.5, 0.0), "covered": (1.5, 0.05), "plain": (-0.75, 0.05),
               "sentence": (2.25, 0.2)}
LINEAR_WEIGHTS = {"sentence_bigrams": 0.75, "bigrams": 0.5, "near": 1.0, "heading": -1.2}


def signals(share: float, text: str, title: str, question: Asked) -> Signals:
    """The answer signals of one paragraph (with its document's title) for a question."""
    folded, folded_title = fold(text), fold(title)
    in_text = [_found(word, folded) for word in question.words]
    in_title = [_found(word, folded_title) for word in question.words]
    sentences = _SENTENCES.findall(folded) or [folded]
    return Signals(
        share=share,
        covered=_weight(question, (a or b for a, b in zip(in_text, in_title))),
        plain=sum(in_text) / len(in_text) if in_text else 0.0,
        sentence=max(_weight(question, (t or _found(w, s) for w, t in zip(question.words, in_title)))
                     for s in sentences),
        sentence_bigrams=max(_bigram_share(question, s) for s in sentences),
        bigrams=_bigram_share(question, folded),
        near=_near_share(question, folded),
        heading=float(len(text) < HEADING_CHARS and not _SENTENCE_END.search(text)))


def combine(found: Signals, log_weights: dict = LOG_WEIGHTS,
            linear_weights: dict = LINEAR_WEIGHTS) -> float:
    """The answer score of a paragraph's signals (a product of powers and exponentials)."""
    log_score = sum(weight * math.log(max(getattr(found, name), 0.0) + offset or 1e-9)
                    for name, (weight, offset) in log_weights.items())
    log_score += sum(weight * getattr(found, name) for name, weight in linear_weights.items())
    return math.exp(log_score)


def answer_score(share: float, text: str, title: str, question: Asked) -> float:
    """BM25F's `share` of the best score, times how well the paragraph covers the question."""
    return combine(signals(share, text, title, question))


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
    pairs = list(zip(places, places[1:]))
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


def rerank(ranked: list[tuple[float, int]], paragraph: Callable[[int], tuple[str, str]],
           question: Asked) -> list[tuple[float, int]]:
    """(score, docnum) pairs reordered by `answer_score`; `paragraph` gives a docnum's
    (text, title)."""
    if not ranked:
        return []
    top = ranked[0][0] or 1.0
    rescored = [(answer_score(score / top, *paragraph(docnum), question), docnum)
                for score, docnum in ranked]
    return sorted(rescored, key=lambda pair: -pair[0])
