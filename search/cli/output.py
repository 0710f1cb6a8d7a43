"""Output: how `kensaku search` prints its results, for a person or for another program.

- `text`: a header saying how many paragraphs match, then each hit: rank, citation, paragraph
  number, title (and score, when asked for) on one line cut to the terminal's width, the
  snippet, the places of its repeats;
- `vimgrep`: `path:line:column:snippet`, a line a place (a hit and each of its repeats), for an
  editor's quickfix list; the column is the first match's, in bytes as Vim and ripgrep count;
- `files`, `counts`: the documents with a match (`-l`), or `path:count` (`-c`);
- `json`: the results' JSON form, each hit and place with its `path`.

Paths are as the user can open them from the current directory: relative to it when the document
is below it, else absolute. Every text that came from a document or a query is printed with its
control characters made visible (see terminal).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from search.cli.terminal import cells, fit, printable

if TYPE_CHECKING:  # the CLI imports this module before it needs the index's heavy imports
    from search.results.hits import Hit, Place, SearchResults

TITLE_CHARS = 40  # the most of a title shown when the width is not known (output to a pipe)
_MIN_TITLE_CELLS = 6  # narrower than this, a title is left out
# Formats whose paragraph is its line of the file as written, so a match's column is exact.
_LINE_FORMATS = (".txt", ".text")

PathOf = Callable[[str], str]


def path_maker(docs_dir: Path | None, cwd: Path | None = None) -> PathOf:
    """A function from a source (relative to the documents folder) to the path to show."""
    if docs_dir is None:
        return lambda source: source
    docs = Path(os.path.abspath(docs_dir))
    here = Path(os.path.abspath(cwd or os.getcwd()))

    def path_of(source: str) -> str:
        path = docs / source
        try:
            return str(path.relative_to(here))
        except ValueError:
            return str(path)

    return path_of


def citation_of(place: Hit | Place, path: str | None = None) -> str:
    """`file:line` (`file:line:column` inside a long line), or `file p.N` for a paged document;
    `path` names the file instead of the place's source."""
    path = place.source if path is None else path
    if place.page is not None:
        return f"{path} p.{place.page}"
    column = getattr(place, "column", 1)
    return f"{path}:{place.line}" + (f":{column}" if column > 1 else "")


def header(results: SearchResults) -> str:
    """What the first line says: how many paragraphs match, and which hits follow."""
    query = printable(_with_option_filters(results))
    if not results.total:
        return f"no paragraph matches {query}"
    matching = counted(results.total, "paragraph")
    if results.relaxed:
        lead = (
            f"no paragraph has all of {query}; {matching} "
            f"{'has' if results.total == 1 else 'have'} some of its words"
        )
    else:
        lead = f"{matching} {'matches' if results.total == 1 else 'match'} {query}"
    shown = len(results.hits)
    partial = sum(hit.partial for hit in results.hits)
    if partial and not results.relaxed and not results.offset:
        return f"{lead}; then {counted(partial, 'hit')} with some of its words"
    if results.offset:
        if not shown:
            return f"{lead}; none after the first {results.offset} hits"
        first, last = results.offset + 1, results.offset + shown
        return (
            f"{lead}, showing hits {first}–{last}"
            if last > first
            else f"{lead}, showing hit {first}"
        )
    if results.more:
        return f"{lead}, showing the best {shown}"
    if shown < results.total:
        return f"{lead}: {counted(shown, 'hit')}, repeats cited together"
    return lead


def _with_option_filters(results: SearchResults) -> str:
    """The query, followed by the filters in force that it does not name (the options')."""
    from search.query.parser import split_filters  # imported by the search already

    named = set(split_filters(results.query)[1].terms)
    added = [term for term in results.filters.terms if term not in named]
    return " ".join([results.query, *added])


def text(
    results: SearchResults,
    path_of: PathOf,
    color: bool,
    width: int | None,
    scores: bool = False,
) -> Iterator[str]:
    """The lines for a person: the header, then each hit; `width` is the terminal's, or None;
    `scores` shows each hit's score (an order, not a measure a reader can use: see docs/searching.md, JSON)."""
    yield header(results)
    for hit in results.hits:
        yield ""
        yield _hit_line(hit, path_of, color, width, scores)
        yield "    " + _highlighted(printable(hit.snippet), hit.snippet_highlights, color)
        if hit.also:
            places = ", ".join(citation_of(place, path_of(place.source)) for place in hit.also)
            yield _style(f"    also at {printable(places)}", color, dim=True)


