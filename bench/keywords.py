"""Keyword queries derived from the evaluation sets' questions, as a user would type them.

A user who wants the passage behind 日本で梅雨がないのは北海道とどこか。 types a few of its words into
a search box: `梅雨 北海道`. The derivation does the same, reproducibly:

1. The question is cut by Sudachi (split mode C, whole words; the core dictionary).
2. A word joins the one it is part of, as a user would copy them together: a prefix the next word,
   a suffix the word before it, a number the word before it and the noun after it
   (クロヴィス + 1 + 世 → クロヴィス1世, 昭和 + 35 + 年 → 昭和35年, 16 + 世紀 → 16世紀). Other neighbouring nouns stay apart
   (フランク / 王国): Sudachi's whole words already hold the compounds it knows (国家公務員法).
3. Terms that say what is asked rather than what about are left out: those holding an
   interrogative (何, 誰, どこ, いつ, どの, どれ, どう, なぜ, いくつ, いくら: 何年), pronouns, a
   bare number, a single character (国, 説, 主), a lone adverb-like noun (現在, 以外, 途中), and a
   few frame nouns of questions (`FRAME_NOUNS`: 名前, 理由, 種類, 場所…).
4. Two or three of the remaining terms (which of the two, and which terms, drawn by a random
   generator seeded with the seed and the question's id), kept in the question's order and joined
   by spaces. A question with fewer than two terms has no keyword query.

The derivation is deterministic: the same seed gives the same queries on any machine with the same
Sudachi dictionary.
"""

from __future__ import annotations

import random
import re

FRAME_NOUNS = frozenset(
    {
        "名前",
        "名称",
        "理由",
        "種類",
        "場所",
        "時期",
        "人物",
        "方法",
        "目的",
        "意味",
        "もの",
        "こと",
        "ところ",
        "とき",
        "人",
        "年",
        "時",
        "何",
        "どこ",
        "誰",
        "いつ",
        "ため",
        "数",
        "呼び名",
        "呼称",
    }
)
_INTERROGATIVE = re.compile(r"何|なに|なん|誰|だれ|どこ|いつ|どの|どれ|どう|なぜ|いくつ|いくら|幾")
# Words that end a term and are never part of one (nouns, prefixes, suffixes join).
_CUTTING_POS = frozenset(
    {
        "助詞",
        "助動詞",
        "動詞",
        "形容詞",
        "形状詞",
        "副詞",
        "連体詞",
        "接続詞",
        "感動詞",
        "代名詞",
        "補助記号",
        "記号",
        "空白",
    }
)
MAX_TERMS = 3

_tokenizer = None


def _tokenize(text: str):
    global _tokenizer
    if _tokenizer is None:
        from sudachipy import Dictionary, SplitMode

        _tokenizer = Dictionary(dict="core").tokenizer(mode=SplitMode.C)
    return _tokenizer.tokenize(text)


def terms(question: str) -> list[str]:
    """The question's noun terms, joined to their prefixes, suffixes and counters, frame words
    left out."""
    runs: list[list] = []
    before = None  # the morpheme just before, when nothing stands between
    for morpheme in _tokenize(question):
        if not morpheme.surface().strip() or morpheme.part_of_speech()[0] in _CUTTING_POS:
            before = None
            continue
        if before is not None and _joins(before, morpheme):
            runs[-1].append(morpheme)
        else:
            runs.append([morpheme])
        before = morpheme
    texts = ("".join(m.surface() for m in run) for run in runs if _names_a_topic(run))
    return [
        text
        for text in texts
        if len(text) > 1 and text not in FRAME_NOUNS and not _INTERROGATIVE.search(text)
    ]


def _joins(before, morpheme) -> bool:
    """Whether `morpheme` belongs to the term of the morpheme right before it."""
    first, second = before.part_of_speech(), morpheme.part_of_speech()
    if first[0] == "接頭辞" or second[0] == "接尾辞" or second[1] == "数詞":
        return True
    return first[1] == "数詞" and second[0] == "名詞"


def _names_a_topic(run: list) -> bool:
    """The run holds a noun other than a number, and is not one adverb-like noun (現在, 以外)."""
    kinds = [m.part_of_speech() for m in run]
    if len(kinds) == 1 and kinds[0][2] == "副詞可能":
        return False
    return any(pos[0] == "名詞" and pos[1] != "数詞" for pos in kinds)


def keyword_query(qid: str, question: str, seed: int) -> str | None:
    """Two or three of the question's terms, space-separated, or None when it has fewer than two."""
    found = list(dict.fromkeys(terms(question)))
    if len(found) < 2:
        return None
    chooser = random.Random(f"{seed}:{qid}")
    size = min(chooser.choice((2, MAX_TERMS)), len(found))
    chosen = sorted(chooser.sample(range(len(found)), size))
    return " ".join(found[i] for i in chosen)


def keyword_queries(questions: dict[str, str], seed: int) -> dict[str, str]:
    """qid -> keyword query for every question that has one."""
    derived = {qid: keyword_query(qid, text, seed) for qid, text in questions.items()}
    return {qid: query for qid, query in derived.items() if query is not None}
