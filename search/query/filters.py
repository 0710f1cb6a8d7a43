"""Filters: what narrows a search to some documents, whatever its words: their format, their
path, their date. Plain data that the parser reads from the query (`format:pdf`, `path:報告書/*`,
`after:2024-01-01`, `before:2024-07`, each negated by a leading `-`) and the command line, the
API and the page give as options; the search keeps the paragraphs of the documents they admit.

- format: the reader's name of a document's format (`FORMATS`), from its file name's suffix;
  several values (`format:pdf,docx`, or the filter twice) admit any of them.
- path: a folder or file by its path from the documents folder (`報告書/2024`: it and all it
  holds), or a glob in .gitignore's syntax where it has `*`, `?` or `[` (`*.pdf` at any depth,
  `報告書/*/議事録*`: a glob with a `/` is anchored at the documents folder, and matching a folder
  matches all it holds); several admit any of them.
- after / before: the document's date (its own where its format gives one, else the file's
  modification time) on or after the start of a day, month or year (`after:2024`), or before
  it (`before:2024-07`: June at the latest).
Negated filters (`-format:pdf`, `-path:drafts`) leave out what they would admit.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field, replace
from functools import cached_property

from search.errors import QuerySyntaxError

# Suffix -> format, as the readers take them (search.ingest.readers).
FORMATS = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".epub": "epub",
}
FORMAT_NAMES = ("text", "markdown", "html", "pdf", "docx", "epub")
# What else a user may call a format: ripgrep's type names and the suffixes themselves.
_FORMAT_ALIASES = {"txt": "text", "md": "markdown", "htm": "html", "xhtml": "html", "word": "docx"}
FILTER_KINDS = ("format", "path", "after", "before")
SORTS = ("relevance", "date")  # how hits are ordered: best first, or newest first
_DATE = re.compile(r"(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?")
_GLOB_CHARS = "*?["


def format_of(source: str) -> str:
    """The format of the document `source`, by its suffix ("" for none kensaku reads)."""
    dot = source.rfind(".")
    return FORMATS.get(source[dot:].lower(), "") if dot >= 0 else ""


def format_name(value: str) -> str:
    """The format a user's name stands for (pdf, PDF, .pdf, md, txt); QuerySyntaxError if none."""
    name = value.strip().lower().lstrip(".")
    name = _FORMAT_ALIASES.get(name, name)
    if name not in FORMAT_NAMES:
        raise QuerySyntaxError(
            f"unknown format {value!r}: use one of {', '.join(FORMAT_NAMES)} (or txt, md)"
        )
    return name


def day_number(value: str, kind: str = "after") -> int:
    """The first day of the year, month or day `value` names (2024, 2024-07, 2024-07-15,
    2024/7/15) as YYYYMMDD; QuerySyntaxError for anything else."""
    found = _DATE.fullmatch(value.strip())
    if not found:
        raise QuerySyntaxError(
            f"{kind}: needs a date as YYYY, YYYY-MM or YYYY-MM-DD, not {value!r}"
        )
    year, month, day = (int(part) if part else 1 for part in found.groups())
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(max(year, 1), month)[1]):
        raise QuerySyntaxError(f"{kind}: {value!r} is not a date")
    return year * 10_000 + month * 100 + day


def shown_day(number: int) -> str:
    """YYYYMMDD as YYYY-MM-DD."""
    return f"{number // 10_000:04d}-{number // 100 % 100:02d}-{number % 100:02d}"


def normal_path(pattern: str) -> str:
    """A path pattern as it is matched: `/` separators, no leading `./` or `/` for a plain path."""
    pattern = pattern.strip().replace("\\", "/")
    if not pattern.strip("/"):
        raise QuerySyntaxError("path: needs a folder, a file or a glob, as in path:報告書/2024")
    if not any(char in pattern for char in _GLOB_CHARS):
        pattern = pattern.removeprefix("./").lstrip("/")
    return pattern


