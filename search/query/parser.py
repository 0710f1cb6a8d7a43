"""The parser: what the user typed, read into a `ParsedQuery`: its tree (search.query.tree) and
all else the rest of a search needs of the text, so that nothing after parsing reads the text again.

The syntax is what search boxes accept:
- words separated by spaces must all match (AND); `OR` between them, either;
- `NOT word` or `-word` excludes; parentheses group; `"quoted text"` is a phrase;
- `source:PATTERN` keeps paragraphs of the documents PATTERN names, as .gitignore reads it (see
  plan.source_regex: without `/`, a file or folder name at any depth); `source:"a name.txt"`
  quotes one holding spaces;
- `format:pdf`, `path:報告書/2024/*`, `after:2024-01-01`, `before:2024-07` (each negated by a
  leading `-`) narrow the whole query to some documents, wherever they stand (search.query.filters);
  a query of filters alone keeps every paragraph of the documents they admit;
- a run typed without spaces is a phrase: ピラー2 is the words ピラー and 2, next to each other.
Operators are upper case; `and`, `or` and `not` are ordinary words.

A natural-language question (日本で梅雨がないのは北海道とどこか。) is read as a `Question`: any of
its content words may match; `mode="auto"` recognizes one by its ending or its particles. A question
asking only what a term is (ルビとは何ですか？, ルビとは) names that term (`ParsedQuery.defined`), for
ranking to look for the paragraphs defining it. A sentence that asks nothing (智に働けば角が立つ) is
also read as keywords (`ParsedQuery.verbatim`), to be looked for as typed before it is taken
for a question.

A keyword query typed without syntax is read with soft AND (`ParsedQuery.soft_parts`): paragraphs
holding all its parts first, then those holding some; a phrase found nowhere is looked for by its
whole words (`ParsedQuery.relaxed_words`). Synonyms are added to a tree by `expand`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, get_args

from search.errors import QuerySyntaxError
from search.query.filters import FILTER_KINDS, Filters
from search.query.tree import (
    And,
    Node,
    Not,
    Or,
    Phrase,
    Question,
    SourceFilter,
    Synonyms,
    phrases,
)
from search.text.analysis import analyze, counters_after_numbers, fold, runs, without_ignored

# How a query is read: its syntax decides ("auto"), keywords, or a question.
Mode = Literal["auto", "keyword", "question"]
MODES: tuple[str, ...] = get_args(Mode)
_OPERATORS = {"AND", "OR", "NOT"}
MAX_QUERY_CHARS = 1_000
MAX_DEPTH = 32  # parentheses and NOTs nested
MAX_TERMS = 64  # phrases in a keyword query; words of a question beyond it are left out
_SOURCE_PREFIX = "source:"
_SPECIAL = '()"'
_QUESTION_END = re.compile(r"([?？。]|は|とは|って)\s*$")
_QUESTION_WORDS = re.compile(
    r"(何|なに|なん|誰|だれ|どこ|いつ|どの|どれ|どう|なぜ|幾つ|いくつ|いくら)"
)


# What a sentence that asks something holds: a question mark or a particle it ends on, or a word
# that asks or bids (どちら, どんな; 答えよ, 選びなさい) beside the question words.
_ASKING = re.compile(
    r"([?？]|は|とは|って|か|かな|かしら)[。.]?\s*$|どちら|どっち|どんな|答え|選び"
)
# A question asking only what a term is: the term (quoted or not), とは or って, and at most
# 何ですか, どういう意味か, 誰 and the like.
_DEFINITION_QUESTION = re.compile(
    r"\s*[「『]?(?P<term>[^\s「」『』、。，,？?]{1,40}?)[」』]?\s*(?P<asking>とは|って)\s*"
    r"(?:(?:何|なに|なん)(?:の(?:こと|意味))?(?:ですか|でしょうか|なのか|なの|か|だ)?"
    r"|どういう(?:意味|もの|こと)(?:ですか|でしょうか|なのか|か)?"
    r"|誰(?:ですか|でしょうか|か)?)?"
    r"\s*[?？。!！]*\s*"
)

# Query syntax a sentence does not use (parentheses it does: (UNEF I), so they do not count).
_OPERATOR_SYNTAX = re.compile(r"(^|\s)(AND|OR|NOT)(\s|$)|(^|\s)-\S|source:")
# A filter: `format:pdf`, `-path:"my folder"`, `NOT after:2024`, standing apart from the words
# (or first in parentheses).
_FILTER = re.compile(rf'(?<![^\s(])(-|NOT\s+)?({"|".join(FILTER_KINDS)}):("[^"]*"|[^\s"]*)')
_EMPTY_GROUP = re.compile(r"\(\s*\)")
# What makes a group in parentheses negated: - or NOT just before it.
_NEGATION_BEFORE = re.compile(r"(?:-|(?<!\S)NOT\s*)$")
_QUOTED = re.compile(r'"[^"]*"')


@dataclass(frozen=True)
class ParsedQuery:
    """A query as the parser read it: the text of its words (without format characters and
    filters), their tree (None for a query of filters alone, which keeps every paragraph they
    admit), the phrases a keyword query typed without syntax may be held only in part (soft AND),
    and the filters it gave."""

    text: str
    tree: Node | None
    soft_parts: tuple[Phrase, ...] = ()
    # A question's content words, any of which may match; none for keywords.
    question_words: tuple[Phrase, ...] = ()
    # The phrases a hit may hold, to highlight (those under NOT left out); a sentence's words,
    # and the sentence where it stands as typed.
    phrases: tuple[Phrase, ...] = ()
    # How the query was read: "question" or "keyword".
    mode: str = "keyword"
    # A sentence that asks nothing, read as keywords: looked for as typed before the question.
    verbatim: Node | None = None
    # The term a question asks only to define (ルビ of ルビとは何ですか？).
    defined: str | None = None
    # The filters it gave (format:, path:, after:, before:).
    filters: Filters = field(default_factory=Filters)

    @property
    def is_question(self) -> bool:
        return self.mode == "question"

    def as_typed(self) -> ParsedQuery | None:
        """The keyword reading of a sentence that asks nothing, to look for as typed before it is
        taken for a question (no soft AND: the sentence is held whole, or the question is asked);
        None for any other query."""
        if self.verbatim is None:
            return None
        return ParsedQuery(self.text, self.verbatim, phrases=tuple(phrases(self.verbatim)))

    @cached_property
    def relaxed_words(self) -> tuple[Phrase, ...]:
        """The whole content words of the soft parts, looked for when no paragraph holds any
        part (see `relaxed_words`); read only then, as it analyzes the parts again."""
        return relaxed_words(self.soft_parts)


def parse(text: str, mode: str = "auto", synonyms: Synonyms | None = None) -> ParsedQuery:
    """The parsed query of `text`; raises QuerySyntaxError with a one-line reason."""
    if mode not in MODES:
        raise QuerySyntaxError(f"unknown query mode {mode!r}; use one of {', '.join(MODES)}")
    text = without_ignored(text)
    if not text or not text.strip():
        raise QuerySyntaxError("the query is empty")
    _check_size_and_encoding(text)
    text, filters = split_filters(text)
    if not text.strip():
        if filters:
            return ParsedQuery(text, None, filters=filters)
        raise QuerySyntaxError("the query is empty")
    node: Node | None = None
    if mode == "question" or (mode == "auto" and looks_like_question(text)):
        node = _question(text)
    if node is None:
        node = _Parser(list(_lex(text))).parse()
    if node is None:
        raise QuerySyntaxError(
            f"nothing to search for in {text!r}: it has no words, only punctuation or operators"
        )
    if _count_terms(node) > MAX_TERMS:
        raise QuerySyntaxError(f"the query has more than {MAX_TERMS} terms")
    tree = expand(node, synonyms) if synonyms else node
    if isinstance(tree, Question):
        return _question_query(text, tree, mode, filters)
    return ParsedQuery(
        text, tree, soft_parts(text, tree), (), tuple(phrases(tree)), filters=filters
    )


def split_filters(text: str) -> tuple[str, Filters]:
    """The query's words without its filters (format:, path:, after:, before:, outside quoted
    phrases), and the filters; QuerySyntaxError for a filter that cannot be read."""
    quoted = [found.span() for found in _QUOTED.finditer(text)]
    groups = _groups(text, quoted)
    filters, kept, at = Filters(), [], 0
    for found in _FILTER.finditer(text):
        if any(start <= found.start() < end for start, end in quoted):
            continue
        negation, kind, value = found.groups()
        end = found.end()
        around = [group for group in groups if group[0] < found.start() < group[1]]
        if any(negated for _, _, negated in around):
            raise QuerySyntaxError(
                f"a filter applies to the whole query, and {kind}: stands in a group that is "
                f"left out: write -{kind}:… outside the parentheses"
            )
        if around and not value.startswith('"') and ")" in value:  # the group's end
            end = found.start(3) + value.index(")")
            value = value[: value.index(")")]
        value = value[1:-1] if value.startswith('"') else value
        if not value.strip():
            raise QuerySyntaxError(f"{kind}: needs a value, as in {_EXAMPLES[kind]}")
        filters = filters.with_filter(kind, value, negated=bool(negation))
        kept.append(text[at : found.start()])
        at = end
    kept.append(text[at:])
    if not filters:
        return text, filters
    words = " ".join(" ".join(kept).split())
    if not _EMPTY_GROUP.search(text):  # groups that held only filters
        while _EMPTY_GROUP.search(words):
            words = " ".join(_EMPTY_GROUP.sub(" ", words).split())
    return words, filters


def _groups(text: str, quoted: list[tuple[int, int]]) -> list[tuple[int, int, bool]]:
    """The groups in parentheses outside quoted phrases: where each opens and closes (the end of
    the text when it does not), and whether it is negated (-( ), NOT ( ))."""
    groups, open_at = [], []
    for at, char in enumerate(text):
        if char not in "()" or any(start <= at < end for start, end in quoted):
            continue
        if char == "(":
            open_at.append(at)
        elif open_at:
            start = open_at.pop()
            groups.append((start, at, bool(_NEGATION_BEFORE.search(text, 0, start))))
    groups += [
        (start, len(text), bool(_NEGATION_BEFORE.search(text, 0, start))) for start in open_at
    ]
    return groups


_EXAMPLES = {
    "format": "format:pdf",
    "path": "path:報告書/2024",
    "after": "after:2024-01-01",
    "before": "before:2024-07",
}


def _question_query(text: str, tree: Question, mode: str, filters: Filters) -> ParsedQuery:
    """A question's parsed query; in auto mode, a sentence that asks nothing also as typed."""
    verbatim = _verbatim(text) if mode == "auto" else None
    found = tuple(phrases(tree)) + (tuple(phrases(verbatim)) if verbatim is not None else ())
    return ParsedQuery(
        text,
        tree,
        question_words=tree.words,
        phrases=found,
        mode="question",
        verbatim=verbatim,
        defined=defined_term(text),
        filters=filters,
    )


