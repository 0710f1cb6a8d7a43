"""Hostile documents: every file is indexed correctly or skipped with a one-line warning naming it,
the rest of the corpus is indexed, and the documents are only ever read."""

from __future__ import annotations

import codecs
import os
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import search
from search.cli.main import main
from search.index.manifest import Manifest
from search.ingest.discovery import scan
from search.ingest.paragraphs import MAX_PARAGRAPH_CHARS, UnreadableDocument, read_paragraphs
from search.ingest.readers.decoding import decode

from .conftest import SEEDS

SHIFT_JIS_LINE = "相模原の倉庫で見つかった帳簿は、昭和の終わりから平成にかけての記録だった。"
EUC_JP_LINE = "函館の古書店には、北前船の航海日誌が三冊残されている。"
UTF16_LINE = "那覇の市場では、島らっきょうが山積みになっていた。"
BOM_LINE = "釧路湿原の丹頂鶴は、冬になると給餌場に集まる。"
INNER_LINE = "ディレクトリの名前が拡張子に見えても中身は読まれる。"
SKIPPED = {"binary.txt", "loop.txt", "dangling.txt", "fifo.txt", "proc-mem.txt"}


def write_hostile_corpus(docs: Path) -> None:
    """The seeds, and beside them one file of each hostile kind."""
    shutil.copytree(SEEDS, docs)
    (docs / "empty.txt").write_bytes(b"")
    (docs / "blank.txt").write_bytes(b"\n \r\n\t\n")
    (docs / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (docs / "shift_jis.txt").write_bytes(f"帳簿\n{SHIFT_JIS_LINE}\r\n".encode("cp932"))
    (docs / "euc_jp.txt").write_bytes(f"日誌\n{EUC_JP_LINE}\n".encode("euc_jp"))
    (docs / "utf16.txt").write_bytes(f"市場\n{UTF16_LINE}\n".encode("utf-16"))
    (docs / "bom.txt").write_bytes(codecs.BOM_UTF8 + f"丹頂\n{BOM_LINE}\n".encode())
    (docs / "invalid.txt").write_bytes("壊れた文書です。".encode() * 5 + b"\xff\xc0\x80\n")
    (docs / "loop.txt").symlink_to("loop.txt")
    (docs / "dangling.txt").symlink_to("nowhere/at/all.txt")
    os.mkfifo(docs / "fifo.txt")
    (docs / "proc-mem.txt").symlink_to("/proc/self/mem")  # a regular file whose read fails
    (docs / "folder.txt").mkdir()
    (docs / "folder.txt" / "inner.txt").write_text(f"中身\n{INNER_LINE}\n", encoding="utf-8")
    (docs / "sub").mkdir()
    (docs / "sub" / "up").symlink_to("..")  # a directory loop


def snapshot(docs: Path) -> dict:
    """Everything about the documents that writing to them could change."""
    state = {}
    for folder, _, files in os.walk(docs):
        for name in files:
            path = Path(folder, name)
            status = path.lstat()
            content = path.read_bytes() if path.is_file() and not path.is_symlink() else None
            state[str(path)] = (status.st_mode, status.st_size, status.st_mtime_ns, content)
    return state


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The hostile corpus indexed through the CLI: (docs, index, result, snapshot before)."""
    root = tmp_path_factory.mktemp("hostile")
    docs, index_dir = root / "docs", root / "index"
    write_hostile_corpus(docs)
    before = snapshot(docs)
    result = CliRunner().invoke(main, ["index", "--docs", str(docs), "--index", str(index_dir)])
    return docs, index_dir, result, before


def test_the_hostile_corpus_is_indexed_with_one_warning_per_skipped_file(hostile):
    _, _, result, _ = hostile
    assert result.exit_code == 0, result.output
    warnings = result.stderr.strip().splitlines()
    skipped = [w for w in warnings if w.startswith("kensaku: skipped ")]
    assert sorted(w.split(":")[1].split()[-1] for w in skipped) == sorted(SKIPPED)
    # A file with a few bad bytes is indexed, with one warning naming the file, line and count.
    assert set(warnings) - set(skipped) == {
        "kensaku: invalid.txt: 3 bytes not valid in UTF-8 replaced with U+FFFD (the first on line 1)"
    }
    assert f"{len(SKIPPED)} skipped" in result.stdout
    assert "indexed 13 documents" in result.stdout  # the 5 seeds and the 8 readable hostile ones


@pytest.mark.parametrize(
    "name, reason",
    [
        ("binary.txt", "binary file (a NUL byte at offset 8)"),
        ("loop.txt", "Too many levels of symbolic links"),
        ("dangling.txt", "No such file or directory"),
        ("fifo.txt", "not a regular file"),
        ("proc-mem.txt", "cannot read it"),
    ],
)
def test_each_skipped_file_is_named_with_its_reason(hostile, name, reason):
    warning = next(w for w in hostile[2].stderr.splitlines() if f" {name}:" in w)
    assert reason in warning


@pytest.mark.parametrize(
    "query, source, line, text",
    [
        ("相模原", "shift_jis.txt", 2, SHIFT_JIS_LINE),
        ("北前船", "euc_jp.txt", 2, EUC_JP_LINE),
        ("島らっきょう", "utf16.txt", 2, UTF16_LINE),
        ("丹頂鶴", "bom.txt", 2, BOM_LINE),
        ("拡張子", "folder.txt/inner.txt", 2, INNER_LINE),
        ("ピラー2", "001_2eb2e19b899ffa84.txt", 6, "◆日本、「ピラー2」参加の可能性"),
    ],
)
def test_readable_files_are_decoded_and_found(hostile, query, source, line, text):
    results = search.search(query, hostile[1], limit=20)
    hit = next(h for h in results.hits if h.source == source and h.line == line)
    assert (hit.line, hit.text) == (line, text)


def test_the_title_of_a_bom_file_has_no_bom(hostile):
    hit = search.search("丹頂鶴", hostile[1]).hits[0]
    assert hit.title == "丹頂"


def test_the_documents_are_only_read(hostile):
    docs, _, _, before = hostile
    assert snapshot(docs) == before


def test_the_manifest_records_every_listed_document(hostile):
    files = Manifest.load(hostile[1]).files
    assert {"empty.txt", "shift_jis.txt", "folder.txt/inner.txt", "loop.txt"} <= set(files)
    assert not any(name.startswith("sub/up/") for name in files)


@pytest.mark.skipif(
    os.geteuid() == 0,
    reason="root reads a chmod 000 file anyway; "
    "the read-error path is covered by proc-mem.txt, whose read fails for root too",
)
def test_an_unreadable_file_is_skipped_with_a_warning(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(SEEDS, docs)
    locked = docs / "locked.txt"
    locked.write_text("秘密\n", encoding="utf-8")
    locked.chmod(0)
    result = CliRunner().invoke(
        main, ["index", "--docs", str(docs), "--index", str(tmp_path / "i")]
    )
    assert result.exit_code == 0
    assert "kensaku: skipped locked.txt: cannot read it: Permission denied" in result.stderr
    assert "indexed 5 documents" in result.stdout


FIVE_MEGABYTES = pytest.param(
    5_000_000,
    marks=pytest.mark.skipif(
        not os.environ.get("KENSAKU_SLOW_TESTS"),
        reason="about a minute to index and to search; set KENSAKU_SLOW_TESTS=1 to run it",
    ),
)


@pytest.mark.parametrize("size", [200_000, FIVE_MEGABYTES])
def test_a_long_single_line_is_cut_into_paragraphs_at_sentence_ends(tmp_path, size):
    """Far longer than MAX_PARAGRAPH_CHARS: indexed as paragraphs of whole sentences, each cited
    by its line and the column where it starts."""
    docs = tmp_path / "docs"
    docs.mkdir()
    sentence = "防衛装備品の共同開発について日米の担当者が協議した。"
    line = sentence * (size // len(sentence.encode("utf-8"))) + "最後の一文に灯台守。"
    (docs / "huge.txt").write_text(line, encoding="utf-8")
    started = time.perf_counter()
    summary = search.build_index(docs, tmp_path / "index")
    indexed = time.perf_counter() - started
    hit = search.search("灯台守", tmp_path / "index").hits[0]
    searched = time.perf_counter() - started - indexed
    pieces = -(-len(line) // (MAX_PARAGRAPH_CHARS - len(sentence)))
    assert (summary.documents, summary.paragraphs) == (1, pieces)
    assert (hit.line, hit.paragraph) == (1, pieces)
    assert line[hit.column - 1 :] == hit.text and hit.text.startswith(sentence)
    assert len(hit.text) <= MAX_PARAGRAPH_CHARS
    assert [hit.text[start:end] for start, end in hit.highlights] == ["灯台守"]
    print(f"{size:,}-byte line: indexed in {indexed:.1f} s, searched in {searched:.1f} s")


def test_a_paragraph_that_sudachis_normalization_makes_too_long_is_indexed(tmp_path):
    """ﷺ is 18 characters to Sudachi: 3,000 of them (9 KB) are 99 KB to it, more than it takes
    at once, though the paragraph is well under the length the build cuts text at."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ligatures.txt").write_text(
        "前書き。\n" + "ﷺ" * 3000 + "\n末尾の灯台守。\n", encoding="utf-8"
    )
    result = CliRunner().invoke(
        main, ["index", "--docs", str(docs), "--index", str(tmp_path / "index")]
    )
    assert (result.exit_code, result.stderr) == (0, "")
    assert "1 document, 3 paragraphs" in result.output
    hit = search.search("灯台守", tmp_path / "index").hits[0]
    assert (hit.line, hit.text, hit.highlights) == (3, "末尾の灯台守。", [(3, 6)])


