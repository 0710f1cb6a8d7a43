"""Sudachi's synonym groups of an index's words: the file a build writes beside the index
(`write_synonym_groups`) and the query side reads (`read_synonym_groups`, for search.query.synonyms)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from search.text.analysis import synonym_group_ids

SYNONYM_GROUPS_FILE = "synonym_groups.json"


def write_synonym_groups(terms: Iterable[str], generation_dir: Path) -> None:
    """Record which of `terms` (an index's words) belong to which Sudachi synonym group."""
    groups: dict[int, list[str]] = {}
    for term in terms:
        for group in synonym_group_ids(term):
            groups.setdefault(group, []).append(term)
    path = Path(generation_dir) / SYNONYM_GROUPS_FILE
    path.write_text(json.dumps(groups, ensure_ascii=False), encoding="utf-8")


def read_synonym_groups(generation_dir: Path) -> dict[int, list[str]]:
    """The groups recorded in a generation (none where the file is missing or unreadable)."""
    path = Path(generation_dir) / SYNONYM_GROUPS_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raw = {}
    return {int(group): words for group, words in raw.items()}
