"""Pages: what the search page and the document view show, worked out from results, as plain
values for the templates (which escape every one of them): marked snippets, citations' links,
the range of hits shown and the paging links, and the side panel that narrows a search: its
facets' links, the filters chosen (each with a link that drops it) and the order. Links keep the
search in the URL (its query, mode, filters and order), so that a page can be bookmarked and
shared.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from urllib.parse import quote, urlencode

from search.query.filters import Filters
from search.results.facets import Facets, FacetValue
from search.results.highlight import Span
from search.results.hits import Hit, SearchResults

PAGE_SIZE = 10  # hits on a page
MAX_DEPTH = 1_000  # how far down the ranking paging reaches: offset + limit
MODE_LABELS = {"auto": "自動", "keyword": "キーワード", "question": "質問"}
SORT_LABELS = {"relevance": "関連度順", "date": "新しい順"}
FORMAT_LABELS = {
    "pdf": "PDF",
    "docx": "Word",
    "html": "HTML",
    "epub": "EPUB",
    "markdown": "Markdown",
    "text": "テキスト",
}
FACET_LIMIT = 10  # values of a facet shown


@dataclass(frozen=True)
class Narrowing:
    """The filters and the order a page's URL gives: `format` and `path` (each repeatable),
    `after`, `before` and `sort`, as the API takes them."""

    formats: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    after: str = ""
    before: str = ""
    sort: str = "relevance"

    @property
    def filters(self) -> Filters:
        """The filters (QuerySyntaxError for one that cannot be read)."""
        return Filters.of(self.formats, self.paths, self.after or None, self.before or None)

    def parameters(self) -> list[tuple[str, str]]:
        """The URL parameters, in order, leaving out what is not given."""
        return [
            *(("format", name) for name in self.formats),
            *(("path", pattern) for pattern in self.paths),
            *([("after", self.after)] if self.after else []),
            *([("before", self.before)] if self.before else []),
            *([("sort", self.sort)] if self.sort != "relevance" else []),
        ]


@dataclass(frozen=True)
class Links:
    """Links that carry a search (its query, mode, filters and order) in their URL."""

    query: str
    mode: str
    default_mode: str
    narrowing: Narrowing = field(default_factory=Narrowing)

    def results(self, offset: int = 0) -> str:
        """The search page of the hits from `offset` on."""
        parameters = [
            ("q", self.query),
            *self._mode().items(),
            *self.narrowing.parameters(),
            *([("offset", str(offset))] if offset else []),
        ]
        return "/?" + urlencode(parameters)

    def narrowed(self, **changes) -> str:
        """The search page from its first hit, with the filters or order changed."""
        return replace(self, narrowing=replace(self.narrowing, **changes)).results()

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


@dataclass(frozen=True)
class FacetLink:
    """One value of a facet as the panel shows it: its label, its count, its link."""

    label: str
    count: int
    documents: int
    href: str


@dataclass(frozen=True)
class Chosen:
    """A filter in force, and the link that drops it."""

    label: str
    href: str


class PanelView:
    """The side panel: the order, the filters chosen and the facets' values."""

    def __init__(self, facets: Facets | None, links: Links) -> None:
        narrowing = links.narrowing
        self.sorts = [
            (label, links.narrowed(sort=sort), sort == narrowing.sort)
            for sort, label in SORT_LABELS.items()
        ]
        self.chosen = _chosen(links)
        facets = facets or Facets()
        # A value chosen replaces those chosen before (the facets count within them), and keeps
        # what is left out.
        formats_out = tuple(name for name in narrowing.formats if name.startswith(("!", "-")))
        paths_out = tuple(pattern for pattern in narrowing.paths if pattern.startswith("!"))
        self.formats = [
            _facet_link(
                value,
                FORMAT_LABELS.get(value.value, value.value),
                links,
                formats=(*formats_out, value.value),
            )
            for value in facets.format[:FACET_LIMIT]
        ]
        base = facets.folder_base
        self.folder_base = base
        self.folders = [
            _facet_link(
                value,
                value.value[len(base) :].strip("/") + "/",
                links,
                paths=(*paths_out, value.value),
            )
            for value in facets.folder[:FACET_LIMIT]
        ]
        self.years = [
            _facet_link(
                value,
                f"{value.value}年",
                links,
                after=value.value,
                before=str(int(value.value) + 1),
            )
            for value in facets.year[:FACET_LIMIT]
        ]


def _facet_link(value: FacetValue, label: str, links: Links, **changes) -> FacetLink:
    return FacetLink(label, value.count, value.documents, links.narrowed(**changes))


def _chosen(links: Links) -> list[Chosen]:
    """Each filter of the URL with the link that drops it."""
    narrowing = links.narrowing
    chosen = []
    for name in narrowing.formats:
        label = ", ".join(
            FORMAT_LABELS.get(part.lstrip("!-"), part.lstrip("!-")) for part in name.split(",")
        )
        dropped = tuple(other for other in narrowing.formats if other != name)
        prefix = "形式以外: " if name.startswith(("!", "-")) else "形式: "
        chosen.append(Chosen(prefix + label, links.narrowed(formats=dropped)))
    for pattern in narrowing.paths:
        dropped = tuple(other for other in narrowing.paths if other != pattern)
        prefix = "場所以外: " if pattern.startswith("!") else "場所: "
        chosen.append(Chosen(prefix + pattern.lstrip("!"), links.narrowed(paths=dropped)))
    if narrowing.after or narrowing.before:
        chosen.append(Chosen("日付: " + _period(narrowing), links.narrowed(after="", before="")))
    return chosen


def _period(narrowing: Narrowing) -> str:
    after, before = narrowing.after, narrowing.before
    if after and before and after.isdigit() and before.isdigit() and int(before) == int(after) + 1:
        return f"{after}年"
    return f"{after or ''}〜{before + ' より前' if before else ''}"


def page_limit(offset: int) -> int:
    """How many hits the page from `offset` asks for: a page, and one more to learn whether
    another page follows, as far as MAX_DEPTH."""
    return max(1, min(PAGE_SIZE + 1, MAX_DEPTH - offset))
