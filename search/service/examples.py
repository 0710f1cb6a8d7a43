"""Examples: queries of each kind the syntax allows, made of words the open index holds, so that a
search page can offer examples that find something in the collection it serves.

Words are taken from a sample of paragraphs spread over the index: the content words of two
characters or more written in kanji or katakana (nouns, mostly), by how many sampled paragraphs
hold them. Two that stand in one paragraph make the AND example, a third the OR, two written one
after the other the quoted phrase; the name, format and folder of a document holding the
commonest word make the `source:`, `format:` and `path:` examples, and that word a question. An
example is offered only if it finds a paragraph.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass

from search.errors import QuerySyntaxError
from search.query.filters import format_of
from search.service.searcher import Searcher
from search.text.analysis import analyze

SAMPLE_PARAGRAPHS = 300
_WORD = re.compile(r"[一-龯々〆ヵヶァ-ヺー]{2,12}")
# Nouns too general to show what a collection is about (Sudachi's adverbial and formal nouns).
# fmt: off
_GENERAL = frozenset({
    "場合", "以下", "以上", "以外", "必要", "可能", "一部", "全部", "今回", "今後", "現在", "前後",
    "程度", "部分", "状態", "状況", "内容", "方法", "結果", "対象", "関係", "一般", "具体", "使用",
    "利用", "次第", "最初", "最後", "同様", "通り", "特定", "指定", "設定", "注意", "説明", "参照",
})
# fmt: on
# How much of a file name makes a `source:` example: up to its first separator.
_NAME_PART = re.compile(r"[^_\-\s.・（(【\[]{1,12}")


@dataclass(frozen=True)
class Example:
    """A query and what kind of example it is: "and", "or", "not", "phrase", "source",
    "question"."""

    kind: str
    query: str


def examples(searcher: Searcher) -> list[Example]:
    """Examples of each kind that find something in the index of `searcher`; none for an index
    with too few words."""
    sampled = _sample(searcher.sample_texts(SAMPLE_PARAGRAPHS))
    if not sampled.counts:
        return []
    ranked = _ranked(sampled.counts)
    first = ranked[0]
    partner = next((word for word in _ranked(sampled.together[first]) if word != first), None)
    others = [word for word in ranked if word not in (first, partner)]
    candidates = [Example("question", f"{first}とは何ですか？")]
    if partner:
        candidates += [Example("and", f"{first} {partner}"), Example("not", f"{first} -{partner}")]
    if sampled.neighbours:
        before, after = _ranked(sampled.neighbours)[0]
        candidates.append(Example("phrase", f'"{before} {after}"'))
    if others:
        candidates.append(Example("or", f"{others[0]} OR {partner or first}"))
    candidates += _document_examples(searcher, first)
    return [example for example in candidates if _finds_something(searcher, example.query)]


def _ranked(counts: Counter) -> list:
    """The keys of `counts`, the commonest first, ties in order (the same examples every time)."""
    return [key for key, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


@dataclass
class _Sample:
    """What the sampled paragraphs hold: how many hold each word, for each word the words of the
    same paragraphs, and pairs of words written one right after the other (日米 and 同盟)."""

    counts: Counter
    together: dict[str, Counter]
    neighbours: Counter


def _sample(texts: list[str]) -> _Sample:
    sample = _Sample(Counter(), {}, Counter())
    for text in texts:
        text = text[:1000]
        spans = [
            (w.start, w.end)
            for w in analyze(text, content_only=True).words
            if _WORD.fullmatch(text, w.start, w.end) and text[w.start : w.end] not in _GENERAL
        ]
        words = {text[start:end] for start, end in spans}
        sample.counts.update(words)
        for word in words:
            sample.together.setdefault(word, Counter()).update(words)
        sample.neighbours.update(
            {
                (text[a_start:a_end], text[b_start:b_end])
                for (a_start, a_end), (b_start, b_end) in itertools.pairwise(spans)
                if a_end == b_start
            }
        )
    return sample


def _document_examples(searcher: Searcher, word: str) -> list[Example]:
    """`word` kept to the document holding it most: by a name for `source:` (its folder's, else
    the start of its file name), by its format, and by its folder's path."""
    source = next(iter(searcher.sources(word, mode="keyword")), None)
    if source is None:
        return []
    folder, _, name = source.rpartition("/")
    start = _NAME_PART.match(name)
    named = folder.rpartition("/")[2] + "/" if folder else start and start.group()
    found = [Example("source", f"{word} source:{named}")] if named else []
    if format_of(source):
        found.append(Example("format", f"{word} format:{format_of(source)}"))
    if folder and " " not in folder:
        found.append(Example("path", f"{word} path:{folder}"))
    return found


def _finds_something(searcher: Searcher, query: str) -> bool:
    try:
        return searcher.search(query, limit=1, mode="auto").total > 0
    except QuerySyntaxError:  # a name with a quote in it
        return False
