"""Synonyms: expand query phrases with other words for the same thing, at query time.

Two sources, combined:
- a synonyms file in Solr's format: `a, b, c` makes each of a, b and c find the others;
  `a, b => c` makes a and b also find c; `#` starts a comment;
- Sudachi's synonym groups (opt in): a word finds the words of the collection that share one of its
  synonym groups (米国 finds アメリカ). The index records, for each group, the words it holds.
Expansions are alternatives of the phrase they expand, ranked below every literal match.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from search.errors import KensakuError
from search.query.parser import make_phrase
from search.query.tree import Phrase
from search.text.analysis import synonym_group_ids
from search.text.synonym_groups import read_synonym_groups


class SynonymsFileError(KensakuError):
    exit_code = 2


def _key(text: str) -> tuple[str, ...]:
    phrase = make_phrase(text)
    return phrase.words if isinstance(phrase, Phrase) else ()


class SynonymTable:
    """Solr-format synonyms: which phrases each phrase also finds, keyed by its words."""

    def __init__(self) -> None:
        self._expansions: dict[tuple[str, ...], list[str]] = {}

    @classmethod
    def read(cls, path: Path) -> SynonymTable:
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise SynonymsFileError(f"cannot read the synonyms file {path}: {error}") from None
        table = cls()
        for number, line in enumerate(text.splitlines(), start=1):
            table.add_rule(line.split("#", 1)[0], f"{path}:{number}")
        return table

    def add_rule(self, rule: str, where: str = "rule") -> None:
        """Add one line of Solr syntax."""
        if not rule.strip():
            return
        left, arrow, right = rule.partition("=>")
        sources = _entries(left)
        targets = _entries(right) if arrow else sources
        if not sources or (arrow and not targets):
            raise SynonymsFileError(f"{where}: a synonym rule needs words on each side of =>")
        for source in sources:
            key = _key(source)
            if not key:
                continue
            known = self._expansions.setdefault(key, [])
            known += [t for t in targets if _key(t) != key and t not in known]

    def expansions(self, phrase: Phrase) -> list[str]:
        return list(self._expansions.get(phrase.words, ()))


def _entries(side: str) -> list[str]:
    return [entry.strip() for entry in side.split(",") if entry.strip()]


class SudachiSynonyms:
    """Sudachi's synonym groups, limited to the words an index holds."""

    def __init__(self, groups: dict[int, list[str]]) -> None:
        self._groups = groups

    @classmethod
    def of_index(cls, generation_dir: Path) -> SudachiSynonyms:
        return cls(read_synonym_groups(generation_dir))

    @classmethod
    def of_indexes(cls, generation_dirs: list[Path]) -> SudachiSynonyms:
        """The groups of the words any of these indexes holds (the shards of a collection),
        each group's words in the order one index of them all lists them (its lexicon's)."""
        if len(generation_dirs) == 1:
            return cls.of_index(generation_dirs[0])
        groups: dict[int, set[str]] = {}
        for generation_dir in generation_dirs:
            for group, words in read_synonym_groups(generation_dir).items():
                groups.setdefault(group, set()).update(words)
        return cls({group: sorted(words) for group, words in groups.items()})

    def expansions(self, phrase: Phrase) -> list[str]:
        if len(phrase.words) != 1:
            return []
        found: list[str] = []
        for group in synonym_group_ids(phrase.text):
            found += [
                w for w in self._groups.get(group, ()) if w != phrase.words[0] and w not in found
            ]
        return found


def expander(*sources) -> Callable[[Phrase], list[Phrase]]:
    """One function giving a phrase's alternatives from every source."""

    def alternatives(phrase: Phrase) -> list[Phrase]:
        texts: list[str] = []
        for source in sources:
            texts += [t for t in source.expansions(phrase) if t not in texts]
        return [alt for alt in (make_phrase(t) for t in texts) if isinstance(alt, Phrase)]

    return alternatives
