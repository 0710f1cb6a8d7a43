"""Pages: what the search page and the document view show, worked out from results, as plain
values for the templates (which escape every one of them): marked snippets, citations' links,
the range of hits shown and the paging links. Links keep the search in the URL, so that a page
can be bookmarked and shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from search.results.highlight import Span
from search.results.hits import Hit, SearchResults

PAGE_SIZE = 10  # hits on a page
MAX_DEPTH = 1_000  # how far down the ranking paging reaches: offset + limit
MODE_LABELS = {"auto": "自動", "keyword": "キーワード", "question": "質問"}


@dataclass(frozen=True)
class Links:
    """Links that carry a search (its query and mode) in their URL."""

    query: str
    mode: str
    default_mode: str

    def results(self, offset: int = 0) -> str:
        """The search page of the hits from `offset` on."""
        return "/?" + urlencode(
            {"q": self.query, **self._mode(), **({"offset": offset} if offset else {})}
        )

    def document(self, source: str, paragraph: int) -> str:
        """The document view of `source`, scrolled to `paragraph` and highlighting it."""
        parameters = {
            "paragraph": paragraph,
            **({"q": self.query} if self.query else {}),
            **self._mode(),
        }
        return f"/documents/{quote(source, safe='/')}?{urlencode(parameters)}#p{paragraph}"

    def _mode(self) -> dict:
        return {"mode": self.mode} if self.mode != self.default_mode else {}


def marked(text: str, spans: list[Span]) -> list[tuple[str, bool]]:
    """`text` as pieces, each with whether it lies in one of `spans` (sorted, not overlapping)."""
    pieces, at = [], 0
    for start, end in spans:
        if start > at:
            pieces.append((text[at:start], False))
        pieces.append((text[start:end], True))
        at = end
    if at < len(text):
        pieces.append((text[at:], False))
    return pieces


class HitView:
    """What the page shows of one hit: its citation's link, its marked snippet, its other places."""

    def __init__(self, hit: Hit, links: Links) -> None:
        self.hit = hit
        self.href = links.document(hit.source, hit.paragraph)
        self.snippet = marked(hit.snippet, hit.snippet_highlights)
        self.also = [(place, links.document(place.source, place.paragraph)) for place in hit.also]


class ResultsView:
    """What the page shows of the results: the hits of this page, their range, the paging links.

    `results` holds the hits from `offset` on, one more than a page when there are more."""

    def __init__(self, results: SearchResults, offset: int, links: Links) -> None:
        self.total = results.total
        self.relaxed = results.relaxed
        self.hits = [HitView(hit, links) for hit in results.hits[:PAGE_SIZE]]
        self.first = offset + 1
        self.last = offset + len(self.hits)
        self.previous = links.results(max(0, offset - PAGE_SIZE)) if offset else None
        more = len(results.hits) > PAGE_SIZE and self.last < MAX_DEPTH
        self.next = links.results(offset + PAGE_SIZE) if more else None
        # The ranking goes on past what paging reaches.
        self.cut_off = self.last >= MAX_DEPTH and results.total > MAX_DEPTH


def page_limit(offset: int) -> int:
    """How many hits the page from `offset` asks for: a page, and one more to learn whether
    another page follows, as far as MAX_DEPTH."""
    return max(1, min(PAGE_SIZE + 1, MAX_DEPTH - offset))