def _check_size_and_encoding(text: str) -> None:
    if len(text) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(
            f"the query is too long: {len(text):,} characters, at most {MAX_QUERY_CHARS:,}"
        )
    if any("\ud800" <= char <= "\udfff" for char in text):
        raise QuerySyntaxError("the query holds bytes that are not UTF-8 text")


def _count_terms(node: Node) -> int:
    if isinstance(node, (And, Or)):
        return sum(_count_terms(child) for child in node.children)
    return _count_terms(node.child) if isinstance(node, Not) else 1


def soft_parts(text: str, tree: Node) -> tuple[Phrase, ...]:
    """The phrases of a keyword query that a paragraph may hold only some of (soft AND): the
    runs of a query typed without syntax (no operators, quotes or source filters), which then
    ranks the paragraphs holding all of them first, then those holding most of them. Empty for a
    query with syntax, which means what it says, or a question."""
    if _has_syntax(text):
        return ()
    if isinstance(tree, Phrase):
        return (tree,)
    if isinstance(tree, And):
        parts = tuple(child for child in tree.children if isinstance(child, Phrase))
        return parts if len(parts) == len(tree.children) else ()
    return ()


def relaxed_words(phrases: tuple[Phrase, ...]) -> tuple[Phrase, ...]:
    """For phrases that no paragraph holds, any of them at all, their whole content words to look
    for instead (日米同盟強化 → 日米 / 同盟 / 強化), leaving out what a word alone would not mean:
    single characters (kana, letters, symbols, and 人 of あの人, which would find every 人) and
    numbers (ピラー2 → ピラー, never 2). A phrase that is one word is looked for by its parts
    (国際宇宙ステーション → 国際 / 宇宙 / ステーション). Empty when that leaves nothing new."""
    words: dict[str, Phrase] = {}
    for phrase in phrases:
        content = analyze(phrase.text, content_only=True)
        pieces = content.words
        if len(pieces) == 1 and fold(phrase.text[pieces[0].start : pieces[0].end]) == fold(
            phrase.text
        ):
            pieces = content.subwords  # as Sudachi's split mode A cuts it
        for word in pieces:
            surface = phrase.text[word.start : word.end]
            if _means_something_alone(surface):
                found = make_phrase(surface)
                if found is not None:
                    words.setdefault(found.folded, found)
    relaxed = tuple(words.values())
    return relaxed if set(relaxed) != set(phrases) else ()