def _hit_line(hit: Hit, path_of: PathOf, color: bool, width: int | None, scores: bool) -> str:
    """`rank. citation  ¶N  title`, then `(score)` when `scores`, the title cut (or left out, then
    the score) to fit; `some of the words` after it for a hit holding only some of the query."""
    citation = printable(citation_of(hit, path_of(hit.source)))
    rank, paragraph = f"{hit.rank:>2}. ", f"  ¶{hit.paragraph}"
    partial = "  some of the words" if hit.partial else ""
    used = cells(rank) + cells(citation) + cells(paragraph) + cells(partial)
    score = f"  ({hit.score:.2f})" if scores else ""
    title = "" if is_file_name(hit.title, hit.source) else printable(hit.title)
    room = width - 1 if width else None
    if room is not None and used + cells(score) > room:
        score = ""
    if title:
        title_room = TITLE_CHARS if room is None else room - used - cells(score) - 2
        title = f"  {fit(title, title_room)}" if title_room >= _MIN_TITLE_CELLS else ""
    return (
        f"{rank}{_style(citation, color, fg='cyan')}{paragraph}{title}{score}"
        f"{_style(partial, color, fg='yellow')}"
    )


def is_file_name(title: str, source: str) -> bool:
    """Whether a title only repeats the file name (a document that gives itself no title)."""
    name = source.rpartition("/")[2]
    return title in (name, name.rpartition(".")[0])


def vimgrep(
    results: SearchResults, path_of: PathOf, line_before: Callable[[Hit], str], color: bool
) -> Iterator[str]:
    """`path:line:column:snippet` for each hit and each of its repeats."""
    for hit in results.hits:
        snippet = _highlighted(printable(hit.snippet), hit.snippet_highlights, color)
        column = _bytes_before_match(hit) + 1
        before = len(line_before(hit).encode("utf-8")) if hit.column > 1 else 0
        places: list[tuple[Hit | Place, int]] = [(hit, before + column)]
        places += [(place, column) for place in hit.also]
        for place, at in places:
            path = _style(printable(path_of(place.source)), color, fg="magenta")
            yield f"{path}:{place.line}:{at}:{snippet}"


def _bytes_before_match(hit: Hit) -> int:
    """Bytes of the paragraph before its first match, in a file whose paragraph is its line as
    written; 0 (the paragraph's start) for formats whose text is not the file's."""
    if not hit.highlights or not hit.source.lower().endswith(_LINE_FORMATS):
        return 0
    return len(hit.text[: hit.highlights[0][0]].encode("utf-8"))


def files(by_source: dict[str, int], path_of: PathOf, color: bool) -> Iterator[str]:
    """The path of each document with a match (`-l`), the best match's first."""
    for source in by_source:
        yield _style(printable(path_of(source)), color, fg="magenta")


def counts(by_source: dict[str, int], path_of: PathOf, color: bool) -> Iterator[str]:
    """`path:count` of each document with a match (`-c`), the best match's first."""
    for source, count in by_source.items():
        yield f"{_style(printable(path_of(source)), color, fg='magenta')}:{count}"


def as_json(results: SearchResults, path_of: PathOf) -> str:
    data = results.to_dict()
    # Each hit and place with its path as the command line names it, beside the contract.
    hits: list[dict[str, Any]] = [dict(hit) for hit in data["hits"]]
    for hit in hits:
        hit["path"] = path_of(hit["source"])
        hit["also"] = [{**place, "path": path_of(place["source"])} for place in hit["also"]]
    return json.dumps({**data, "hits": hits}, ensure_ascii=False, indent=2)


def _style(text: str, color: bool, **style) -> str:
    """`text` in colour; nothing at all for no text (no empty escape sequence)."""
    return click.style(text, **style) if color and text else text


def _highlighted(text: str, spans, color: bool) -> str:
    if not color:
        return text
    pieces, at = [], 0
    for start, end in spans:
        pieces.append(text[at:start])
        pieces.append(_style(text[start:end], color, fg="red", bold=True))
        at = end
    pieces.append(text[at:])
    return "".join(pieces)


def counted(number: int, noun: str) -> str:
    """`1 hit`, `2 hits`."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
