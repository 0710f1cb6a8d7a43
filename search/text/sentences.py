"""Sentences: where a Japanese (or Latin) sentence ends, for snippets, for cutting long text and
for the reranker's sentence signals; the one definition all of them use."""

import re

# A sentence ends after 。！？ (or ! ?), with any closing brackets or quotes that follow.
SENTENCE_END = re.compile(r"[。！？!?]+[」』）)】]*")
# Where a long text may be cut for Sudachi: a sentence end or a line break.
SENTENCE_OR_LINE_END = re.compile(rf"{SENTENCE_END.pattern}|\n+")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of `text`, each ending after its 。！？ (and closing brackets)."""
    bounds, start = [], 0
    for end_mark in SENTENCE_END.finditer(text):
        bounds.append((start, end_mark.end()))
        start = end_mark.end()
    if start < len(text):
        bounds.append((start, len(text)))
    return bounds


def split_sentences(text: str) -> list[str]:
    """The sentences of `text` (its whole, for a text without any)."""
    return [text[start:end] for start, end in sentence_spans(text)] or [text]


def has_sentence_end(text: str) -> bool:
    """Whether `text` ends a sentence anywhere (a heading or a caption does not)."""
    return SENTENCE_END.search(text) is not None