def _means_something_alone(surface: str) -> bool:
    """Not a single character (a kana, a letter, a symbol, or 人 of あの人: in every other
    paragraph), not a number, not punctuation."""
    folded = fold(surface)
    return (
        len(folded) > 1
        and not folded.isdigit()
        and any(unicodedata.category(char)[0] in "LN" for char in folded)
    )


def looks_like_question(text: str) -> bool:
    """A sentence rather than keywords: no query syntax, and a question mark or word, or a long
    run with particles."""
    if _has_syntax(text):
        return False
    if _QUESTION_END.search(text) or _QUESTION_WORDS.search(text):
        return True
    all_words = analyze(text).words
    return len(all_words) >= 6 and len(analyze(text, content_only=True).words) < len(all_words)


def _verbatim(text: str) -> Node | None:
    """A sentence's keyword reading (its runs, each a phrase, all of them held), to look for as
    typed; None for a sentence that asks (a question found as typed is a heading of a FAQ, not
    its answer), or that cannot be read so (a lone parenthesis) or holds too many runs."""
    if _ASKING.search(text) or _QUESTION_WORDS.search(text):
        return None
    try:
        node = _Parser(list(_lex(text))).parse()
    except QuerySyntaxError:
        return None
    return node if node is not None and _count_terms(node) <= MAX_TERMS else None


