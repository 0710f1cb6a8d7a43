"""Highlighting: find exactly what a query matched in a paragraph, and cut a snippet around it.

The paragraph is analyzed again, as it was for the index, and each phrase of the query is looked for
as a run of consecutive terms: a phrase is one span from its first term's start to its last term's
end, and words of a phrase that stand apart are not highlighted; a substring is highlighted only at
the Latin word bounds matching keeps to (search.text.word_bounds: AI in AI分野, not in JAIC). Snippets are whole sentences (ending
in 。！？ or !?) around the matches, fragments joined with …
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from search.query.tree import Phrase
from search.text.analysis import Term, analyze_cached, fold_with_offsets, has_combining
from search.text.sentences import sentence_spans
from search.text.word_bounds import at_word_bounds

Span = tuple[int, int]
SNIPPET_CHARS = 160
ELLIPSIS = "…"


def match_spans(text: str, phrases: Iterable[Phrase]) -> list[Span]:
    """Character spans of `text` where one of `phrases` occurs, merged where they overlap."""
    phrases = list(phrases)
    if not phrases:
        return []
    analysis = analyze_cached(text)
    folded = None
    spans = []
    for phrase in phrases:
        spans += _find_runs(analysis.words, phrase.words, phrase.slop)
        spans += _find_runs(analysis.subwords, phrase.subwords, phrase.slop)
        if phrase.substring and phrase.folded.strip():
            folded = folded or fold_with_offsets(text)
            spans += _find_substrings(folded, phrase.folded.strip())
        if phrase.kana:
            spans += _find_readings(analysis.readings, phrase.kana)
    return merge_spans(spans)


def _find_runs(terms: Sequence[Term], wanted: Sequence[str], slop: int = 1) -> list[Span]:
    """Spans where `wanted` stands as consecutive terms, neighbours at most `slop` positions apart."""
    if not wanted:
        return []
    size = len(wanted)
    texts = [term.text for term in terms]
    wanted = list(wanted)
    return [
        (terms[i].start, terms[i + size - 1].end)
        for i in range(len(texts) - size + 1)
        if texts[i] == wanted[0]
        and texts[i : i + size] == wanted
        and all(
            0 < terms[j + 1].position - terms[j].position <= slop for j in range(i, i + size - 1)
        )
    ]


def _find_substrings(folded: tuple[str, list[int], list[int]], needle: str) -> list[Span]:
    """Spans of the original text whose folded form contains `needle`, at Latin word bounds as
    matching finds it (AI not in JAIC, 2 not in 2024)."""
    haystack, starts, ends = folded
    spans = []
    at = haystack.find(needle)
    while at >= 0:
        if at_word_bounds(haystack, at, at + len(needle)):
            spans.append((starts[at], ends[at + len(needle) - 1]))
        at = haystack.find(needle, at + 1)
    return spans


def _find_readings(readings: Sequence[Term], kana: str) -> list[Span]:
    """Spans of consecutive terms whose readings, put together, spell `kana`."""
    spans = []
    for first in range(len(readings)):
        spelled = ""
        for last in range(first, len(readings)):
            spelled += readings[last].text
            if not kana.startswith(spelled):
                break
            if spelled == kana:
                spans.append((readings[first].start, readings[last].end))
                break
    return spans


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Sorted spans with overlapping ones joined; spans that merely touch stay apart."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def snippet(text: str, spans: Sequence[Span], width: int = SNIPPET_CHARS) -> tuple[str, list[Span]]:
    """A snippet of at most about `width` characters around `spans`, and the spans within it;
    the paragraph's leading and trailing spaces (an indent) are left out."""
    text, spans = _stripped(text, spans)
    if len(text) <= width:
        return text, list(spans)
    fragments = _fragments(text, spans, width)
    pieces: list[str] = []
    snippet_spans: list[Span] = []
    length = 0
    previous_end = 0
    for start, end in fragments:
        if start > previous_end:
            pieces.append(ELLIPSIS)
            length += len(ELLIPSIS)
        for span_start, span_end in spans:
            if span_start < end and span_end > start:
                snippet_spans.append(
                    (length + max(span_start, start) - start, length + min(span_end, end) - start)
                )
        pieces.append(text[start:end])
        length += end - start
        previous_end = end
    if previous_end < len(text):
        pieces.append(ELLIPSIS)
    return "".join(pieces), snippet_spans


def _stripped(text: str, spans: Sequence[Span]) -> tuple[str, list[Span]]:
    """`text` without surrounding white space, and `spans` moved to match."""
    lead = len(text) - len(text.lstrip())
    stripped = text.strip()
    moved = [(max(start - lead, 0), min(end - lead, len(stripped))) for start, end in spans]
    return stripped, [(start, end) for start, end in moved if start < end]


def _fragments(text: str, spans: Sequence[Span], width: int) -> list[Span]:
    """The sentences to show: those with the most matches first, then their neighbours."""
    bounds = sentence_spans(text)
    counts = [sum(1 for s, e in spans if s < end and e > start) for start, end in bounds]
    chosen: set[int] = set()
    budget = width
    for i in sorted(range(len(bounds)), key=lambda i: (-counts[i], i)):
        size = bounds[i][1] - bounds[i][0]
        if counts[i] == 0 and chosen:
            break
        if size <= budget:
            chosen.add(i)
            budget -= size
        elif not chosen:
            return [_whole_characters(text, _window(bounds[i], spans, width))]
    _add_neighbours(bounds, chosen, budget)
    return [bounds[i] for i in sorted(chosen)]


def _add_neighbours(bounds: Sequence[Span], chosen: set[int], budget: int) -> None:
    """Fill the budget with the sentences after, then before, those chosen."""
    for step in (1, -1):
        for i in sorted(chosen, reverse=step < 0):
            j = i + step
            while 0 <= j < len(bounds) and j not in chosen:
                size = bounds[j][1] - bounds[j][0]
                if size > budget:
                    break
                chosen.add(j)
                budget -= size
                j += step


def _whole_characters(text: str, span: Span) -> Span:
    """`span` widened so as not to cut a character from the marks that combine with it (カ and
    its voiced mark ゙, ﾃ and ﾞ, 葛 and its variation selector)."""
    start, end = span
    while start > 0 and has_combining(text[start]):
        start -= 1
    while end < len(text) and has_combining(text[end]):
        end += 1
    return start, end


def _window(bound: Span, spans: Sequence[Span], width: int) -> Span:
    """A `width`-character window of one long sentence, its first match a third of the way in."""
    start, end = bound
    inside = [s for s, e in spans if start <= s < end]
    if inside:
        start = max(start, min(inside[0] - width // 3, end - width))
    return start, min(end, start + width)
