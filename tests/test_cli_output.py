"""What `kensaku search` prints, for a person and for tools: paths that open from here, the header's
counts, pages, --vimgrep columns that land on the match, -l, -c, the terminal's width, control
characters made visible, the JSON fields. Through CliRunner, and a pseudo-terminal for the width."""

from __future__ import annotations

import json
import os
import re
import shutil

import search
from search.cli.terminal import cells

from .conftest import REPO, SEEDS, run_in_terminal

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
VIM_LINE = re.compile(r"(?P<path>[^:]+):(?P<line>\d+):(?P<column>\d+):(?P<text>.*)")


def hit_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if re.match(r"\s*\d+\. ", line)]


# Paths


def test_a_document_below_the_working_directory_is_cited_relative_to_it(kensaku, tmp_path):
    shutil.copytree(SEEDS, tmp_path / "docs")
    result = kensaku("search", "--docs", "docs", "--index", "ix", "ピラー2")
    assert result.exit_code == 0, result.output
    assert hit_lines(result.stdout)[0] == " 1. docs/001_2eb2e19b899ffa84.txt:8  ¶8"
    assert "    also at docs/001_2eb2e19b899ffa84.txt:19\n" in result.stdout
    (tmp_path / "sub").mkdir()
    os.chdir(tmp_path / "sub")  # kensaku's fixture restores the working directory
    above = kensaku("search", "--index", "../ix", "-l", "ピラー2")
    assert above.stdout.splitlines() == [
        str(tmp_path / "docs" / "001_2eb2e19b899ffa84.txt"),
        str(tmp_path / "docs" / "000_9ac1f42681134e70.txt"),
    ]


# The header: how many match, which are shown


def test_the_header_counts_hits_when_repeats_are_merged(kensaku):
    # 11 paragraphs hold 司令部, two of which repeat others: 9 hits, all shown under the limit.
    assert kensaku("search", "司令部").stdout.startswith(
        "11 paragraphs match 司令部: 9 hits, repeats cited together\n\n"
    )
    assert kensaku("search", "-n", "1000", "ピラー2").stdout.startswith(
        "13 paragraphs match ピラー2: 10 hits, repeats cited together\n\n"
    )
    assert kensaku("search", "防衛省").stdout.startswith("8 paragraphs match 防衛省\n\n")
    assert kensaku("search", "-n", "9", "ピラー2").stdout.startswith(
        "13 paragraphs match ピラー2, showing the best 9\n\n"
    )


def test_pages_follow_one_another(kensaku):
    def page(offset: int) -> list[tuple[int, str, int]]:
        data = json.loads(
            kensaku("search", "--json", "-n", "3", "--offset", str(offset), "日米").stdout
        )
        return [(hit["rank"], hit["source"], hit["line"]) for hit in data["hits"]]

    whole = json.loads(kensaku("search", "--json", "-n", "12", "日米").stdout)
    assert [(h["rank"], h["source"], h["line"]) for h in whole["hits"]] == page(0) + page(3) + page(
        6
    ) + page(9)
    second = kensaku("search", "-n", "3", "--offset", "3", "日米")
    assert second.stdout.startswith("52 paragraphs match 日米, showing hits 4–6\n\n")
    assert [line.split(".")[0].strip() for line in hit_lines(second.stdout)] == ["4", "5", "6"]


def test_pages_of_ten_join_into_the_whole_list_without_repeats_or_gaps(kensaku):
    """The order of the first hits does not depend on how many are asked for: 000:42 ¶26 came
    twice and 003:3 on no page when each page reordered a head as deep as its offset."""

    def cited(*args: str) -> list[tuple[str, int, int]]:
        data = json.loads(kensaku("search", "--json", *args, "防衛").stdout)
        return [(hit["source"][:3], hit["line"], hit["paragraph"]) for hit in data["hits"]]

    whole = cited("-n", "100")
    paged = [hit for offset in (0, 10, 20, 30) for hit in cited("--offset", str(offset))]
    assert len(whole) == 39 and paged == whole
    assert paged.count(("000", 42, 26)) == 1 and ("003", 3, 2) in paged


def test_the_last_page_says_so_and_a_page_past_the_end_finds_nothing(kensaku):
    last = kensaku("search", "--json", "-n", "5", "--offset", "5", "ピラー2")
    assert (json.loads(last.stdout)["more"], len(json.loads(last.stdout)["hits"])) == (False, 5)
    assert json.loads(kensaku("search", "--json", "-n", "5", "ピラー2").stdout)["more"] is True
    past = kensaku("search", "--offset", "10", "ピラー2")
    assert (past.exit_code, past.stdout) == (
        1,
        "13 paragraphs match ピラー2; none after the first 10 hits\n",
    )