def defined_term(text: str) -> str | None:
    """The term a question asks only to define (ルビ of ルビとは何ですか？, 「日米2プラス2」とは),
    or None: a term holds no particle, pronoun or other function word (翼のライバルとは誰 asks
    who, not what a term is), and its とは is a word of its own (not the と of こと)."""
    asked = _DEFINITION_QUESTION.fullmatch(text)
    if asked is None:
        return None
    term = asked.group("term")
    if asked.start("asking") not in {word.start for word in analyze(text).words}:
        return None
    if len(analyze(term, content_only=True).words) != len(analyze(term).words):
        return None
    return term


def _has_syntax(text: str) -> bool:
    """Operators, or quotes in pairs: a lone " in a sentence is a character (a prime, a typo)."""
    quotes = text.count('"')
    return bool(_OPERATOR_SYNTAX.search(text)) or (quotes > 0 and quotes % 2 == 0)


def _question(text: str) -> Question | None:
    seen: dict[str, Phrase] = {}
    content = analyze(text, content_only=True)
    for word in content.words:
        if _QUESTION_WORDS.fullmatch(text, word.start, word.end):  # どう, いつ: what is asked
            continue
        parts = tuple(p.text for p in content.subwords if word.start <= p.start < word.end) or (
            word.text,
        )
        seen.setdefault(
            word.text, Phrase(text[word.start : word.end], (word.text,), parts, substring=False)
        )
    if not seen:
        return None
    after_numbers = counters_after_numbers(text)
    # A counter only where every occurrence follows a number: 日 in 四月一日は何の日 stays a word.
    elsewhere = {word.text for word in content.words if word.start not in after_numbers}
    counters = frozenset(
        word.text
        for word in content.words
        if word.start in after_numbers and word.text not in elsewhere
    )
    return Question(tuple(seen.values())[:MAX_TERMS], counters)


def make_phrase(text: str) -> Phrase | None:
    """The phrase for a run of text, or None when it holds no searchable term. A run whose words
    leave out a letter that Sudachi takes for a symbol (the lone ー of ー2) is a substring only:
    its words alone (2) would find far more than was typed."""
    analysis = analyze(text)
    if _leaves_out_letters(text, analysis.words):
        return Phrase(text, (), ())
    if not analysis.words:
        return None
    slop = 1 if len(runs(analysis.words)) == 1 else 2
    return Phrase(text, _texts(analysis.words), _texts(analysis.subwords), slop=slop)


def _leaves_out_letters(text: str, words) -> bool:
    """Whether a letter or digit of `text` is in none of `words` (punctuation and spaces may)."""
    covered: set[int] = set()
    for word in words:
        covered.update(range(word.start, word.end))
    return any(
        unicodedata.category(char)[0] in "LN" for at, char in enumerate(text) if at not in covered
    )


