"""search.engine.builder writes the index Whoosh's own writer writes with kensaku's codec (the
same bytes), found and scored as Whoosh's W3 index is, faster, in parallel, safely."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from search.errors import IndexWorkerDied
from search.index import writer
from search.index.schema import paragraph_fields, schema
from search.ingest.discovery import scan
from search.ingest.paragraphs import read_document, read_paragraphs

from .conftest import whoosh_writer_index

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
QUERIES = [
    "ピラー2",
    "統合作戦司令部",
    "司令",
    "日米2プラス2",
    "部",
    "とうごう",
    "日本で梅雨がないのは北海道とどこか。",
    "ピラー2 韓国",
    "ピラー1 OR ピラー2",
    "ピラー2 -韓国",
    "(ピラー1 OR ピラー2) 韓国",
    '"日米 同盟"',
    "ー2",
    "衛技術、サ",
]


@pytest.fixture(scope="module")
def documents():
    return scan(SEEDS).documents


@pytest.fixture(scope="module")
def stock(tmp_path_factory, documents):
    path = tmp_path_factory.mktemp("stock") / "ix"
    whoosh_writer_index(path, documents)
    return path


def _open(path):
    from whoosh.index import open_dir

    return open_dir(str(path))


def _key(stored):
    return stored["source"], stored["paragraph"]


def _results(path):
    """query -> {(source, paragraph): score}, for every query."""
    from search.query.parser import parse
    from search.query.plan import to_whoosh

    found = {}
    with _open(path).searcher() as searcher:
        reader = searcher.reader()

        def lexicon(field, term):
            return (field, term) in reader

        for text in QUERIES:
            hits = searcher.search(to_whoosh(parse(text).tree, lexicon), limit=None)
            found[text] = {_key(hit.fields()): hit.score for hit in hits}
    return found


def _documents(path):
    """(source, paragraph) -> (stored fields, same_text, field lengths)."""
    ix = _open(path)
    schema = ix.schema
    lengths = [n for n in schema.names() if schema[n].scorable]
    with ix.searcher() as searcher:
        reader = searcher.reader()
        same_text = reader.column_reader("same_text")
        return {
            _key(stored): (
                stored,
                same_text[docnum],
                {n: reader.doc_field_length(docnum, n) for n in lengths},
            )
            for docnum, stored in reader.iter_docs()
        }


def _statistics(path):
    ix = _open(path)
    with ix.searcher() as searcher:
        reader = searcher.reader()
        names = [n for n in ix.schema.names() if ix.schema[n].scorable]
        return (
            reader.doc_count(),
            {n: reader.field_length(n) for n in names},
            {n: sorted(reader.lexicon(n)) for n in reader.indexed_field_names()},
        )


def _assert_same(stock, mine):
    expected, actual = _results(stock), _results(mine)
    for query in QUERIES:
        assert expected[query], f"{query} finds nothing: a weak test"
        assert expected[query].keys() == actual[query].keys(), query
        for key, score in expected[query].items():
            assert actual[query][key] == pytest.approx(score, rel=1e-6, abs=1e-6), (query, key)
    assert _documents(stock) == _documents(mine)
    assert _statistics(stock) == _statistics(mine)


def test_same_index_as_whoosh_writer(tmp_path, documents, stock):
    summary = writer.write_index(tmp_path / "ix", documents, read_document, procs=1)
    assert (summary.documents, summary.paragraphs, summary.skipped) == (5, 233, {})
    _assert_same(stock, tmp_path / "ix")


def _segment_files(path):
    ix = _open(path)
    [seg] = ix._segments()
    storage = seg.open_compound_file(ix.storage)
    prefix = seg.segment_id()
    return {name[len(prefix) :]: bytes(storage.open_file(name).read()) for name in storage.list()}


def test_writes_the_bytes_whoosh_writes_with_the_codec(tmp_path, documents):
    from search.index.codec import CompactCodec

    whoosh_writer_index(tmp_path / "whoosh", documents, codec=CompactCodec())
    writer.write_index(tmp_path / "ix", documents, read_document, procs=1)
    expected, got = _segment_files(tmp_path / "whoosh"), _segment_files(tmp_path / "ix")
    assert {".ktm", ".kps", "._stored.col"} <= expected.keys()
    assert got == expected


def _stock_segments(path, documents, counts):
    """A Whoosh index written by Whoosh's writer, one commit per segment of `counts` documents
    (Whoosh's scores of some queries, `部` for one, depend on how the index is segmented)."""
    from whoosh.index import create_in

    path.mkdir()
    ix = create_in(str(path), schema())
    paragraphs = iter([p for d in documents for p in read_paragraphs(d)])
    for count in counts:
        writer = ix.writer()
        for _ in range(count):
            writer.add_document(**paragraph_fields(next(paragraphs)))
        writer.commit(merge=False)
    assert next(paragraphs, None) is None
    return path


def test_many_segments_in_two_workers(tmp_path, documents):
    progress = []
    summary = writer.write_index(
        tmp_path / "ix",
        documents,
        read_document,
        procs=2,
        max_tokens=6000,
        progress=lambda done, total, doc: progress.append(done),
    )
    assert (summary.documents, summary.paragraphs) == (5, 233)
    assert progress == [1, 2, 3, 4, 5]
    counts = [s.doc_count_all() for s in _open(tmp_path / "ix")._segments()]
    assert len(counts) > 5
    _assert_same(_stock_segments(tmp_path / "stock", documents, counts), tmp_path / "ix")
    # Document numbers follow the documents' order, as with one writer.
    with _open(tmp_path / "ix").searcher() as searcher:
        keys = [_key(stored) for _, stored in searcher.reader().iter_docs()]
    assert keys == sorted(keys)


def test_unreadable_document_is_skipped_with_warning(tmp_path, documents):
    docs_dir = tmp_path / "docs"
    shutil.copytree(SEEDS, docs_dir)
    (docs_dir / "bad.txt").write_bytes(b"\x00\x01binary")
    warnings = []
    summary = writer.write_index(
        tmp_path / "ix", scan(docs_dir).documents, read_document, procs=2, warn=warnings.append
    )
    assert summary.skipped == {"bad.txt": "it is a binary file (a NUL byte at offset 0)"}
    assert len(warnings) == 1 and "bad.txt" in warnings[0]
    assert summary.documents == 5 and _open(tmp_path / "ix").doc_count() == 233


class Boom(Exception):
    pass


def _explode(analysis, text):
    if "ピラー" in text:
        raise Boom("analysis failed")
    return _add(analysis, text)


_add = None


@pytest.mark.parametrize("procs", [1, 2])
def test_error_in_worker_propagates(tmp_path, documents, monkeypatch, procs):
    from search.text.bulk import BulkAnalysis

    global _add
    _add = BulkAnalysis.add
    monkeypatch.setattr(BulkAnalysis, "add", _explode)  # inherited by forked workers
    with pytest.raises(Boom):
        writer.write_index(tmp_path / "ix", documents, read_document, procs=procs)
    # Nothing half-written is left behind, and the index holds no document.
    assert not [
        p
        for p in (tmp_path / "ix").iterdir()
        if p.name.startswith("MAIN_") and p.name != "MAIN_WRITELOCK"
    ]
    assert _open(tmp_path / "ix").doc_count() == 0


def test_dead_worker_is_an_error(tmp_path, documents, monkeypatch):
    import os

    from search.text.bulk import BulkAnalysis

    monkeypatch.setattr(BulkAnalysis, "add", lambda analysis, text: os._exit(3))
    with pytest.raises(IndexWorkerDied) as died:
        writer.write_index(tmp_path / "ix", documents, read_document, procs=2)
    assert str(died.value) == (
        "indexing worker 0 exited with code 3 before it finished; the index was left as it was"
    )


def test_a_worker_killed_by_the_kernel_is_one_line_of_the_cli_and_the_index_stays(
    tmp_path, documents, monkeypatch
):
    """As the out-of-memory killer would: SIGKILL, in the middle of an update."""
    import os
    import signal

    from click.testing import CliRunner

    from search.cli.main import main
    from search.text.bulk import BulkAnalysis

    docs = SEEDS
    index_dir = tmp_path / "index"
    assert (
        CliRunner()
        .invoke(main, ["index", "--docs", str(docs), "--index", str(index_dir)])
        .exit_code
        == 0
    )
    before = sorted(p.name for p in index_dir.iterdir())
    monkeypatch.setattr(
        BulkAnalysis, "add", lambda analysis, text: os.kill(os.getpid(), signal.SIGKILL)
    )
    result = CliRunner().invoke(
        main, ["index", "--rebuild", "--docs", str(docs), "--index", str(index_dir)]
    )
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: indexing worker 0 was killed by SIGKILL (out of memory?) before it finished; "
        "the index was left as it was"
    ]
    assert sorted(p.name for p in index_dir.iterdir()) == before