def test_a_relaxed_search_says_so_in_the_header_and_the_json(kensaku):
    result = kensaku("search", "ピラー2", "量子暗号")
    assert result.stdout.startswith(
        "no paragraph has all of ピラー2 量子暗号; 13 paragraphs have "
        "some of its words: 10 hits, repeats cited together\n"
    )
    data = json.loads(kensaku("search", "--json", "ピラー2", "量子暗号").stdout)
    assert (data["relaxed"], data["total"]) == (True, 13)
    assert all(hit["partial"] for hit in data["hits"])
    assert json.loads(kensaku("search", "--json", "ピラー2").stdout)["relaxed"] is False


# --vimgrep, -l, -c


def test_vimgrep_columns_land_on_the_first_match_in_the_file(kensaku):
    data = json.loads(kensaku("search", "--json", "ピラー2").stdout)
    lines = kensaku("search", "--vimgrep", "ピラー2").stdout.splitlines()
    places = [(hit, place) for hit in data["hits"] for place in [hit, *hit["also"]]]
    assert len(lines) == len(places) > 10  # a line a place: the repeats too
    for line, (hit, place) in zip(lines, places):
        found = VIM_LINE.fullmatch(line).groupdict()
        assert (found["path"], int(found["line"])) == (place["path"], place["line"])
        start, end = hit["highlights"][0]
        file_line = open(found["path"], encoding="utf-8").read().split("\n")[place["line"] - 1]
        assert file_line.encode()[int(found["column"]) - 1 :].startswith(
            hit["text"][start:end].encode()
        )
        assert found["text"] == hit["snippet"]
    # The first ピラー2 of line 8 stands 180 bytes into it, after 「ピラー1」.
    assert lines[0].startswith(f"{SEEDS}/001_2eb2e19b899ffa84.txt:8:180:AUKUS合意は")