def _texts(terms) -> tuple[str, ...]:
    return tuple(term.text for term in terms)


def expand(node: Node, synonyms: Synonyms) -> Node:
    """The tree with each phrase carrying its synonyms as alternatives."""
    if isinstance(node, Phrase):
        alternatives = tuple(synonyms(node))
        return (
            Phrase(node.text, node.words, node.subwords, alternatives, slop=node.slop)
            if alternatives
            else node
        )
    if isinstance(node, (And, Or)):
        return type(node)(tuple(expand(child, synonyms) for child in node.children))
    if isinstance(node, Not):
        return Not(expand(node.child, synonyms))
    return node


def _lex(text: str) -> Iterator[tuple[str, str]]:
    """Tokens as (kind, value): ( ) WORD PHRASE SOURCE AND OR NOT MINUS."""
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "()":
            yield char, char
            i += 1
        elif char == '"':
            end = _closing_quote(text, i, "a phrase")
            yield "PHRASE", text[i + 1 : end]
            i = end + 1
        elif char == "-" and i + 1 < n and not text[i + 1].isspace() and text[i + 1] not in ")-":
            yield "MINUS", char
            i += 1
        else:
            end = i
            while end < n and not text[end].isspace() and text[end] not in _SPECIAL:
                end += 1
            if text[i:end] == _SOURCE_PREFIX and text.startswith('"', end):
                closing = _closing_quote(text, end, "a source: pattern")
                yield _word_token(_SOURCE_PREFIX + text[end + 1 : closing])
                i = closing + 1
                continue
            yield _word_token(text[i:end])
            i = end


def _closing_quote(text: str, opening: int, what: str) -> int:
    """Where the quote that opens at `opening` closes."""
    end = text.find('"', opening + 1)
    if end < 0:
        raise QuerySyntaxError(f'unbalanced quote: {what} opened with " is not closed')
    return end


def _word_token(word: str) -> tuple[str, str]:
    if word in _OPERATORS:
        return word, word
    if word.startswith(_SOURCE_PREFIX):
        pattern = word[len(_SOURCE_PREFIX) :]
        if not pattern:
            raise QuerySyntaxError("source: needs a file name or pattern, as in source:001*")
        return "SOURCE", pattern
    return "WORD", word


class _Parser:
    """Recursive descent: or := and (OR and)* ; and := unary (AND? unary)* ; unary := (NOT|-) unary | atom."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.at = 0
        self.depth = 0

    def _nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QuerySyntaxError(
                f"the query nests parentheses or NOTs more than {MAX_DEPTH} deep"
            )

    def parse(self) -> Node | None:
        node = self._or()
        if self._peek() == ")":
            raise QuerySyntaxError("unbalanced parenthesis: ) without a matching (")
        return node

    def _peek(self) -> str | None:
        return self.tokens[self.at][0] if self.at < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def _or(self) -> Node | None:
        children = [self._and()]
        while self._peek() == "OR":
            self._take()
            children.append(self._and())
            if children[-1] is None and self._peek() is None:
                raise QuerySyntaxError("OR needs a term on each side")
        return _combine(Or, children)

    def _and(self) -> Node | None:
        children = []
        while self._peek() not in (None, ")", "OR"):
            if self._peek() == "AND":
                self._take()
                if self._peek() in (None, ")", "OR"):
                    raise QuerySyntaxError("AND needs a term on each side")
                continue
            children.append(self._unary())
        return _combine(And, children)

    def _unary(self) -> Node | None:
        if self._peek() in ("NOT", "MINUS"):
            operator = self._take()[1]
            if self._peek() in (None, ")", "OR", "AND"):
                raise QuerySyntaxError(f"{operator} needs a term after it")
            self._nest()
            child = self._unary()
            self.depth -= 1
            return Not(child) if child is not None else None
        return self._atom()

    def _atom(self) -> Node | None:
        kind, value = self._take()
        if kind == "(":
            if self._peek() == ")":
                raise QuerySyntaxError("empty parentheses")
            self._nest()
            node = self._or()
            if self._peek() != ")":
                raise QuerySyntaxError("unbalanced parenthesis: ( without a matching )")
            self._take()
            self.depth -= 1
            return node
        if kind == "SOURCE":
            return SourceFilter(value)
        return make_phrase(value)


def _combine(kind, children: list) -> Node | None:
    children = [child for child in children if child is not None]
    if not children:
        return None
    return children[0] if len(children) == 1 else kind(tuple(children))
