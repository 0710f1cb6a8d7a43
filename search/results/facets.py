"""Facets: how the paragraphs a search matches (all of them, not only the page shown) fall by
their documents' format, folder and year, each count with the documents it comes from.

The folders counted are those at the top of the documents folder, or, once a search keeps to one
folder (`path:報告書`), the folders in it (報告書/2024, 報告書/2025); its own files are in none.
Counting is one pass over the matches' document numbers (numpy), then one over the documents
that hold any.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TypedDict

from search.engine.documents import Documents
from search.query.filters import format_of


class FacetValueJSON(TypedDict):
    """One value of a facet: the paragraphs matching there, and their documents."""

    value: str
    count: int
    documents: int


class FacetsJSON(TypedDict):
    """The facets of a search, in the JSON contract: by format and folder (most matches first)
    and by year (latest first)."""

    format: list[FacetValueJSON]
    folder: list[FacetValueJSON]
    year: list[FacetValueJSON]


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int  # matching paragraphs
    documents: int  # documents holding them

    def to_dict(self) -> FacetValueJSON:
        return {"value": self.value, "count": self.count, "documents": self.documents}


@dataclass(frozen=True)
class Facets:
    """The matches by `format` (text, markdown, html, pdf, docx, epub), by `folder` (the folders
    of `folder_base`, "" for the documents folder, by their path from it) and by `year`."""

    format: list[FacetValue] = field(default_factory=list)
    folder: list[FacetValue] = field(default_factory=list)
    year: list[FacetValue] = field(default_factory=list)
    folder_base: str = ""

    def to_dict(self) -> FacetsJSON:
        return {
            "format": [value.to_dict() for value in self.format],
            "folder": [value.to_dict() for value in self.folder],
            "year": [value.to_dict() for value in self.year],
        }


def count_facets(documents: Documents, matched: Collection[int], folder_base: str = "") -> Facets:
    """The facets of the paragraphs `matched` (docnums: a numpy array, or any collection)."""
    import numpy

    if not isinstance(matched, numpy.ndarray):
        matched = numpy.fromiter(matched, dtype=numpy.int64, count=len(matched))
    per_document = numpy.bincount(documents.of[matched], minlength=len(documents))
    tallies: dict[str, dict[str, list[int]]] = {"format": {}, "folder": {}, "year": {}}
    held = numpy.flatnonzero(per_document)
    for number, count in zip(held.tolist(), per_document[held].tolist()):
        source = documents.sources[number]
        day = int(documents.days[number])
        keys = {
            "format": format_of(source),
            "folder": folder_of(source, folder_base),
            "year": str(day // 10_000) if day else "",
        }
        for facet, key in keys.items():
            if key:
                tally = tallies[facet].setdefault(key, [0, 0])
                tally[0] += count
                tally[1] += 1
    return Facets(
        _values(tallies["format"], by_count=True),
        _values(tallies["folder"], by_count=True),
        _values(tallies["year"], by_count=False),
        folder_base,
    )


def folder_of(source: str, base: str) -> str:
    """The folder of `base` ("": the documents folder) that holds `source`, by its path; "" for a
    source directly in `base` or outside it."""
    prefix = base.strip("/") + "/" if base.strip("/") else ""
    if not source.startswith(prefix):
        return ""
    rest = source[len(prefix) :]
    slash = rest.find("/")
    return prefix + rest[:slash] if slash > 0 else ""


def _values(tally: dict[str, list[int]], by_count: bool) -> list[FacetValue]:
    values = [FacetValue(key, count, docs) for key, (count, docs) in tally.items()]
    if by_count:
        return sorted(values, key=lambda value: (-value.count, value.value))
    return sorted(values, key=lambda value: value.value, reverse=True)
