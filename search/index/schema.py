"""The schema: one Whoosh document per paragraph, its fields' names, and what each field indexes.

Stored (what a hit shows and cites): `source`, `title`, `paragraph`, `line`, `page`, `column`,
`section`, `text`, `date` (the document's, YYYY-MM-DD; also a column of YYYYMMDD numbers, read for a
document at a time when a search narrows by date, sorts by it or counts years). Indexed:
- `source` (ID): the document's path relative to the documents folder, for updates and `source:`;
- `same_text` (ID, and a column of fixed width, read without an index of offsets): a key shared
  by paragraphs of the same folded text (duplicates);
- `context`: the words of the document's title and the paragraph's section, so that a question
  finds the paragraphs of the document it is about even where they do not repeat its subject;
- `words`, `subwords`, `readings`: Sudachi's whole words, their mode-A parts and the parts'
  katakana readings (search.analysis), with positions for phrases;
- `word_pairs`, `subword_pairs`: each common word (sub-word) joined to the next common one, so
  that a phrase of frequent words is looked up as a short list of pairs;
- `grams`: the folded text's character bigrams, so that any substring finds its paragraphs;
- `chars`: the folded text's characters, without positions (how often each occurs): a query of
  one character reads one posting list, and its length is how many paragraphs hold it.
Both the build (index.writer) and the query side (query.plan) name fields from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from whoosh.analysis import Token, Tokenizer
from whoosh.columns import FixedBytesColumn, NumericColumn
from whoosh.fields import COLUMN as ColumnField
from whoosh.fields import ID, STORED, TEXT, Schema

from search.text.analysis import (
    DUPLICATE_KEY_CHARS,
    Term,
    analyze_cached,
    duplicate_key,
    fold,
    grams,
    pairs,
)

if TYPE_CHECKING:  # a search reads no document
    from search.ingest.paragraphs import Paragraph

SOURCE, TITLE, PARAGRAPH, LINE, PAGE, COLUMN, SECTION, PARAGRAPH_TEXT = (
    "source",
    "title",
    "paragraph",
    "line",
    "page",
    "column",
    "section",
    "text",
)
DATE = "date"
SAME_TEXT = "same_text"
CONTEXT = "context"
WORDS, SUBWORDS, READINGS = "words", "subwords", "readings"
WORD_PAIRS, SUBWORD_PAIRS = "word_pairs", "subword_pairs"
GRAMS = "grams"
CHARS = "chars"

# The index document of a paragraph: each field's value, as Whoosh's `add_document` takes them.
IndexDocument = dict[str, str | int | None]

GRANULARITIES = (WORDS, SUBWORDS, READINGS)  # the fields Sudachi's analysis feeds
PAIRED = {WORD_PAIRS: WORDS, SUBWORD_PAIRS: SUBWORDS}  # pair field -> the field it pairs
PAIR_FIELD = {base: pair_field for pair_field, base in PAIRED.items()}  # words -> word_pairs
FIELDS = GRANULARITIES + tuple(PAIRED) + (GRAMS, CHARS)  # every field a SudachiTokenizer can feed


def field_terms(field_name: str, text: str) -> list[Term]:
    """The terms of `text` in one of FIELDS."""
    if field_name == GRAMS:
        return [Term(gram, 0, 0, at) for at, gram in enumerate(grams(fold(text)))]
    if field_name == CHARS:
        return [Term(char, 0, 0, at) for at, char in enumerate(fold(text))]
    base = PAIRED.get(field_name)
    if base is not None:
        return pairs(getattr(analyze_cached(text), base))
    return getattr(analyze_cached(text), field_name)


class DateField(ColumnField):
    """The document's date: stored as written (YYYY-MM-DD), and a column of YYYYMMDD numbers
    (0: none)."""

    stored = True

    def __init__(self) -> None:
        super().__init__(NumericColumn("I", default=0))

    def to_column_value(self, value: str) -> int:
        return day_key(value)


def day_key(date: str | None) -> int:
    """YYYY-MM-DD as the number YYYYMMDD; 0 for none."""
    return int(date.replace("-", "")) if date else 0


class SudachiTokenizer(Tokenizer):
    """A Whoosh tokenizer yielding one field's terms (one of FIELDS).

    It holds nothing but the field's name, so it pickles into Whoosh's schema; the Sudachi
    tokenizer itself lives per thread in search.analysis and is created on first use.
    """

    def __init__(self, granularity: str = "words") -> None:
        if granularity not in FIELDS:
            raise ValueError(f"unknown granularity: {granularity}")
        self.granularity = granularity

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kwargs,
    ):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for term in field_terms(self.granularity, value):
            token.text = term.text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = value[term.start : term.end]
            if positions:
                token.pos = start_pos + term.position
            if chars:
                token.startchar = start_char + term.start
                token.endchar = start_char + term.end
            yield token


def schema() -> Schema:
    """The Whoosh schema: one document per paragraph."""
    terms = {name: TEXT(analyzer=SudachiTokenizer(name), phrase=name != CHARS) for name in FIELDS}
    return Schema(
        **{
            SOURCE: ID(stored=True),
            TITLE: STORED(),
            PARAGRAPH: STORED(),
            LINE: STORED(),
            PAGE: STORED(),
            COLUMN: STORED(),
            SECTION: STORED(),
            PARAGRAPH_TEXT: STORED(),
            DATE: DateField(),
            SAME_TEXT: ID(sortable=FixedBytesColumn(DUPLICATE_KEY_CHARS)),
            CONTEXT: TEXT(analyzer=SudachiTokenizer(WORDS)),
        },
        **terms,
    )


def paragraph_fields(paragraph: Paragraph, folded: str | None = None) -> IndexDocument:
    """The fields of the index document for one paragraph (`folded`: its text folded, when
    known)."""
    fields: IndexDocument = dict.fromkeys(FIELDS, paragraph.text)
    fields.update(
        {
            SOURCE: paragraph.source,
            TITLE: paragraph.title,
            PARAGRAPH: paragraph.paragraph,
            LINE: paragraph.line,
            PAGE: paragraph.page,
            COLUMN: paragraph.column,
            SECTION: paragraph.section,
            PARAGRAPH_TEXT: paragraph.text,
            DATE: paragraph.date,
            SAME_TEXT: duplicate_key(paragraph.text, folded),
            CONTEXT: " ".join(filter(None, (paragraph.title, paragraph.section))),
        }
    )
    return fields
