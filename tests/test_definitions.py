"""Definitions and sentences: a question asking what a term is (ルビとは何ですか？, ルビとは何か,
ルビとは) ranks the paragraph defining it first, and a sentence typed whole (智に働けば角が立つ)
finds the paragraphs holding it as typed, and only them; on the real documents of
../shared/formats (skipped where that folder is absent) and on small real indexes."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

import search
from search.query.parser import parse
from search.ranking.definitions import defines, standing
from search.text.analysis import fold

from .conftest import REPO

FORMATS = REPO.parent / "shared" / "formats"
REAL = ("jlreq-ja.utf8.html", "jlreq-ruby-rules-ja.pdf", "kusamakura-vertical.epub")


@pytest.fixture(scope="module")
def real_index(tmp_path_factory) -> Path:
    """The JLReq (HTML), its ruby rules (PDF: ルビ in nearly every paragraph) and 草枕 (EPUB)."""
    if not all((FORMATS / name).is_file() for name in REAL):
        pytest.skip(f"{FORMATS} (the real format samples) is absent")
    docs = tmp_path_factory.mktemp("real") / "docs"
    docs.mkdir()
    for name in REAL:
        shutil.copy(FORMATS / name, docs / name)
    search.build_index(docs, docs.parent / "ix")
    return docs.parent / "ix"


def places(results) -> list[tuple[str, int]]:
    return [(hit.source, hit.line) for hit in results.hits]


@pytest.mark.parametrize(
    "question", ["ルビとは何ですか？", "ルビとは何か", "ルビとは", "ルビって何？"]
)
def test_the_paragraph_defining_ruby_is_first(real_index, question):
    results = search.search(question, real_index, limit=3)
    assert places(results)[0] == ("jlreq-ja.utf8.html", 1770)
    assert results.hits[0].text.startswith("ルビとは，文字のそば")
    assert results.total > 400  # every paragraph naming ルビ still counts


@pytest.mark.parametrize(
    "question, line, opening",
    [
        ("禁則処理とは", 1358, "行頭禁則，行末禁則"),  # …のことを禁則処理という．
        ("親文字とは何ですか", 1770, "ルビとは，"),  # …その対象となる文字のことを親文字という．
        ("圏点とは何か", 2161, "圏点（傍点ともいう）は，"),
        ("ぶら下げ組とは", 2623, "ぶら下げ組は，"),
    ],
)
def test_paragraphs_defining_in_other_forms_are_in_the_top_three(
    real_index, question, line, opening
):
    hits = search.search(question, real_index, limit=3).hits
    assert ("jlreq-ja.utf8.html", line) in [(hit.source, hit.line) for hit in hits]
    assert next(hit for hit in hits if hit.line == line).text.startswith(opening)


def test_a_famous_sentence_finds_the_paragraph_holding_it_and_only_it(real_index):
    results = search.search("智に働けば角が立つ", real_index)
    assert places(results) == [("kusamakura-vertical.epub", 51)]
    assert results.total == 1
    hit = results.hits[0]
    assert [hit.text[start:end] for start, end in hit.highlights] == ["智に働けば角が立つ"]
    with search.Searcher(real_index) as searcher:
        assert searcher.sources("智に働けば角が立つ") == {"kusamakura-vertical.epub": 1}


def test_a_sentence_found_nowhere_as_typed_is_asked_as_a_question(real_index):
    results = search.search("智に働くと角が立つ", real_index)
    assert places(results)[0] == ("kusamakura-vertical.epub", 51)
    assert results.total > 1


# What a question asks to define, and which sentences are looked for as typed.


@pytest.mark.parametrize(
    "question, term",
    [
        ("ルビとは何ですか？", "ルビ"),
        ("ルビとは何か", "ルビ"),
        ("ルビとは", "ルビ"),
        ("ルビって何のことですか", "ルビ"),
        ("「日米2プラス2」とは何か？", "日米2プラス2"),
        ("大石内蔵助とは何ですか", "大石内蔵助"),
        ("ILO87号条約とは？", "ILO87号条約"),
        ("ビルマ暦とはどういうものなのか。", "ビルマ暦"),
        ("翼の同世代最大のライバルとは誰?", None),  # a phrase, not a term
        ("生物学者間の論争になっていることは何か", None),  # the と of こと
        ("それって何？", None),
        ("梅雨とは何季の一種か?", None),  # asks more than what it is
    ],
)
def test_a_question_names_the_term_it_asks_to_define(question, term):
    assert parse(question).defined == term


@pytest.mark.parametrize(
    "text, as_typed",
    [
        ("智に働けば角が立つ", True),
        ("智に働けば角が立つ。", True),
        ("ルビとは何ですか？", False),  # found as typed, it is a FAQ's heading, not its answer
        ("北海道に梅雨はあるか", False),
        ("日本で梅雨がないのは北海道とどこか。", False),
        ("ワインとビールのどちらを好んだ", False),
    ],
)
def test_a_sentence_that_asks_nothing_is_looked_for_as_typed_first(text, as_typed):
    parsed = parse(text)
    assert parsed.is_question
    assert (parsed.as_typed() is not None) == as_typed
    assert parse(text, "question").as_typed() is None  # asked for as a question: a question


@pytest.mark.parametrize(
    "text, stands",
    [
        ("ルビとは，文字のそばに付ける小さな文字のことである．", 2),
        ("「ルビ」とは、振り仮名のことである。", 2),
        ("ルビ（るび）は、読み方を示す文字。", 2),
        ("ルビは文字のそばに付ける小さな文字のことである。", 2),
        ("ルビは、文字のそばに付ける小さな文字である。", 2),
        ("その小さな文字のことをルビという。", 2),
        ("・ルビ：読み方を示す小さな文字", 2),
        ("なお、ルビは、本文より小さく組む。", 1),  # as a story's sentence may open
        ("ルビとは何ですか？", 1),  # asks
        ("熟語ルビは，処理がやや複雑である。", 1),  # another term
        ("縦組のルビは，親文字の右側に置く。", 1),  # a kind of ルビ
        ("注記：ルビの大きさ", 1),
        ("振り仮名は読み方を示す。", 0),
    ],
)
def test_a_definition_stands_above_a_mention(text, stands):
    assert standing(fold("ルビ"), fold(text)) == stands


def test_the_rerankers_signal_is_the_looser_test_it_was_fitted_with():
    assert defines(fold("ルビ"), fold("なお、ルビは、本文より小さく組む。"))
    assert defines(fold("ルビ"), fold("熟語ルビとは、複数の文字に付けるルビ。"))
    assert not defines(fold("ルビ"), fold("ルビは文字のそばに付ける小さな文字のことである。"))


# Small real indexes: a definition that BM25 alone puts below a hundred short paragraphs.

STORY_OPENINGS = ["しばらくして", "それから", "やがて", "その夜", "翌朝", "ふと", "静かに", "再び"]
STORY_ENDINGS = ["庭を眺めた", "茶を飲んだ", "書物を閉じた", "黙って頷いた", "空を見上げた"]


def story(name: str, count: int = 120) -> list[str]:
    """Short lines of a story about `name`: each names it, none defines it."""
    return [
        f"{STORY_OPENINGS[i % 8]}、{name}は{STORY_ENDINGS[i % 5]}。第{i}節。" for i in range(count)
    ]


def padding(sentences: int) -> str:
    """Sentences that make a definition long, as real ones are (BM25 prefers short paragraphs)."""
    return "".join(
        f"その歴史は古く、多くの記録が第{i}の資料に残されている。" for i in range(sentences)
    )


def index_of_files(tmp_path: Path, files: dict[str, list[str]]) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, lines in files.items():
        (docs / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    search.build_index(docs, tmp_path / "ix")
    return tmp_path / "ix"


def test_a_definition_outranks_a_story_titled_with_the_name(tmp_path):
    """大石内蔵助とは何ですか: the lines of a story titled 或日の大石内蔵助 say only 内蔵助 (held
    through the title), which the reranker favours; the definition comes first, then the
    paragraphs naming him in full, then the story."""
    definition = (
        "大石内蔵助（おおいし くらのすけ）は、江戸時代前期の武士で、播磨国赤穂藩の筆頭家老である。"
        + padding(12)
    )
    naming = "芝居では大石内蔵助の名は大星由良助に変えられた。"
    ix = index_of_files(
        tmp_path,
        {
            "story.txt": ["或日の大石内蔵助", *story("内蔵助")],
            "people.txt": ["赤穂事件の人びと", definition, naming, "吉良上野介は高家肝煎である。"],
        },
    )
    hits = search.search("大石内蔵助とは何ですか", ix, limit=5).hits
    assert [(hit.source, hit.line) for hit in hits[:2]] == [("people.txt", 2), ("people.txt", 3)]
    assert all(hit.source == "story.txt" for hit in hits[2:])


@pytest.mark.parametrize(
    "definition",
    [
        "版面とは、紙面のうち文字や図版を配置する領域である。",
        "版面は、紙面のうち文字や図版を配置する領域である。",
        "版面は紙面のうち文字や図版を配置する領域のことである。",
        "紙面のうち文字や図版を配置する領域のことを版面という。",
        "版面（はんめん）は、紙面のうち文字や図版を配置する領域。",
        "版面：紙面のうち文字や図版を配置する領域。",
    ],
)
@pytest.mark.parametrize("question", ["版面とは何ですか", "版面とは何か", "版面とは"])
def test_each_form_of_definition_is_first(tmp_path, definition, question):
    """Short notes naming 版面 fill BM25's best hundred; the long definition, below them, is
    found by its form and comes first."""
    ix = index_of_files(
        tmp_path,
        {
            "notes.txt": ["組版の覚え書き", *story("版面")],
            "glossary.txt": ["用語集", definition + padding(12), "余白は版面の外側にある。"],
        },
    )
    with search.Searcher(ix) as searcher:
        bm25 = searcher.ranking.question_candidates(
            dataclasses.replace(parse(question), defined=None), 100
        )[0]
        held = [searcher.ranking.stored_fields(docnum) for _, docnum in bm25]
        assert ("glossary.txt", 2) not in {(fields["source"], fields["line"]) for fields in held}
        hits = searcher.search(question, limit=3).hits
    assert (hits[0].source, hits[0].line) == ("glossary.txt", 2)


def test_a_faq_heading_that_is_the_question_does_not_hide_its_answer(tmp_path):
    ix = index_of_files(
        tmp_path,
        {
            "faq.txt": [
                "よくある質問",
                "ルビとは何ですか？",
                "ルビとは、文字のそばに付けて読み方を示す小さな文字のことです。",
                "ルビの大きさは親文字の半分が普通です。",
            ]
        },
    )
    hits = search.search("ルビとは何ですか？", ix).hits
    assert [hit.line for hit in hits][:1] == [3]
    assert {hit.line for hit in hits} == {2, 3, 4}


def test_a_sentence_held_as_typed_is_not_followed_by_its_common_words(tmp_path):
    ix = index_of_files(
        tmp_path,
        {
            "kusamakura.txt": [
                "草枕",
                "山路を登りながら、こう考えた。",
                "智に働けば角が立つ。情に棹させば流される。",
                "角が立つ言い方は避けたい。",
                "席を立つと、角の店に寄った。",
                "智恵の働く人が立つ。",
            ]
        },
    )
    results = search.search("智に働けば角が立つ", ix)
    assert [(hit.line, hit.highlights) for hit in results.hits] == [(3, [(0, 9)])]
    assert results.total == 1
    # Not held as typed anywhere: asked as a question, any of its words.
    asked = search.search("智に働けば角が折れる", ix)
    assert asked.total > 1 and asked.hits[0].line == 3