def test_add_to_index_replaces_a_source(tmp_path, documents):
    path = tmp_path / "ix"
    writer.write_index(path, documents[:3], read_document, procs=1)
    writer.add_to_index(path, documents[2:], read_document, procs=1)  # documents[2] again: replaced
    assert _open(path).doc_count() == 233
    expected = tmp_path / "stock"
    whoosh_writer_index(expected, documents[:2])
    from whoosh.index import open_dir

    with open_dir(str(expected)).writer() as whoosh_writer:  # Whoosh's incremental update
        for document in documents[2:]:
            for paragraph in read_paragraphs(document):
                whoosh_writer.add_document(**paragraph_fields(paragraph))
        whoosh_writer.merge = False
    assert sorted(_documents(expected)) == sorted(_documents(path))
    assert _results(expected).keys() == _results(path).keys()
    for query, hits in _results(expected).items():
        assert hits.keys() == _results(path)[query].keys()
    writer.add_to_index(path, [], read_document, delete_sources=[documents[0].source])
    with _open(path).searcher() as searcher:
        sources = {stored["source"] for stored in searcher.reader().all_stored_fields()}
    assert sources == {d.source for d in documents[1:]}


@pytest.mark.parametrize("nul", ["a\0b", "ab"])  # the grams' texts made one by one, or by numpy
def test_grams_made_in_bulk_are_analysis_grams(nul):
    """The builder makes the grams field's terms for a whole segment at once, as numbers; they
    are search.text.analysis.grams of each text, at the same positions, in term order: a character
    alone sorts before its bigrams, NUL and characters beyond the BMP included."""
    from search.text.analysis import fold, grams

    texts = ["統合作戦司令部", "", "あ", "ああ", nul, "𠮷野家の𠮷", "ＡＩとAI", "部"]
    tokens = writer._Grams()
    for doc, text in enumerate(texts):
        assert tokens.add(doc, fold(text)) == len(grams(fold(text)))
    built = tokens.sorted()
    got = [
        (built.names[t], d, p)
        for t, d, p in zip(built.terms.tolist(), built.docs.tolist(), built.positions.tolist())
    ]
    expected = sorted(
        (
            (gram, doc, at)
            for doc, text in enumerate(texts)
            for at, gram in enumerate(grams(fold(text)))
        ),
        key=lambda token: token[0].encode("utf-8"),
    )
    assert got == expected
    assert built.names == sorted(set(built.names), key=lambda name: name.encode("utf-8"))
    assert ("部", 7, 0) in got and ("部", 0, 6) in got and (nul[:2], 4, 0) in got
    assert ("a", 4, 0) not in got and ("b", 4, len(nul) - 1) in got


