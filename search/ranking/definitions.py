"""Definitions: the forms in which a text defines a term X, past a closing quote and a
parenthesised reading (「X」とは, X（えっくす）は、): X とは…, X は、…である, X は…のことである (をいう,
を指す, の総称, の略), …のことを X という (と呼ぶ), and X：… opening a paragraph or line; X opening
its clause (熟語ルビは、 defines 熟語ルビ, and 縦組のルビは、 says what a kind of ルビ is).

`standing` tells a paragraph defining the term from one naming it; `defining_query` is the query
tree of the substrings a defining paragraph holds, with which ranking finds the paragraphs defining
what a question asks about among all those holding it (BM25 puts a long definition far below the
short paragraphs that merely name the term). `defines` is the looser test of the reranker's
`defines` signal (X とは or X は、 wherever it stands), with which its weights were fitted.
"""

from __future__ import annotations

import re
from functools import lru_cache

from search.query.tree import And, Node, Or, Phrase
from search.text.analysis import fold

# Before the term, in folded text: the start of a clause (a definition's term opens it: 縦組のルビは
# is a kind of ルビ, and モノルビ, 熟語ルビ, 国家老大石内蔵助 are other terms): the start, a space, a
# punctuation mark or bracket, or a particle closing what came before (本書ではルビとは).
_CLAUSE_START = r"(?:(?<=^)|(?<=[\s、。,.!?！？「『\"(:・])|(?<=[はもでに]))"
# After the term, in folded text: a closing quote, then a reading or gloss in parentheses.
_QUOTE = r"[」』\"]"
_READING = r"\([^)]{0,60}\)"
_QUOTE_AND_READING = f"{_QUOTE}?(?:{_READING})?"
# Then what makes the sentence define it: とは, unless
# it asks (ルビとは何ですか？ is a question's heading), or は and an ending that defines.
_DEFINING = (
    r"(?:とは(?!\s*(?:何|なに|なん|どう|どんな|誰|いつ|どこ))"
    r"|は[^。.!?！？]{0,200}?(?:のこと|をいう|を言う|を指す|の総称|の略))"
)
# A bare は、 and a sentence ending as a definition does: である (not a story's のである), です.
_STATED = r"は[、,][^。.!?！？]{0,200}?(?<!の)(?:である|です)(?=[。.]|$)"
# Or the term named after what it is, the sentence ending there: …のことを X という (と呼ぶ, とよぶ,
# と称する; 私を先生という日 names no term).
_NAMED = (
    r"を[「『\"]?{term}[」』\"]?(?:という|と言う|と呼ぶ|とよぶ|と称する|と呼んでいる|とよんでいる)"
    r"(?=\s*(?:[。.,、(]|$))"
)
# Or the term opening a paragraph or line (after a bullet or an opening quote), then a colon.
_HEADWORD = r"(?:^|\n)\s*(?:[-*・•●■◆◇○]\s*)?[「『\"]?"
# The reranker's looser test: after the term, とは or は、 (past a closing quote and a reading).
_LOOSELY = r"[」』]?(?:[（(][^）)]{0,60}[）)])?(?:とは|は、)"
# The substrings of the forms, for the index: a term followed by…
_FOLLOWERS = ("とは", "は、", "は,", "」とは", "』とは", "(", ":")
# …or by は, where the paragraph also holds an ending of the は…のことである form.
_ENDINGS = ("のこと", "をいう", "を言う", "を指す", "の総称", "の略")
# …or preceded by を and followed by one of these (…のことを X という).
_NAMINGS = ("という", "と言う", "と呼", "とよ", "と称", "」と", "』と")


def defines(term: str, folded: str) -> bool:
    """Whether the folded text holds `term` (folded too) followed by とは or は、, past a closing
    quote and a reading: the reranker's `defines` signal."""
    return bool(_loose_pattern(term).search(folded))


def standing(term: str, folded: str) -> int:
    """How well the folded text answers what `term` is: 2 where it defines it in a form that
    only a definition takes (a bare X は、 only in a sentence ending in である or です: a story's
    every other sentence opens with 内蔵助は、), 1 where it names it, 0 where it does neither."""
    if term not in folded:
        return 0
    return 2 if _pattern(term).search(folded) else 1


@lru_cache(maxsize=256)
def _pattern(term: str) -> re.Pattern[str]:
    """The forms only a definition of `term` takes."""
    escaped = re.escape(term)
    opening = f"{_CLAUSE_START}{escaped}"
    forms = (
        f"{opening}{_QUOTE_AND_READING}{_DEFINING}",
        f"{opening}{_QUOTE_AND_READING}{_STATED}",
        f"{opening}{_QUOTE}?{_READING}は[、,]",
        f'(?<=[「『"]){escaped}{_QUOTE}は[、,]',
        _NAMED.format(term=escaped),
        f"{_HEADWORD}{escaped}{_QUOTE_AND_READING}\\s*:",
    )
    return re.compile("|".join(forms))


@lru_cache(maxsize=256)
def _loose_pattern(term: str) -> re.Pattern[str]:
    return re.compile(re.escape(term) + _LOOSELY)


def defining_query(term: str) -> Node:
    """The query tree matching the paragraphs that hold `term` in a defining form, as
    substrings of their folded text; what it finds is to be judged by `standing`."""
    folded = fold(term)
    followed = tuple(_substring(folded + after) for after in _FOLLOWERS)
    described = And((_substring(folded + "は"), Or(tuple(map(_substring, _ENDINGS)))))
    named = And(
        (
            Or((_substring("を" + folded), _substring("を「" + folded))),
            Or(tuple(_substring(folded + naming) for naming in _NAMINGS)),
        )
    )
    return Or((*followed, described, named))


def _substring(text: str) -> Phrase:
    """`text` as a substring of a paragraph's folded text (no words: they would drop the
    punctuation that makes the form)."""
    return Phrase(text, (), ())
