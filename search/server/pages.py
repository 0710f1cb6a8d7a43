"""Pages: what the search page, the document view and the list of documents show, worked out from
results, as plain values for the templates (which escape every one of them): marked snippets,
citations and their links, the header's counts, the range of hits shown, the paging links, the
parts of a long document, the examples of the front page, errors in Japanese, and the side panel
that narrows a search: its facets' links, the filters chosen (each with a link that drops it) and
the order. Links keep the search in the URL (its query, mode, filters and order), so that a page
can be bookmarked and shared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from urllib.parse import quote, urlencode

from search.query.filters import Filters
from search.results.facets import Facets, FacetValue
from search.results.highlight import Span
from search.results.hits import Hit, SearchResults

PAGE_SIZE = 10  # hits on a page
MAX_DEPTH = 1_000  # how far down the ranking paging reaches: offset + limit
DOCUMENTS_PAGE_SIZE = 50  # documents on a page of the list
PART_SIZE = 200  # paragraphs of a long document shown at once
MODE_LABELS = {"auto": "自動", "keyword": "キーワード", "question": "質問"}
# What each kind of example (service.examples) shows, said for the front page.
EXAMPLE_LABELS = {
    "and": "空白で区切った語をすべて含む段落（少ないときは一部の語を含む段落も）",
    "or": "どちらかを含む段落",
    "not": "- の付いた語を含まない段落",
    "phrase": "引用符の中をひと続きで含む段落",
    "source": "名前がこれで始まるファイル（またはフォルダー）の中だけ",
    "format": "この形式の文書の中だけ（pdf, docx, html, epub, markdown, text）",
    "path": "このフォルダーの中だけ（* を使うと glob）",
    "question": "質問: 語のいずれかを含む段落を、答えを含みそうな順に",
}


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

    def document(self, source: str, paragraph: int | None = None, part: int | None = None) -> str:
        """The document view of `source`: the part holding `paragraph`, which it highlights and
        scrolls to, or part `part` (from 1)."""
        parameters = {
            **({"paragraph": paragraph} if paragraph is not None else {}),
            **({"part": part} if part is not None else {}),
            **({"q": self.query} if self.query else {}),
            **self._mode(),
        }
        query = f"?{urlencode(parameters)}" if parameters else ""
        anchor = f"#p{paragraph}" if paragraph is not None and part is None else ""
        return f"/documents/{quote(source, safe='/')}{query}{anchor}"

    def _mode(self) -> dict:
        return {"mode": self.mode} if self.mode != self.default_mode else {}


def search_link(query: str) -> str:
    """The search page of `query`, read in the default mode."""
    return "/?" + urlencode({"q": query})


def cite(place) -> str:
    """Where a paragraph stands, page before line for a paged document: `a.txt:12`,
    `b.pdf 3ページ 5行`."""
    if place.page is not None:
        return f"{place.source} {place.page}ページ {place.line}行"
    return f"{place.source}:{place.line}"


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
    """What the page shows of one hit: its citation and link, its marked snippet, its other places."""

    def __init__(self, hit: Hit, links: Links) -> None:
        self.hit = hit
        self.href = links.document(hit.source, hit.paragraph)
        self.cite = cite(hit)
        self.snippet = marked(hit.snippet, hit.snippet_highlights)
        self.also = [
            (cite(place), links.document(place.source, place.paragraph)) for place in hit.also
        ]


class ResultsView:
    """What the page shows of the results: the hits of this page, their range, the header, the
    paging links.

    `results` holds the hits from `offset` on, one more than a page when there are more."""

    def __init__(self, results: SearchResults, offset: int, links: Links) -> None:
        self.total = results.total
        self.relaxed = results.relaxed
        self.hits = [HitView(hit, links) for hit in results.hits[:PAGE_SIZE]]
        self.first = offset + 1
        self.last = offset + len(self.hits)
        self.partial = sum(view.hit.partial for view in self.hits) if not self.relaxed else 0
        self.previous = links.results(max(0, offset - PAGE_SIZE)) if offset else None
        more = len(results.hits) > PAGE_SIZE and self.last < MAX_DEPTH
        self.next = links.results(offset + PAGE_SIZE) if more else None
        # The ranking goes on past what paging reaches.
        self.cut_off = self.last >= MAX_DEPTH and results.total > MAX_DEPTH
        self.summary = self._summary(results.query)

    def _summary(self, query: str) -> str:
        """The header: how many paragraphs hold the query, those holding all of its words apart
        from those holding only some, and which hits are shown."""
        count = f"{self.total:,}件"
        shown = f"{self.first:,}–{self.last:,}件目を表示"
        if not self.total:
            return f"「{query}」に一致する段落はありません"
        if not self.hits:
            return f"「{query}」の結果はここまでです（{count}）"
        if self.relaxed:
            return f"「{query}」の一部の語を含む段落: {count}（{shown}）"
        if not self.partial:
            return f"「{query}」に一致する段落: {count}（{shown}）"
        whole = len(self.hits) - self.partial
        some = f"一部の語のみを含む段落{self.partial:,}件"
        then = f"続いて{some}" if whole else f"ここからは{some}"
        return f"「{query}」の語をすべて含む段落: {count}。{then}（{shown}）"


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


@dataclass(frozen=True)
class PageGroup:
    """Paragraphs of one page of a paged document (`page` None for other documents)."""

    page: int | None
    paragraphs: list


class DocumentView:
    """A document a part at a time: PART_SIZE paragraphs, a paged document's cut between pages,
    each page's paragraphs under its number; the part shown is `part` (from 1), else the one
    holding the paragraph `chosen`, else the first."""

    def __init__(
        self, source: str, paragraphs: list, chosen: int | None, part: int | None, links: Links
    ) -> None:
        self.parts = _parts(paragraphs)
        at = _part_of(self.parts, paragraphs, chosen)
        self.number = min(max(part, 1), len(self.parts)) if part else at
        start, end = self.parts[self.number - 1]
        self.groups = _by_page(paragraphs[start:end])
        self.paged = paragraphs[0].page is not None
        self.total = len(paragraphs)
        self.links = [
            (_part_label(paragraphs[a], paragraphs[b - 1]), links.document(source, chosen, i))
            for i, (a, b) in enumerate(self.parts, start=1)
        ]
        self.previous = self.links[self.number - 2][1] if self.number > 1 else None
        self.next = self.links[self.number][1] if self.number < len(self.parts) else None


def _parts(paragraphs: list) -> list[tuple[int, int]]:
    """[start, end) of each part: PART_SIZE paragraphs, or for a paged document whole pages
    until they hold PART_SIZE."""
    parts, start = [], 0
    while start < len(paragraphs):
        end = min(start + PART_SIZE, len(paragraphs))
        page = paragraphs[end - 1].page
        if page is not None:
            while end < len(paragraphs) and paragraphs[end].page == page:
                end += 1
        parts.append((start, end))
        start = end
    return parts or [(0, 0)]


def _part_of(parts: list[tuple[int, int]], paragraphs: list, chosen: int | None) -> int:
    for number, (start, end) in enumerate(parts, start=1):
        if any(p.paragraph == chosen for p in paragraphs[start:end]):
            return number
    return 1


def _by_page(paragraphs: list) -> list[PageGroup]:
    groups: list[PageGroup] = []
    for paragraph in paragraphs:
        if not groups or groups[-1].page != paragraph.page:
            groups.append(PageGroup(paragraph.page, []))
        groups[-1].paragraphs.append(paragraph)
    return groups


def _part_label(first, last) -> str:
    if first.page is not None:
        pages = f"{first.page}" if first.page == last.page else f"{first.page}–{last.page}"
        return f"{pages}ページ"
    return f"¶{first.paragraph}–{last.paragraph}"


class DocumentsView:
    """A page of the list of documents, from `offset` on, and its paging links."""

    def __init__(self, total: int, documents: list, offset: int) -> None:
        self.total = total
        self.documents = [
            (document, Links("", "", "").document(document.source)) for document in documents
        ]
        self.first, self.last = offset + 1, offset + len(documents)
        previous = max(0, offset - DOCUMENTS_PAGE_SIZE)
        self.previous = _documents_link(previous) if offset else None
        following = offset + DOCUMENTS_PAGE_SIZE
        self.next = _documents_link(following) if following < total else None


def _documents_link(offset: int) -> str:
    return f"/documents?offset={offset}" if offset else "/documents"


# The query's errors (search.query.parser) and the request's (search.server.app) in Japanese, by
# the English one-line message the CLI and the API give: (pattern, Japanese, with its groups).
_JAPANESE_ERRORS = [
    (r"the query is empty", "検索語が空です。探したい語を入れてください。"),
    (
        r"the query is too long: ([\d,]+) characters, at most ([\d,]+)",
        "検索語が長すぎます（{0}文字。{1}文字まで）。",
    ),
    (r"the query has more than (\d+) terms", "語が多すぎます（{0}語まで）。"),
    (
        r"the query holds bytes that are not UTF-8 text",
        "検索語に文字として読めないバイトがあります。",
    ),
    (
        r"nothing to search for in .*",
        "探せる語がありません（記号や演算子だけです）。語を入れてください。",
    ),
    (
        r'unbalanced quote: a phrase opened with " is not closed',
        '引用符 " が閉じていません。語句の終わりにも " を付けてください。',
    ),
    (
        r'unbalanced quote: a source: pattern opened with " is not closed',
        'source: の引用符 " が閉じていません。名前の終わりにも " を付けてください。',
    ),
    (
        r"source: needs a file name or pattern.*",
        "source: のあとにファイル名を書いてください（例: source:報告 や source:*.pdf）。",
    ),
    (r"unbalanced parenthesis: \) without a matching \(", "閉じ括弧 ) に対応する ( がありません。"),
    (r"unbalanced parenthesis: \( without a matching \)", "括弧 ( が閉じていません。"),
    (r"empty parentheses", "括弧の中が空です。"),
    (r"(OR|AND) needs a term on each side", "{0} の前後に語が必要です。"),
    (r"(NOT|-) needs a term after it", "{0} のあとに語が必要です。"),
    (
        r"the query nests parentheses or NOTs more than (\d+) deep",
        "括弧や NOT の入れ子が深すぎます（{0}段まで）。",
    ),
    (r"unknown query mode .*", "検索方法は 自動・キーワード・質問 から選んでください。"),
    (
        r"only the best ([\d,]+) hits can be paged through.*",
        "上位{0}件より先へはページを進められません。語を加えて絞り込んでください。",
    ),
    (
        r"the index is busy; try again in a moment",
        "索引を更新中です。少し待ってからもう一度お試しください。",
    ),
    (
        r"the index cannot be read; the server's log says why",
        "索引を読み込めません。理由はサーバーのログにあります。",
    ),
    (r"internal error", "サーバー内部でエラーが起きました。"),
    (r"not found", "このページ、またはこの文書は索引にありません。"),
]
_COMPILED_ERRORS = [(re.compile(pattern), japanese) for pattern, japanese in _JAPANESE_ERRORS]


def in_japanese(message: str) -> str | None:
    """The Japanese of an error's one-line English message, or None for one it does not know
    (the page then says so in general, and shows the English)."""
    for pattern, japanese in _COMPILED_ERRORS:
        found = pattern.fullmatch(message)
        if found:
            return japanese.format(*found.groups())
    return None
