"""Facets: how the paragraphs a search matches (all of them, not only the page shown) fall by
their documents' format, folder and year, each count with the documents it comes from.

The folders counted are those at the top of the documents folder, or, once a search keeps to one
folder (`path:報告書`), the folders in it (報告書/2024, 報告書/2025); its own files are in none.
Counting is one pass over the matches' document numbers (numpy), then one over the documents'
values of each facet, which are worked out once for an open index. A sharded index's shards count
their own matches, and their facets are added up.
"""

from __future__ import annotations

import weakref
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict

from search.engine.documents import Documents
from search.query.filters import format_of


class FacetValueJSON(TypedDict):
    """One value of a facet: the paragraphs matching there, and their documents."""

    value: Annotated[str, "The format, folder or year."]
    count: Annotated[int, "The matching paragraphs there."]
    documents: Annotated[int, "The documents those paragraphs come from."]


class FacetsJSON(TypedDict):
    """The facets of a search, in the JSON contract: by format and folder (most matches first)
    and by year (latest first)."""

    format: Annotated[list[FacetValueJSON], "By format, most matches first."]
    folder: Annotated[
        list[FacetValueJSON], "By top folder (or by folder within a path: filter), most first."
    ]
    year: Annotated[list[FacetValueJSON], "By year of the documents' dates, latest first."]


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
    held = (per_document > 0).astype(numpy.int64)
    values = {}
    for facet in ("format", "folder", "year"):
        codes, names = _facet_table(documents, facet, folder_base)
        kept = codes >= 0
        counts = numpy.bincount(codes[kept], per_document[kept], minlength=len(names))
        holding = numpy.bincount(codes[kept], held[kept], minlength=len(names))
        values[facet] = [
            FacetValue(names[code], int(counts[code]), int(holding[code]))
            for code in numpy.flatnonzero(counts).tolist()
        ]
    return Facets(
        _ordered(values["format"], by_count=True),
        _ordered(values["folder"], by_count=True),
        _ordered(values["year"], by_count=False),
        folder_base,
    )


def merged_facets(parts: list[Facets]) -> Facets:
    """The facets of a collection of shards, from each shard's: counts and documents added up
    (a document is in one shard), in the order one index gives them."""
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return Facets()
    values: dict[str, list[FacetValue]] = {}
    for facet in ("format", "folder", "year"):
        added: dict[str, tuple[int, int]] = {}
        for part in parts:
            for one in getattr(part, facet):
                count, documents = added.get(one.value, (0, 0))
                added[one.value] = (count + one.count, documents + one.documents)
        values[facet] = [FacetValue(value, *counts) for value, counts in added.items()]
    return Facets(
        _ordered(values["format"], by_count=True),
        _ordered(values["folder"], by_count=True),
        _ordered(values["year"], by_count=False),
        parts[0].folder_base,
    )


# Per open index's Documents, and per facet (and folder base): each document's value's number
# (-1: none) and the values, worked out once.
_TABLES: weakref.WeakKeyDictionary[Documents, dict[tuple[str, str], tuple[Any, list[str]]]] = (
    weakref.WeakKeyDictionary()
)


def _facet_table(documents: Documents, facet: str, folder_base: str) -> tuple[Any, list[str]]:
    import numpy

    tables = _TABLES.setdefault(documents, {})
    key = (facet, folder_base if facet == "folder" else "")
    found = tables.get(key)
    if found is None:
        keys = [
            _value_of(facet, source, day, folder_base)
            for source, day in zip(documents.sources, documents.days.tolist())
        ]
        names = sorted(set(keys) - {""})
        number = {name: at for at, name in enumerate(names)}
        codes = numpy.array([number.get(key, -1) for key in keys], dtype=numpy.int64)
        found = tables[key] = (codes, names)
    return found


def _value_of(facet: str, source: str, day: int, folder_base: str) -> str:
    """A document's value of a facet ("" for none)."""
    if facet == "format":
        return format_of(source)
    if facet == "folder":
        return folder_of(source, folder_base)
    return str(day // 10_000) if day else ""


def folder_of(source: str, base: str) -> str:
    """The folder of `base` ("": the documents folder) that holds `source`, by its path; "" for a
    source directly in `base` or outside it."""
    prefix = base.strip("/") + "/" if base.strip("/") else ""
    if not source.startswith(prefix):
        return ""
    rest = source[len(prefix) :]
    slash = rest.find("/")
    return prefix + rest[:slash] if slash > 0 else ""


def _ordered(values: list[FacetValue], by_count: bool) -> list[FacetValue]:
    if by_count:
        return sorted(values, key=lambda value: (-value.count, value.value))
    return sorted(values, key=lambda value: value.value, reverse=True)
