"""Query: parse what the user typed into a tree, and turn the tree into a Whoosh query.

The syntax is what search boxes accept:
- words separated by spaces must all match (AND); `OR` between them, either;
- `NOT word` or `-word` excludes; parentheses group; `"quoted text"` is a phrase;
- `source:PATTERN` keeps paragraphs whose source starts with PATTERN (or matches it, with * and ?);
- a run typed without spaces is a phrase: ピラー2 is the words ピラー and 2, next to each other.
Operators are upper case; `and`, `or` and `not` are ordinary words.

A natural-language question (日本で梅雨がないのは北海道とどこか。) is searched differently: any of its
content words may match, ranked by BM25; `mode="auto"` recognizes one by its ending or its particles.

A phrase matches in four ways, ranked in tiers: as whole words, as sub-words, as a substring of the
folded text (character bigrams, so that anything `grep -F` finds is found), and, for a query in kana,
by reading. A substring that begins or ends with a Latin letter or a digit matches only where it
does not run on into more letters (digits) there, as a word would: AI does not find Air, 2 does
not find 2024, PAC finds PAC-3 and PAC3. Synonym expansions rank below every literal match. A run
of words (or sub-words) is looked up as the pairs of neighbours it holds when all of them are
common words (analysis.pairs), and scored by how often those pairs occur rather than by its words
one by one.

A keyword query typed without syntax is read with soft AND (`soft_parts`): paragraphs holding all
its parts first, then those holding some; a phrase found nowhere is looked for by its whole words
(`relaxed_words`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Callable, Iterator, Union

from whoosh import matching
from whoosh import query as q
from whoosh.query.wrappers import WrappingQuery

from .analysis import (PAIRED, analyze, counters_after_numbers, fold, pair, paired, runs,
                       to_katakana)
from .errors import QuerySyntaxError

MODES = ("auto", "keyword", "question")
WORD_BOOST = 2.0
# Added once per matching field of a phrase, so that whole words outrank sub-words, sub-words
# outrank mere substrings, and all of these outrank readings and synonyms, whatever BM25 says.
TIER_BONUS = {"words": 10_000.0, "subwords": 1_000.0, "grams": 100.0}
GRAM_BOOST = 0.5
READING_BOOST = 0.5
EXPANSION_BOOST = 0.5
CONTEXT_BOOST = 0.5  # a question word in the document's title
_OPERATORS = {"AND", "OR", "NOT"}
MAX_QUERY_CHARS = 1_000
MAX_DEPTH = 32  # parentheses and NOTs nested
MAX_TERMS = 64  # phrases in a keyword query; words of a question beyond it are left out
_SOURCE_PREFIX = "source:"
_PAIR_FIELD = {base: pair_field for pair_field, base in PAIRED.items()}  # words -> word_pairs
_SPECIAL = '()"'
_KANA_RUN = re.compile(r"[ぁ-ゖァ-ヺー]+")
_QUESTION_END = re.compile(r"([?？。]|は|とは|って)\s*$")
_QUESTION_WORDS = re.compile(r"(何|なに|なん|誰|だれ|どこ|いつ|どの|どれ|どう|なぜ|幾つ|いくつ|いくら)")
# Query syntax a sentence does not use (parentheses it does: (UNEF I), so they do not count).
_OPERATOR_SYNTAX = re.compile(r'(^|\s)(AND|OR|NOT)(\s|$)|(^|\s)-\S|source:')


@dataclass(frozen=True)
class Phrase:
    """Text to find as a run of terms, at every granularity."""

    text: str
    words: tuple[str, ...]
    subwords: tuple[str, ...]
    alternatives: tuple["Phrase", ...] = field(default=(), compare=False)
    substring: bool = field(default=True, compare=False)  # also match as a substring (grams)
    # How far apart neighbouring terms may stand: 2 where the query had punctuation between them,
    # which leaves a gap of one position in the index too.
    slop: int = 1

    @property
    def folded(self) -> str:
        return fold(self.text)

    @property
    def kana(self) -> str | None:
        """The text in katakana when it is all kana, for matching readings."""
        return to_katakana(self.text) if _KANA_RUN.fullmatch(self.text) else None


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


@dataclass(frozen=True)
class Question:
    """Any of these words, ranked by BM25 alone."""

    words: tuple[Phrase, ...]
    # Counters after a number, looked up as whole words only, not as sub-words or title words:
    # in 1945年8月14日 the numbers say which date, and 年, 月 and 日 stand in a third of all
    # paragraphs (three posting lists each, a third of a long question's time).
    counters: frozenset[str] = frozenset()


Node = Union[Phrase, SourceFilter, And, Or, Not, Question]
Synonyms = Callable[[Phrase], "list[Phrase]"]


def parse(text: str, mode: str = "auto", synonyms: Synonyms | None = None) -> Node:
    """The query tree of `text`; raises QuerySyntaxError with a one-line reason."""
    if mode not in MODES:
        raise QuerySyntaxError(f"unknown query mode {mode!r}; use one of {', '.join(MODES)}")
    text = without_format_characters(text)
    if not text or not text.strip():
        raise QuerySyntaxError("the query is empty")
    _check_size_and_encoding(text)
    node = None
    if mode == "question" or (mode == "auto" and looks_like_question(text)):
        node = _question(text)
    if node is None:
        node = _Parser(list(_lex(text))).parse()
    if node is None:
        raise QuerySyntaxError(f"nothing to search for in {text!r}: it has no words, only "
                               "punctuation or operators")
    if _count_terms(node) > MAX_TERMS:
        raise QuerySyntaxError(f"the query has more than {MAX_TERMS} terms")
    return expand(node, synonyms) if synonyms else node


def without_format_characters(text: str) -> str:
    """`text` without invisible format characters (zero-width space and joiners, soft hyphen,
    direction marks, BOM: Unicode's Cf), which text copied from a web page or a PDF brings along
    and which would split a phrase (ピラー\u200b2)."""
    if text.isascii():
        return text
    return "".join(char for char in text if unicodedata.category(char) != "Cf")


def _check_size_and_encoding(text: str) -> None:
    if len(text) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(f"the query is too long: {len(text):,} characters, at most "
                               f"{MAX_QUERY_CHARS:,}")
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
    if isinstance(tree, And) and all(isinstance(child, Phrase) for child in tree.children):
        return tree.children
    return ()


def relaxed_words(phrases: tuple[Phrase, ...]) -> tuple[Phrase, ...]:
    """For phrases that no paragraph holds, any of them at all, their whole content words to look
    for instead (日米同盟強化 → 日米 / 同盟 / 強化), leaving out what a word alone would not mean:
    single characters (kana, letters, symbols, and 人 of あの人, which would find every 人) and
    numbers (ピラー2 → ピラー, never 2). Empty when that leaves nothing new."""
    words: dict[str, Phrase] = {}
    for phrase in phrases:
        content = analyze(phrase.text, content_only=True)
        for word in content.words:
            surface = phrase.text[word.start:word.end]
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
    return len(folded) > 1 and not folded.isdigit() and any(
        unicodedata.category(char)[0] in "LN" for char in folded)


def looks_like_question(text: str) -> bool:
    """A sentence rather than keywords: no query syntax, and a question mark or word, or a long
    run with particles."""
    if _has_syntax(text):
        return False
    if _QUESTION_END.search(text) or _QUESTION_WORDS.search(text):
        return True
    all_words = analyze(text).words
    return len(all_words) >= 6 and len(analyze(text, content_only=True).words) < len(all_words)


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
        parts = tuple(p.text for p in content.subwords
                      if word.start <= p.start < word.end) or (word.text,)
        seen.setdefault(word.text, Phrase(text[word.start:word.end], (word.text,), parts,
                                          substring=False))
    if not seen:
        return None
    after_numbers = counters_after_numbers(text)
    # A counter only where every occurrence follows a number: 日 in 四月一日は何の日 stays a word.
    elsewhere = {word.text for word in content.words if word.start not in after_numbers}
    counters = frozenset(word.text for word in content.words
                         if word.start in after_numbers and word.text not in elsewhere)
    return Question(tuple(seen.values())[:MAX_TERMS], counters)


def phrases(node: Node) -> Iterator[Phrase]:
    """The phrases a matching paragraph contains (those under NOT are left out)."""
    if isinstance(node, Phrase):
        yield node
        yield from node.alternatives
    elif isinstance(node, (And, Or)):
        for child in node.children:
            yield from phrases(child)
    elif isinstance(node, Question):
        yield from node.words


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
    covered = set()
    for word in words:
        covered.update(range(word.start, word.end))
    return any(unicodedata.category(char)[0] in "LN"
               for at, char in enumerate(text) if at not in covered)


def _texts(terms) -> tuple[str, ...]:
    return tuple(term.text for term in terms)


def expand(node: Node, synonyms: Synonyms) -> Node:
    """The tree with each phrase carrying its synonyms as alternatives."""
    if isinstance(node, Phrase):
        alternatives = tuple(synonyms(node))
        return Phrase(node.text, node.words, node.subwords, alternatives, slop=node.slop) \
            if alternatives else node
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
        self.depth = 0

    def _nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QuerySyntaxError(f"the query nests parentheses or NOTs more than {MAX_DEPTH} deep")

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


# --- the tree as a Whoosh query -------------------------------------------------------------

Lexicon = Callable[[str, str], bool]  # (field, term) -> whether the index holds the term


def to_whoosh(node: Node, lexicon: Lexicon | None = None):
    """The Whoosh query for a query tree; `lexicon` lets kana phrases match readings."""
    if isinstance(node, Phrase):
        return _phrase_query(node, lexicon)
    if isinstance(node, Question):
        return q.Or([q.Term(field, term, boost=boost) for field, term, boost in question_terms(node)])
    if isinstance(node, SourceFilter):
        matcher = q.Wildcard if any(c in node.pattern for c in "*?") else q.Prefix
        return q.ConstantScoreQuery(matcher("source", node.pattern), 0.0)
    if isinstance(node, Or):
        return q.Or([to_whoosh(child, lexicon) for child in node.children])
    if isinstance(node, Not):
        return q.AndNot(q.Every(), to_whoosh(node.child, lexicon))
    wanted = [to_whoosh(c, lexicon) for c in node.children if not isinstance(c, Not)]
    unwanted = [to_whoosh(c.child, lexicon) for c in node.children if isinstance(c, Not)]
    positive = q.And(wanted) if wanted else q.Every()
    return q.AndNot(positive, q.Or(unwanted)) if unwanted else positive


def untiered(phrase: Phrase, lexicon: Lexicon | None = None):
    """The phrase's Whoosh query scored by BM25F alone, without tier bonuses."""
    return _phrase_query(phrase, lexicon, tiers={})


def _phrase_query(phrase: Phrase, lexicon: Lexicon | None, literal: bool = True,
                  tiers: dict[str, float] = TIER_BONUS):
    tier = tiers if literal else {}
    boost = 1.0 if literal else EXPANSION_BOOST
    parts = [
        _tiered(_sequence("words", phrase.words, WORD_BOOST * boost, phrase.slop),
                tier.get("words")),
        _tiered(_sequence("subwords", phrase.subwords, boost, phrase.slop), tier.get("subwords")),
        _tiered(_bounded(_gram_query(phrase.folded, GRAM_BOOST * boost), phrase.folded.strip()),
                tier.get("grams")),
    ]
    reading = _reading_query(phrase.kana, lexicon) if phrase.kana and lexicon else None
    if reading is not None:
        parts.append(reading)
    for alternative in phrase.alternatives:
        parts.append(_phrase_query(alternative, lexicon, literal=False))
    return q.Or([part for part in parts if part is not None])


def question_terms(question: Question) -> list[tuple[str, str, float]]:  # bm25.WeightedTerm
    """The (field, term, boost) triples whose BM25F scores add up to a question's score: each
    content word as a word and as a word of the title, and each of its sub-words (a counter after
    a number only as a word)."""
    terms = []
    for word in question.words:
        if word.words[0] in question.counters:
            terms.append(("words", word.words[0], WORD_BOOST))
            continue
        terms += [("words", word.words[0], WORD_BOOST), ("context", word.words[0], CONTEXT_BOOST)]
        terms += [("subwords", part, 1.0) for part in word.subwords]
    return terms


def in_title(phrase: Phrase):
    """The Whoosh query for the phrase's words in the document's title (the `context` field), or
    None for a phrase without words."""
    return _sequence("context", phrase.words, CONTEXT_BOOST, phrase.slop)


def _sequence(field_name: str, terms: tuple[str, ...], boost: float, slop: int = 1):
    """`terms` side by side in a field (within `slop` positions); common words as a run of their
    pairs, scored by how often the pairs occur rather than the single words. None for no terms."""
    if not terms:
        return None
    if len(terms) == 1:
        return q.Term(field_name, terms[0], boost=boost)
    if slop == 1 and field_name in _PAIR_FIELD and paired(terms):
        joined = tuple(pair(first, second) for first, second in zip(terms, terms[1:]))
        return _sequence(_PAIR_FIELD[field_name], joined, boost)
    return q.Phrase(field_name, list(terms), slop=slop, boost=boost)


def _gram_query(folded: str, boost: float):
    """The folded text as a run of bigrams; one character matches every bigram it starts."""
    folded = folded.strip()
    if not folded:
        return None
    if len(folded) == 1:
        return q.Prefix("grams", folded, boost=boost)
    grams = [folded[i:i + 2] for i in range(len(folded) - 1)]
    return _sequence("grams", tuple(grams), boost)


def _reading_query(kana: str, lexicon: Lexicon):
    """The kana as a run of readings the index holds (fewest readings first), or None."""
    pieces = segment(kana, lambda piece: lexicon("readings", piece))
    if not pieces:
        return None
    return _sequence("readings", tuple(pieces), READING_BOOST) if len(pieces) > 1 else \
        q.Term("readings", pieces[0], boost=READING_BOOST)


def segment(text: str, known: Callable[[str], bool]) -> list[str] | None:
    """`text` cut into the fewest pieces that are all `known`, or None when it cannot be."""
    best: list[list[str] | None] = [[]] + [None] * len(text)
    for end in range(1, len(text) + 1):
        for start in range(end):
            before = best[start]
            if before is not None and (best[end] is None or len(before) + 1 < len(best[end])):
                if known(text[start:end]):
                    best[end] = before + [text[start:end]]
    return best[len(text)]


def _latin_class(char: str) -> str | None:
    """"digit" or "letter" for a (folded) character of Latin text, else None."""
    if "0" <= char <= "9":
        return "digit"
    return "letter" if char.isalpha() and char < "\u0250" else None


def at_word_bounds(folded: str, start: int, end: int) -> bool:
    """Whether folded[start:end] does not run on into more of the same Latin letters or digits
    it begins or ends with (Japanese around it is no run-on: AI in AIエコシステム is whole)."""
    first, last = _latin_class(folded[start]), _latin_class(folded[end - 1])
    return not ((first and start > 0 and _latin_class(folded[start - 1]) == first)
                or (last and end < len(folded) and _latin_class(folded[end]) == last))


def _bounded(query, folded: str):
    """The substring query kept to Latin word boundaries where `folded` needs them."""
    if query is None or not (_latin_class(folded[0]) or _latin_class(folded[-1])):
        return query
    return Bounded(query, folded)


def _tiered(query, bonus: float | None):
    if query is None or not bonus:
        return query
    return Bonus(query, bonus)


class _Setting(WrappingQuery):
    """A wrapping query with one setting of its own, compared and rewrapped with its child."""

    def __init__(self, child, setting) -> None:
        WrappingQuery.__init__(self, child)
        self.setting = setting

    def __eq__(self, other):
        return type(other) is type(self) and (self.child, self.setting) == (other.child, other.setting)

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
        admitted = {docnum for docnum in self.child.matcher(searcher, context).all_ids()
                    if self.admits(searcher.stored_fields(docnum)["text"])}
        return matching.FilterMatcher(inner, admitted)