def test_vimgrep_counts_bytes_from_the_start_of_a_long_line_that_was_cut(kensaku, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    sentence = "これは長い一行の文章です。"  # 13 characters, 39 bytes
    line = sentence * 400 + "ここに特別な語がある。" + sentence * 100
    (docs / "long.txt").write_text("題名\n" + line + "\n", encoding="utf-8")
    result = kensaku("search", "--docs", "docs", "--index", "ix", "--vimgrep", "特別な語")
    found = VIM_LINE.fullmatch(result.stdout.strip()).groupdict()
    assert (found["path"], found["line"]) == ("docs/long.txt", "2")
    column = int(found["column"])
    assert column == len((sentence * 400 + "ここに").encode()) + 1
    assert line.encode()[column - 1 :].startswith("特別な語".encode())
    text = kensaku("search", "--docs", "docs", "--index", "ix", "特別な語").stdout
    # Cut at the sentence end before 4,000 characters: the piece starts at character 3,992.
    assert hit_lines(text)[0] == " 1. docs/long.txt:2:3992  ¶3  題名"


def test_repeats_are_cited_only_where_the_filters_keep_their_documents(kensaku, tmp_path):
    """--vimgrep, the JSON `also` and "also at" list the same text elsewhere only in the
    documents the filters (options, or the query's own) keep: x/one.txt was cited though -g '!x',
    path:three.txt or -source:one left it out, while total and -c left it out."""
    docs = tmp_path / "docs"
    (docs / "x").mkdir(parents=True)
    (docs / "three.txt").write_text("重複する段落の本文です。\n", encoding="utf-8")
    (docs / "x" / "one.txt").write_text("序文。\n\n重複する段落の本文です。\n", encoding="utf-8")
    where = ("--docs", "docs", "--index", "ix")
    everywhere = json.loads(kensaku("search", *where, "--json", "重複").stdout)
    assert [
        (hit["source"], [place["source"] for place in hit["also"]]) for hit in everywhere["hits"]
    ] == [("three.txt", ["x/one.txt"])]
    for narrowed in (["重複 path:three.txt"], ["-g", "!x", "重複"], ["重複 -source:one"]):
        vimgrep = kensaku("search", *where, "--vimgrep", *narrowed).stdout
        assert vimgrep == "docs/three.txt:1:1:重複する段落の本文です。\n", narrowed
        data = json.loads(kensaku("search", *where, "--json", *narrowed).stdout)
        assert (data["total"], [hit["also"] for hit in data["hits"]]) == (1, [[]]), narrowed
        assert "also at" not in kensaku("search", *where, *narrowed).stdout


def test_files_with_matches_and_counts_best_first(kensaku):
    files = kensaku("search", "-l", "ピラー2")
    assert (files.exit_code, files.stdout) == (
        0,
        f"{SEEDS}/001_2eb2e19b899ffa84.txt\n{SEEDS}/000_9ac1f42681134e70.txt\n",
    )
    counts = kensaku("search", "--count", "日米").stdout.splitlines()
    assert [line.rsplit(":", 1)[0] for line in counts] == [
        f"{SEEDS}/{name}.txt"
        for name in (
            "004_7af21bdf63ee1157",
            "001_2eb2e19b899ffa84",
            "003_b53a17d89b495407",
            "002_5cfbee36016c52e4",
            "000_9ac1f42681134e70",
        )
    ]
    assert sum(int(line.rsplit(":", 1)[1]) for line in counts) == 52  # the total, repeats too
    assert kensaku("search", "--files-with-matches", "-n", "1", "日米").stdout.count("\n") == 5


# What reaches the terminal


def test_hit_lines_fit_the_terminal_and_show_scores_only_when_asked(seed_index):
    env = dict(os.environ, KENSAKU_INDEX=str(seed_index))
    status, output = run_in_terminal(["search", "ピラー2"], env, cwd=REPO, columns=64)
    assert status == 0, output
    lines = hit_lines(ANSI.sub("", output))
    assert len(lines) == 10
    assert " 2. seeds/000_9ac1f42681134e70.txt:156  ¶96  日本関連" in lines
    assert not any(re.search(r"\(\d+\.\d\d\)", line) for line in lines)
    assert "\x1b[31m\x1b[1mピラー2\x1b[0m" in output  # colour, on a terminal
    assert not re.search(r"\x1b\[[0-9;]+m\x1b\[0m", output)  # no empty colour sequence
    status, output = run_in_terminal(["search", "--scores", "ピラー2"], env, cwd=REPO, columns=64)
    lines = hit_lines(ANSI.sub("", output))
    for line in lines:
        assert cells(line) <= 63, line
        assert re.search(r"  \(\d+\.\d\d\)$", line), line
    assert " 2. seeds/000_9ac1f42681134e70.txt:156  ¶96  日本…  (11179.91)" in lines
    narrow = hit_lines(
        ANSI.sub(
            "", run_in_terminal(["search", "--scores", "ピラー2"], env, cwd=REPO, columns=40)[1]
        )
    )
    assert narrow[0] == " 1. seeds/001_2eb2e19b899ffa84.txt:8  ¶8"  # no room for the score


def test_a_snippet_leaves_out_the_paragraphs_indent(kensaku):
    result = kensaku("search", "--json", "-n", "3", "ピラー2")
    hit = next(hit for hit in json.loads(result.stdout)["hits"] if hit["line"] == 156)
    assert hit["text"].startswith("    ピラー2は正直")
    assert hit["snippet"].startswith("ピラー2は正直")
    assert hit["snippet"][slice(*hit["snippet_highlights"][0])] == "ピラー2"
    text = kensaku("search", "-n", "3", "ピラー2").stdout
    assert "\n    ピラー2は正直日米協力がメイン" in text


def test_control_characters_of_a_query_and_a_document_are_shown_not_obeyed(kensaku, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "odd.txt").write_text(
        "題名\n\x1b[2J危険な\x07文書\x1b]0;title\x07です。\n", encoding="utf-8"
    )
    for args in (["危険な\x07"], ["--vimgrep", "危険な"], ["-l", "危険な"]):
        result = kensaku("search", "--docs", "docs", "--index", "ix", *args)
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    shown = kensaku("search", "--docs", "docs", "--index", "ix", "危険な\x07").stdout
    assert shown.startswith("1 paragraph matches 危険な␇\n")
    assert "    ␛[2J危険な␇文書␛]0;title␇です。\n" in shown


def test_a_zero_width_space_in_a_query_is_ignored(kensaku):
    plain = json.loads(kensaku("search", "--json", "ピラー2").stdout)
    copied = json.loads(kensaku("search", "--json", "ピラー\u200b2").stdout)
    assert copied["total"] == plain["total"] == 13
    assert copied["hits"] == plain["hits"]
    assert search.search("\ufeffピラー\u200d2\u00ad", os.environ["KENSAKU_INDEX"]).total == 13
