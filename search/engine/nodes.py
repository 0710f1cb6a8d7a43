"""Plan nodes the engine runs beside Whoosh's own queries: a tier bonus added to every match's
score (`Bonus`), a substring kept to Latin word bounds (`Bounded`), and the terms of a field
matched folded (`FoldedPattern`, for `source:`). Whoosh's own matchers run them too (the tests
hold the engine's scores against them)."""

from __future__ import annotations

import re

from whoosh import matching
from whoosh.query import PatternQuery
from whoosh.query.wrappers import WrappingQuery

from search.index.schema import PARAGRAPH_TEXT
from search.text.analysis import fold
from search.text.word_bounds import at_word_bounds


class _Setting(WrappingQuery):
    """A wrapping query with one setting of its own, compared and rewrapped with its child."""

    def __init__(self, child, setting) -> None:
        WrappingQuery.__init__(self, child)
        self.setting = setting

    def __eq__(self, other):
        return type(other) is type(self) and (self.child, self.setting) == (
            other.child,
            other.setting,
        )

    def __hash__(self):
        return hash(self.child) ^ hash(self.setting)

    def _rewrap(self, child):
        return type(self)(child, self.setting)


class Bonus(_Setting):
    """Adds a constant (`bonus`) to the score of every match of the wrapped query."""

    @property
    def bonus(self) -> float:
        return self.setting

    def matcher(self, searcher, context=None):
        inner = self.child.matcher(searcher, context)
        if isinstance(inner, matching.NullMatcherClass):
            return inner
        return _BonusMatcher(inner, self.bonus)


class _BonusMatcher(matching.WrappingMatcher):
    def __init__(self, child, bonus: float) -> None:
        matching.WrappingMatcher.__init__(self, child)
        self.bonus = bonus

    def copy(self):
        return _BonusMatcher(self.child.copy(), self.bonus)

    def _replacement(self, newchild):
        return _BonusMatcher(newchild, self.bonus)

    def skip_to_quality(self, minquality):
        return self.child.skip_to_quality(minquality - self.bonus)

    def max_quality(self):
        return self.child.max_quality() + self.bonus

    def block_quality(self):
        return self.child.block_quality() + self.bonus

    def score(self):
        return self.child.score() + self.bonus


class Bounded(_Setting):
    """The wrapped query's matches (a substring's bigrams) in paragraphs where the substring
    (`folded`) stands at least once at Latin word boundaries (`at_word_bounds`), judged on the
    stored text."""

    @property
    def folded(self) -> str:
        return self.setting

    def admits(self, text: str) -> bool:
        """Whether the substring stands at word boundaries somewhere in `text`."""
        haystack, needle = fold(text), self.folded
        at = haystack.find(needle)
        while at >= 0:
            if at_word_bounds(haystack, at, at + len(needle)):
                return True
            at = haystack.find(needle, at + 1)
        return False

    def matcher(self, searcher, context=None):
        inner = self.child.matcher(searcher, context)
        if isinstance(inner, matching.NullMatcherClass):
            return inner
        # A second matcher to list the matches: Whoosh's leaf matchers cannot be copied.
        admitted = {
            docnum
            for docnum in self.child.matcher(searcher, context).all_ids()
            if self.admits(searcher.stored_fields(docnum)[PARAGRAPH_TEXT])
        }
        return matching.FilterMatcher(inner, admitted)


class FoldedPattern(PatternQuery):
    """The paragraphs holding a term of the field that the regular expression `text` matches
    whole once folded (analysis.fold: NFKC, case-folded), so that a pattern finds a file name
    whatever its case, width or Unicode form (macOS writes が as か and a combining mark)."""

    def _btexts(self, ixreader):
        pattern = re.compile(self.text, re.DOTALL)
        for btext in ixreader.lexicon(self.fieldname):
            if pattern.fullmatch(fold(btext.decode("utf-8"))):
                yield btext
