"""Sudachi's synonym groups of an index's words: the file a build writes beside the index
(`SynonymGroups`, `write_synonym_groups`) and the query side reads (`read_synonym_groups`, for
search.query.synonyms)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from search.text.analysis import synonym_group_ids

SYNONYM_GROUPS_FILE = "synonym_groups.json"


class SynonymGroups:
    """The synonym groups of words added a few at a time (a build adds each segment's words as
    it is written), each word looked up once however often it is added."""

    def __init__(self) -> None:
        self._words: set[str] = set()
        self._groups: dict[str, list[int]] = {}  # a word in a group or more: its groups

    def add(self, words: Iterable[str]) -> None:
        """Look up the words not added before."""
        known, groups = self._words, self._groups
        for word in words:
            if word not in known:
                known.add(word)
                found = synonym_group_ids(word)
                if found:
                    groups[word] = found

    def write(self, generation_dir: Path) -> None:
        """Record which of the words belong to which group: each group's words in order, the
        groups in the order of their first word."""
        groups: dict[int, list[str]] = {}
        for word in sorted(self._groups):
            for group in self._groups[word]:
                groups.setdefault(group, []).append(word)
        path = Path(generation_dir) / SYNONYM_GROUPS_FILE
        path.write_text(json.dumps(groups, ensure_ascii=False), encoding="utf-8")


def write_synonym_groups(terms: Iterable[str], generation_dir: Path) -> None:
    """Record which of `terms` (an index's words) belong to which Sudachi synonym group."""
    groups = SynonymGroups()
    groups.add(terms)
    groups.write(generation_dir)


def read_synonym_groups(generation_dir: Path) -> dict[int, list[str]]:
    """The groups recorded in a generation (none where the file is missing or unreadable)."""
    path = Path(generation_dir) / SYNONYM_GROUPS_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raw = {}
    return {int(group): words for group, words in raw.items()}