@dataclass(frozen=True)
class Filters:
    """Which documents a search keeps: any of `formats` (all when empty), none of `not_formats`,
    any of `paths`, none of `not_paths`, dated on or after `after` and before `before`
    (YYYYMMDD, or None for no bound)."""

    formats: tuple[str, ...] = ()
    not_formats: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    not_paths: tuple[str, ...] = ()
    after: int | None = None
    before: int | None = None
    # Compiled path patterns, cached: each Filters (replace() makes a new one) starts without.
    _specs: dict = field(init=False, default_factory=dict, compare=False, repr=False, hash=False)

    def __bool__(self) -> bool:
        return bool(
            self.formats
            or self.not_formats
            or self.paths
            or self.not_paths
            or self.after is not None
            or self.before is not None
        )

    @classmethod
    def of(
        cls,
        formats: tuple[str, ...] | list[str] = (),
        paths: tuple[str, ...] | list[str] = (),
        after: str | None = None,
        before: str | None = None,
    ) -> Filters:
        """Filters from options as a user gives them: format names (a leading `!` or `-` leaves
        one out; commas separate several), path patterns (`!` leaves out, as ripgrep's -g),
        dates; QuerySyntaxError for one that cannot be read."""
        filters = cls()
        for value in formats:
            for name in value.split(","):
                if name.strip():
                    negated = name.strip()[0] in "!-"
                    filters = filters.with_filter("format", name.strip().lstrip("!-"), negated)
        for pattern in paths:
            negated = pattern.startswith("!")
            filters = filters.with_filter("path", pattern[1:] if negated else pattern, negated)
        for kind, date in (("after", after), ("before", before)):
            if date:
                filters = filters.with_filter(kind, date)
        return filters

    def with_filter(self, kind: str, value: str, negated: bool = False) -> Filters:
        """These filters and one more of `kind` (FILTER_KINDS)."""
        if kind == "format":
            names = tuple(format_name(name) for name in value.split(",") if name.strip())
            if not names:
                raise QuerySyntaxError("format: needs a format, as in format:pdf")
            if negated:
                return replace(self, not_formats=_added(self.not_formats, names))
            return replace(self, formats=_added(self.formats, names))
        if kind == "path":
            pattern = normal_path(value)
            if negated:
                return replace(self, not_paths=_added(self.not_paths, (pattern,)))
            return replace(self, paths=_added(self.paths, (pattern,)))
        if negated:
            raise QuerySyntaxError(f"-{kind}: cannot be negated; use {_opposite(kind)}: instead")
        day = day_number(value, kind)
        if kind == "after":
            return replace(self, after=max(day, self.after or day))
        if kind == "before":
            return replace(self, before=min(day, self.before or day))
        raise QuerySyntaxError(f"unknown filter {kind}:")

    def merged(self, other: Filters) -> Filters:
        """Both filters at once (a query's own and the options')."""
        return replace(
            self,
            formats=_added(self.formats, other.formats),
            not_formats=_added(self.not_formats, other.not_formats),
            paths=_added(self.paths, other.paths),
            not_paths=_added(self.not_paths, other.not_paths),
            after=_bound(max, self.after, other.after),
            before=_bound(min, self.before, other.before),
        )

    def admits(self, source: str, day: int) -> bool:
        """Whether the document `source`, dated `day` (YYYYMMDD), is kept."""
        if self.after is not None and day < self.after:
            return False
        if self.before is not None and day >= self.before:
            return False
        if self.formats or self.not_formats:
            kind = format_of(source)
            if (self.formats and kind not in self.formats) or kind in self.not_formats:
                return False
        if self.paths and not self._matches(self.paths, source):
            return False
        return not (self.not_paths and self._matches(self.not_paths, source))

    def _matches(self, patterns: tuple[str, ...], source: str) -> bool:
        return any(_path_matches(pattern, source, self._specs) for pattern in patterns)

    @cached_property
    def terms(self) -> tuple[str, ...]:
        """The filters in the query syntax, one a term (format:pdf, -path:drafts, after:2024-01-01)."""
        return (
            *(f"format:{name}" for name in self.formats),
            *(f"-format:{name}" for name in self.not_formats),
            *(f"path:{pattern}" for pattern in self.paths),
            *(f"-path:{pattern}" for pattern in self.not_paths),
            *([f"after:{shown_day(self.after)}"] if self.after is not None else []),
            *([f"before:{shown_day(self.before)}"] if self.before is not None else []),
        )

    @property
    def folder(self) -> str:
        """The one folder these filters keep to (a plain path, `報告書/2024`), or "" for none: the
        folder whose subfolders a facet counts."""
        if len(self.paths) != 1 or any(char in self.paths[0] for char in _GLOB_CHARS):
            return ""
        return self.paths[0].rstrip("/")


def _added(have: tuple[str, ...], more: tuple[str, ...]) -> tuple[str, ...]:
    return have + tuple(value for value in more if value not in have)


def _bound(pick, first: int | None, second: int | None) -> int | None:
    if first is None or second is None:
        return first if second is None else second
    return pick(first, second)


def _opposite(kind: str) -> str:
    return "before" if kind == "after" else "after"


def _path_matches(pattern: str, source: str, specs: dict) -> bool:
    """Whether `source` is the file or folder `pattern` names, or lies in it, or matches it as a
    glob (.gitignore's syntax, pathspec compiled once per pattern in `specs`)."""
    if not any(char in pattern for char in _GLOB_CHARS):
        folder = pattern.rstrip("/")
        return source == folder or source.startswith(folder + "/")
    spec = specs.get(pattern)
    if spec is None:
        from pathspec import GitIgnoreSpec

        spec = specs[pattern] = GitIgnoreSpec.from_lines([pattern])
    return bool(spec.match_file(source))