def test_chars_counted_in_bulk_are_each_texts_characters():
    """The builder counts the chars field's postings for a whole segment at once: each folded
    character, the documents holding it and how often, in term order (NUL and characters beyond
    the BMP included)."""
    from collections import Counter

    from search.text.analysis import fold

    texts = ["統合作戦司令部の部", "", "あ", "ああ", "a\0b", "𠮷野家の𠮷", "ＡＩとAI"]
    chars = writer._Chars()
    for doc, text in enumerate(texts):
        assert chars.add(doc, fold(text)) == len(fold(text))
    built = chars.sorted()
    starts = built.starts.tolist()
    got = [
        (name, built.docs[a:b].tolist(), built.weights[a:b].tolist(), None)
        for name, a, b in zip(built.names, starts, starts[1:])
    ]
    counted = [Counter(fold(text)) for text in texts]
    expected = [
        (
            char,
            [doc for doc, found in enumerate(counted) if char in found],
            [found[char] for found in counted if char in found],
            None,
        )
        for char in sorted(set("".join(map(fold, texts))))
    ]
    assert got == expected
    assert ("部", [0], [2], None) in got and ("a", [4, 6], [1, 2], None) in got


def test_chunks_come_in_rounds_of_equal_size():
    """Documents are cut into chunks of at most about segment_mb, as many as a multiple of the
    workers and of about equal size: no worker is left alone with a last, big chunk."""
    from types import SimpleNamespace

    documents = [SimpleNamespace(size=1_000_000) for _ in range(100)]
    chunks = writer._chunks(documents, procs=2, segment_mb=12)
    assert [len(chunk) for chunk in chunks] == [10] * 10
    assert [number for chunk in chunks for number, _ in chunk] == list(range(100))
    small = [SimpleNamespace(size=1000) for _ in range(3)]
    assert [len(chunk) for chunk in writer._chunks(small, procs=2, segment_mb=12)] == [2, 1]
    assert [len(chunk) for chunk in writer._chunks(small, procs=1, segment_mb=12)] == [3]


