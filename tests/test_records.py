"""index.records: a generation's synonym groups and vocabulary gathered segment by segment while
its segments are written are the files made from the finished generation, byte for byte."""

from __future__ import annotations

from pathlib import Path

from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, open_dir

from search.index import writer
from search.index.records import GenerationRecords
from search.index.schema import WORDS
from search.index.vocabulary import VOCABULARY_FILE, record_vocabulary
from search.ingest.discovery import scan
from search.ingest.paragraphs import read_document
from search.text.synonym_groups import SYNONYM_GROUPS_FILE, write_synonym_groups

# 上手 is read ジョウズ in the first document and カミテ in the second: the vocabulary keeps the
# reading of the first segment that has one. 統合作戦司令部, once in each of two documents, is a
# phrase of two paragraphs, read from its words.
TEXTS = {
    "a.txt": "上手に話す。\n\n統合作戦司令部の発足が決まった。\n",
    "b.txt": "相手の上手を行く。\n\n統合作戦司令部は東京に置かれる。\n",
    "c.txt": "在日米軍の運用権限はどう変わるのか。\n\n日米同盟の強化が話し合われた。\n",
    "d.txt": "汽車が停車場に着いた。\n\n自分の心を見つめる。\n",
}
EVERY_DOCUMENT_ITS_OWN_CHUNK = 1e-6  # segment_mb: chunks of about a byte


def _documents(folder: Path, texts: dict[str, str]):
    folder.mkdir(exist_ok=True)
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    return scan(folder).documents


def _records_made_afresh(path: Path) -> tuple[bytes, bytes]:
    """The vocabulary and synonym groups of the finished generation in `path`, made from it as
    a whole (what a build wrote before records were gathered segment by segment)."""
    record_vocabulary(path)
    with open_dir(str(path)).reader() as reader:
        words = [term.decode("utf-8") for term in reader.lexicon(WORDS)]
    write_synonym_groups(words, path)
    return _files(path)


def _files(path: Path) -> tuple[bytes, bytes]:
    return (path / VOCABULARY_FILE).read_bytes(), (path / SYNONYM_GROUPS_FILE).read_bytes()


def _entry(path: Path, text: str) -> list[str]:
    """The vocabulary file's line of `text`: folded text, text, reading, paragraphs."""
    for line in (path / VOCABULARY_FILE).read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if fields[1] == text:
            return fields
    raise AssertionError(f"{text} is not in the vocabulary")


def test_records_gathered_while_the_workers_write_are_those_of_the_finished_generation(tmp_path):
    documents = _documents(tmp_path / "docs", TEXTS)
    path = tmp_path / "ix"
    records = GenerationRecords(path)
    writer.write_index(
        path,
        documents,
        read_document,
        procs=2,
        segment_mb=EVERY_DOCUMENT_ITS_OWN_CHUNK,
        sideline=records,
    )
    paragraphs = records.write()
    gathered = _files(path)

    assert paragraphs == 8
    assert len(TOC.read(FileStorage(str(path)), "MAIN").segments) == 4
    assert _entry(path, "上手")[2:] == ["ジョウズ", "2"]
    assert _entry(path, "統合作戦司令部")[2:] == ["トウゴウサクセンシレイブ", "2"]
    assert gathered == _records_made_afresh(path)


def test_chunks_written_in_any_order_give_their_words_the_readings_of_the_first(tmp_path):
    documents = _documents(tmp_path / "docs", TEXTS)
    path = tmp_path / "ix"
    writer.write_index(
        path, documents, read_document, procs=1, segment_mb=EVERY_DOCUMENT_ITS_OWN_CHUNK
    )
    segments = TOC.read(FileStorage(str(path)), "MAIN").segments
    records = GenerationRecords(path)
    for chunk in (1, 3, 0, 2):  # 上手 read カミテ is added before 上手 read ジョウズ
        records.segments_written(chunk, [segments[chunk]])
        assert records.work()
    assert not records.work()
    # The readings went in in the generation's order, not started again at the end.
    assert records._vocabulary.segment_ids == [segment.segment_id() for segment in segments]
    records.write()

    assert _entry(path, "上手")[2] == "ジョウズ"
    assert _files(path) == _records_made_afresh(path)


def test_records_of_an_update_that_drops_a_segment_already_added_start_again(tmp_path):
    folder = tmp_path / "docs"
    documents = _documents(folder, {"a.txt": TEXTS["a.txt"]})
    path = tmp_path / "ix"
    writer.write_index(path, documents, read_document, procs=1)
    records = GenerationRecords.continuing(path)
    assert records.work()  # the live segment, holding 上手 read ジョウズ
    changed = _documents(folder, {"a.txt": TEXTS["b.txt"]})
    writer.add_to_index(path, changed, read_document, procs=1, sideline=records)
    paragraphs = records.write()

    # The update replaced the segment's every paragraph: the segment went, and its words with it.
    assert paragraphs == 2
    assert _entry(path, "上手")[2:] == ["カミテ", "1"]
    assert "話す" not in (path / VOCABULARY_FILE).read_text(encoding="utf-8")
    assert _files(path) == _records_made_afresh(path)
