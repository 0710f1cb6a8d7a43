"""Query: parse what the user typed into a tree, and turn the tree into a Whoosh query.

The syntax is what search boxes accept:
- words separated by spaces must all match (AND); `OR` between them, either;
- `NOT word` or `-word` excludes; parentheses group; `"quoted text"` is a phrase;
- `source:PATTERN` keeps paragraphs whose source starts with PATTERN (or matches it, with * and ?);
- a run typed without spaces is a phrase: ピラー2 is the words ピラー and 2, next to each other.
Operators are upper case; `and`, `or` and `not` are ordinary words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Union

from .analysis import analyze, runs
from .errors import QuerySyntaxError

WORD_BOOST = 2.0  # a whole-word match outranks a match of its parts
_OPERATORS = {"AND", "OR", "NOT"}
_SOURCE_PREFIX = "source:"
_SPECIAL = '()"'


@dataclass(frozen=True)
class Phrase:
    """Text to find as a run of terms, at both granularities."""

    text: str
    words: tuple[str, ...]
    subwords: tuple[str, ...]


@dataclass(frozen=True)
class SourceFilter:
    pattern: str


@dataclass(frozen=True)
class And:
    children: tuple


@dataclass(frozen=True)
class Or:
    children: tuple


@dataclass(frozen=True)
class Not:
    child: object


Node = Union[Phrase, SourceFilter, And, Or, Not]


def parse(text: str) -> Node:
    """The query tree of `text`; raises QuerySyntaxError with a one-line reason."""
    if not text or not text.strip():
        raise QuerySyntaxError("the query is empty")
    parser = _Parser(list(_lex(text)))
    node = parser.parse()
    if node is None:
        raise QuerySyntaxError(f"nothing to search for in {text!r}: it has no words, only "
                               "punctuation or operators")
    return node


def phrases(node: Node) -> Iterator[Phrase]:
    """The phrases a matching paragraph contains (those under NOT are left out)."""
    if isinstance(node, Phrase):
        yield node
    elif isinstance(node, (And, Or)):
        for child in node.children:
            yield from phrases(child)


def make_phrase(text: str) -> Node | None:
    """The phrase for a run of text (an AND of phrases where punctuation cuts it), or None
    when it holds no searchable term."""
    analysis = analyze(text)
    if not analysis.words:
        return None
    word_runs, part_runs = runs(analysis.words), runs(analysis.subwords)
    if len(word_runs) == 1:
        return Phrase(text, _texts(word_runs[0]), _texts(part_runs[0]))
    return _combine(And, [Phrase(_span_text(text, words), _texts(words), _texts(parts))
                          for words, parts in zip(word_runs, part_runs)])


def _texts(terms) -> tuple[str, ...]:
    return tuple(term.text for term in terms)


def _span_text(text: str, terms) -> str:
    return text[terms[0].start:terms[-1].end]


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
            end = text.find('"', i + 1)
            if end < 0:
                raise QuerySyntaxError("unbalanced quote: a phrase opened with \" is not closed")
            yield "PHRASE", text[i + 1:end]
            i = end + 1
        elif char == "-" and i + 1 < n and not text[i + 1].isspace() and text[i + 1] not in ")-":
            yield "MINUS", char
            i += 1
        else:
            end = i
            while end < n and not text[end].isspace() and text[end] not in _SPECIAL:
                end += 1
            yield _word_token(text[i:end])
            i = end


def _word_token(word: str) -> tuple[str, str]:
    if word in _OPERATORS:
        return word, word
    if word.startswith(_SOURCE_PREFIX):
        pattern = word[len(_SOURCE_PREFIX):]
        if not pattern:
            raise QuerySyntaxError("source: needs a file name or pattern, as in source:001*")
        return "SOURCE", pattern
    return "WORD", word


class _Parser:
    """Recursive descent: or := and (OR and)* ; and := unary (AND? unary)* ; unary := (NOT|-) unary | atom."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.at = 0

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
            child = self._unary()
            return Not(child) if child is not None else None
        return self._atom()

    def _atom(self) -> Node | None:
        kind, value = self._take()
        if kind == "(":
            if self._peek() == ")":
                raise QuerySyntaxError("empty parentheses")
            node = self._or()
            if self._peek() != ")":
                raise QuerySyntaxError("unbalanced parenthesis: ( without a matching )")
            self._take()
            return node
        if kind == "SOURCE":
            return SourceFilter(value)
        return make_phrase(value)


def _combine(kind, children: list) -> Node | None:
    children = [child for child in children if child is not None]
    if not children:
        return None
    return children[0] if len(children) == 1 else kind(tuple(children))


def to_whoosh(node: Node):
    """The Whoosh query for a query tree."""
    from whoosh import query as q

    if isinstance(node, Phrase):
        return q.Or([_sequence("words", node.words, WORD_BOOST),
                     _sequence("subwords", node.subwords, 1.0)])
    if isinstance(node, SourceFilter):
        matcher = q.Wildcard if any(c in node.pattern for c in "*?") else q.Prefix
        return q.ConstantScoreQuery(matcher("source", node.pattern), 0.0)
    if isinstance(node, Or):
        return q.Or([to_whoosh(child) for child in node.children])
    if isinstance(node, Not):
        return q.AndNot(q.Every(), to_whoosh(node.child))
    wanted = [to_whoosh(c) for c in node.children if not isinstance(c, Not)]
    unwanted = [to_whoosh(c.child) for c in node.children if isinstance(c, Not)]
    positive = q.And(wanted) if wanted else q.Every()
    return q.AndNot(positive, q.Or(unwanted)) if unwanted else positive


def _sequence(field: str, terms: tuple[str, ...], boost: float):
    from whoosh import query as q

    if len(terms) == 1:
        return q.Term(field, terms[0], boost=boost)
    return q.Phrase(field, list(terms), boost=boost)