def test_chunks_after_the_first_round_are_handed_out_the_most_work_first(tmp_path):
    """After a chunk a worker, the chunks are handed out the most work first (lines of text
    count: a paragraph is work beyond its bytes), so that the last handed out are the least and
    the workers finish about together; the segments keep the documents' order all the same."""
    from search.ingest.paragraphs import LINE_WORK, indexing_work

    folder = tmp_path / "docs"
    folder.mkdir()
    lines = {"a.txt": 1, "b.txt": 1, "c.txt": 3, "d.txt": 40, "e.txt": 10}  # of about 600 bytes
    sizes = {}
    for name, count in lines.items():
        text = ("猫が鳴く。" * (40 // count) + "\n") * count
        (folder / name).write_text(text, encoding="utf-8")
        sizes[name] = len(text.encode("utf-8"))
    documents = scan(folder).documents
    assert {document.source: indexing_work(document) for document in documents} == {
        name: sizes[name] + LINE_WORK * count for name, count in lines.items()
    }
    chunks = [[(number, document)] for number, document in enumerate(documents)]
    assert writer._most_work_first(chunks, range(2, 5), indexing_work) == [3, 4, 2]
    assert writer._most_work_first(chunks, range(2, 5), None) == [2, 3, 4]

    summary = writer.write_index(
        tmp_path / "ix", documents, read_document, procs=2, segment_mb=1e-6, work=indexing_work
    )
    assert summary.paragraphs == 55
    with _open(tmp_path / "ix").searcher() as searcher:
        sources = [fields["source"] for fields in searcher.all_stored_fields()]
    assert sources == ["a.txt", "b.txt"] + ["c.txt"] * 3 + ["d.txt"] * 40 + ["e.txt"] * 10


def test_the_work_of_a_document_not_read_as_lines_is_its_size(tmp_path):
    from search.ingest.discovery import DocumentFile
    from search.ingest.paragraphs import indexing_work

    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(b"%PDF-1.4\n\n\n\n")
    assert indexing_work(DocumentFile(str(pdf), "a.pdf", 12, 0)) == 12
    gone = DocumentFile(str(tmp_path / "gone.txt"), "gone.txt", 34, 0)
    assert indexing_work(gone) == 34