# Encoding detection

JAPANESE = st.text(
    st.sampled_from(
        "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん"
        "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンー"
        "日本語文書検索防衛協力同盟司令部作戦統合東京大阪北海道沖縄昭和平成令和年月日時分秒"
        "、。「」（）・！？　0123456789abcABC \n"
    ),
    min_size=4,
    max_size=200,
)


@settings(max_examples=150, deadline=None)
@given(text=JAPANESE, encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp932", "euc_jp", "utf-16"]))
def test_japanese_text_in_any_supported_encoding_decodes_to_itself(text, encoding):
    data = text.encode(encoding)
    if encoding in ("cp932", "euc_jp") and _valid_utf8(data):
        # Plain ASCII, or a few kanji whose bytes happen to form UTF-8 too (000平 in EUC-JP is
        # 000ʿ in UTF-8): valid UTF-8 is read as UTF-8, as the decoder says it does.
        assert decode(data).encoding == "UTF-8"
        return
    assert decode(data).text == text


def _valid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_decode_or_raise_unreadable_document(data):
    try:
        assert isinstance(decode(data).text, str)
    except UnreadableDocument as problem:
        assert "\n" not in str(problem)


def test_a_directory_loop_is_not_followed(tmp_path):
    (tmp_path / "a.txt").write_text("一\n", encoding="utf-8")
    (tmp_path / "loop").symlink_to(tmp_path)
    assert [d.source for d in scan(tmp_path).documents] == ["a.txt"]


def test_a_symlink_loop_is_listed_then_skipped_with_its_reason(tmp_path):
    (tmp_path / "loop.txt").symlink_to("loop.txt")
    [document] = scan(tmp_path).documents
    with pytest.raises(UnreadableDocument, match="symbolic links"):
        list(read_paragraphs(document))
