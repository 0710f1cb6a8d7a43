"""search.index.codec: kensaku's own codec answers Whoosh's searcher as W3 does, pickles into
the TOC, its block reader gives the very postings W3's does, its stored fields are W3's, and
kensaku's fast path scores on it as Whoosh does on W3 (real Sudachi, real indexes on disk; W3
indexes by Whoosh's own writer)."""

from __future__ import annotations

import pickle
import random
from bisect import bisect_right
from pathlib import Path

import pytest
from whoosh import query as q
from whoosh.index import TOC, create_in, open_dir

from search.engine import bm25, matching, postings
from search.index import codec as compact
from search.index.codec import CompactCodec, CompactFormatError, posting_list
from search.index.codec.postings import CompactTermInfo
from search.index.codec.stored import STORED_MAGIC
from search.index.codec.terms import TermsWriter
from search.index.codec.whoosh import CompactTermsReader
from search.index.schema import paragraph_fields, schema
from search.index.writer import Layout, SegmentBuilder
from search.ingest.discovery import scan
from search.ingest.paragraphs import read_paragraphs

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
COPIES = 3  # the seeds thrice (sources renamed), so that frequent terms span several blocks
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
    "の",
]


@pytest.fixture(scope="module")
def fields():
    """Index documents: the seeds' paragraphs, COPIES times with distinct sources."""
    paragraphs = [p for d in scan(SEEDS).documents for p in read_paragraphs(d)]
    found = []
    for copy in range(COPIES):
        for paragraph in paragraphs:
            doc = paragraph_fields(paragraph)
            doc["source"] = f"{doc['source']}#{copy}"
            found.append(doc)
    return found


def _whoosh_index(path: Path, docs, codec=None) -> Path:
    path.mkdir()
    ix = create_in(str(path), schema())
    writer = ix.writer(codec=codec, compound=False) if codec else ix.writer(compound=False)
    for doc in docs:
        writer.add_document(**doc)
    writer.commit()
    return path


@pytest.fixture(scope="module")
def w3(tmp_path_factory, fields):
    return _whoosh_index(tmp_path_factory.mktemp("w3") / "ix", fields)


@pytest.fixture(scope="module")
def compact_ix(tmp_path_factory, fields):
    return _whoosh_index(tmp_path_factory.mktemp("compact") / "ix", fields, CompactCodec())


@pytest.fixture(scope="module")
def bulk_ix(tmp_path_factory, fields):
    """The same documents through search.engine.builder's SegmentBuilder (the index's path)."""
    path = tmp_path_factory.mktemp("bulk") / "ix"
    path.mkdir()
    ix = create_in(str(path), schema())
    builder = SegmentBuilder(ix.storage, ix.schema, layout=Layout(compound=False))
    for doc in fields:
        builder.add_document(doc)
    TOC(ix.schema, [builder.finish()], 1).write(ix.storage, ix.indexname)
    return path


def _search(path: Path, query, limit=None):
    with open_dir(str(path)).searcher() as searcher:
        return [
            (hit["source"], hit["paragraph"], hit.score)
            for hit in searcher.search(query, limit=limit)
        ]


def _queries():
    from search.query.parser import parse
    from search.query.plan import to_whoosh

    everything = lambda field, term: True  # noqa: E731 - every term "exists"
    found = [to_whoosh(parse(text).tree, everything) for text in QUERIES]
    found += [
        q.Term("words", "司令部"),
        q.Term("grams", "の"),
        q.Term("readings", "ニ"),
        q.Term("source", "000_9ac1f42681134e70.txt#1"),
        q.Phrase("grams", ["日米", "米同", "同盟"]),
        q.Phrase("words", ["日米", "同盟"]),
        q.Phrase("subwords", ["の", "ため"]),
        q.And([q.Term("words", "の"), q.Term("words", "日本")]),
        q.Or([q.Term("words", "韓国"), q.Term("grams", "北海"), q.Term("context", "ニュース")]),
        q.And([q.Term("words", "の"), q.Not(q.Term("words", "日本"))]),
        q.AndNot(q.Term("readings", "ノ"), q.Term("grams", "日本")),
        q.Or(
            [
                q.Phrase("words", ["日米", "同盟"]),
                q.And([q.Term("words", "の"), q.Term("grams", "韓国")]),
            ]
        ),
        q.Prefix("words", "日"),
        q.Term("words", "存在しない語"),
    ]
    return found


@pytest.mark.parametrize("built", ["compact_ix", "bulk_ix"])
def test_whoosh_searcher_same_paragraphs_and_scores(request, w3, built):
    other = request.getfixturevalue(built)
    for query in _queries():
        expected = _search(w3, query)
        assert _search(other, query) == expected, query
        assert _search(other, query, limit=5) == _search(w3, query, limit=5), query
    assert any(len(_search(w3, query)) > 200 for query in _queries())


def test_bulk_and_whoosh_writer_write_the_same_bytes(compact_ix, bulk_ix):
    for ext in (CompactCodec.TERMS_EXT, CompactCodec.POSTS_EXT, "._stored.col"):
        (a,) = compact_ix.glob("*" + ext)
        (b,) = bulk_ix.glob("*" + ext)
        assert a.read_bytes() == b.read_bytes()


def test_codec_pickles_into_the_toc_and_open_dir_uses_it(compact_ix, fields):
    codec = CompactCodec(compression=5)
    again = pickle.loads(pickle.dumps(codec))
    assert type(again) is CompactCodec and again._compression == 5
    ix = open_dir(str(compact_ix))
    (segment,) = ix._segments()
    assert type(segment.codec()) is CompactCodec
    with ix.reader() as reader:
        assert type(reader._terms) is CompactTermsReader
        assert reader.doc_count_all() == len(fields)
        pickle.loads(pickle.dumps(segment))  # still picklable once read from
    assert not list(compact_ix.glob("*.trm")) and not list(compact_ix.glob("*.pst"))


def test_an_index_updated_by_whoosh_keeps_working(tmp_path, fields):
    """Whoosh's writer adds a segment and merges with the codec (reads it back through it)."""
    built = {}
    for name, codec in (("compact", CompactCodec()), ("w3", None)):
        path = _whoosh_index(tmp_path / name, fields[:100], codec)
        ix = open_dir(str(path))
        writer = ix.writer(codec=codec) if codec else ix.writer()
        for doc in fields[100:200]:
            writer.add_document(**doc)
        writer.commit(optimize=True)
        built[name] = path
    assert type(open_dir(str(built["compact"]))._segments()[0].codec()) is CompactCodec
    for query in _queries():
        assert _search(built["compact"], query) == _search(built["w3"], query), query


def _terms(reader):
    return [(field, term) for (field, term), _ in reader._terms.items()]


def test_terms_and_term_infos_equal_w3s(w3, compact_ix):
    with open_dir(str(w3)).reader() as old, open_dir(str(compact_ix)).reader() as new:
        terms = _terms(old)
        assert _terms(new) == terms
        for field, term in terms:
            a, b = old.term_info(field, term), new.term_info(field, term)
            assert (
                a.weight(),
                a.doc_frequency(),
                a.min_length(),
                a.max_length(),
                a.max_weight(),
                a.min_id(),
                a.max_id(),
            ) == (
                b.weight(),
                b.doc_frequency(),
                b.min_length(),
                b.max_length(),
                b.max_weight(),
                b.min_id(),
                b.max_id(),
            ), (field, term)
        for field, prefix in [("words", "日"), ("grams", "の"), ("source", "0"), ("zzz", "")]:
            if field in old.schema:
                assert list(new.expand_prefix(field, prefix)) == list(
                    old.expand_prefix(field, prefix)
                )
        assert list(new.lexicon("context")) == list(old.lexicon("context"))
        assert ("words", "存在しない語") not in new and ("words", "日本") in new


def test_block_reader_gives_w3s_postings(w3, compact_ix):
    with open_dir(str(w3)).reader() as old, open_dir(str(compact_ix)).reader() as new:
        multi = 0
        for field, term in _terms(old):
            positional = compact.field_kind(new.schema[field]) == compact.POSITIONS
            expected = _w3_postings(old, field, term, positional)
            plist = posting_list(new, field, new._terms.term_info(field, term))
            multi += plist.nblocks > 1
            got = []
            for block in plist.blocks(values=True):
                assert block.docnums[-1] == plist.lasts[len(got) // compact.BLOCK]
                values = block.values if block.values is not None else [None] * len(block.docnums)
                got += zip(block.docnums, block.weights, values)
            assert [(d, w) for d, w, _ in got] == [(d, w) for d, w, _ in expected]
            if positional:
                assert [p for _, _, p in got] == [p for _, _, p in expected], (field, term)
        assert multi > 20


def _w3_postings(reader, field: str, term: bytes, positional: bool) -> list[tuple]:
    """(docnum, weight, positions or None) of a term, as Whoosh's W3 matcher reads them."""
    found, matcher = [], reader.postings(field, term)
    while matcher.is_active():
        positions = matcher.value_as("positions") if positional else None
        found.append((matcher.id(), matcher.weight(), positions))
        matcher.next()
    return found


def test_block_reader_skips_blocks_without_wanted_documents(compact_ix):
    with open_dir(str(compact_ix)).reader() as reader:
        info = reader._terms.term_info("words", "の".encode())
        plist = posting_list(reader, "words", info)
        assert plist.nblocks >= 3
        everything = [d for block in plist.blocks() for d in block.docnums]
        among = [everything[-1]]
        (block,) = plist.blocks(among=among)
        assert block.docnums[-1] == everything[-1] and block.values is None
        assert list(plist.blocks(among=[everything[-1] + 1])) == []
        wanted = everything[::300]
        given = [d for block in plist.blocks(among=wanted) for d in block.docnums]
        assert set(wanted) <= set(given) and len(given) < len(everything)


def test_matcher_skips_like_w3s(w3, compact_ix):
    with open_dir(str(w3)).reader() as old, open_dir(str(compact_ix)).reader() as new:
        a, b = old.postings("words", "の"), new.postings("words", "の")
        for target in (0, 3, 150, 151, 300, 500, 640):
            a.skip_to(target) if a.is_active() else None
            b.skip_to(target) if b.is_active() else None
            assert a.is_active() == b.is_active()
            if a.is_active():
                assert (a.id(), a.weight(), a.value_as("positions"), a.block_max_id()) == (
                    b.id(),
                    b.weight(),
                    b.value_as("positions"),
                    b.block_max_id(),
                )
                assert b.value() == old.schema["words"].format.encode(a.value_as("positions"))


@pytest.mark.parametrize("seed", range(40))
def test_postings_round_trip(seed):
    """encode_postings and PostingList on random lists: any kind, wide docnums and positions,
    float weights, value bytes."""
    rnd = random.Random(seed)
    kind = rnd.choice([compact.POSITIONS, compact.FREQUENCY, compact.EXISTENCE, compact.VALUES])
    count = rnd.choice([1, 2, 127, 128, 129, 300, 1000])
    top = rnd.choice([1200, 70_000, 5_000_000_000])
    docs = sorted(rnd.sample(range(top), count))
    weights = [rnd.choice([1, 1, 2, 7, 300]) for _ in docs]
    if kind == compact.VALUES and seed % 2:
        weights = [w + 0.5 for w in weights]
    positions, values = [], []
    for w in weights:
        n = int(w) if kind == compact.POSITIONS else 0
        positions += sorted(rnd.sample(range(rnd.choice([n, 100_000, 3_000_000_000])), n))
        values.append(bytes(rnd.randrange(256) for _ in range(rnd.randrange(5))))
    lbs = bytes(rnd.randrange(256) for _ in docs)
    data, stats = compact.encode_postings(
        kind, docs, None if kind == compact.EXISTENCE else weights, positions, values, lbs
    )
    info = CompactTermInfo(stats, 0, len(data))
    plist = compact.PostingList(data, info, kind)
    blocks = list(plist.blocks(values=True))
    assert [d for b in blocks for d in b.docnums] == docs
    assert plist.lasts[-1] == docs[-1] and stats.df == count
    if kind != compact.EXISTENCE:
        assert [w for b in blocks for w in b.weights] == weights
    if kind == compact.POSITIONS:
        assert [p for b in blocks for ps in b.values for p in ps] == positions
    if kind == compact.VALUES:
        assert [v for b in blocks for v in b.values] == values


def test_damaged_files_raise_a_format_error(tmp_path, fields):
    path = _whoosh_index(tmp_path / "ix", fields[:30], CompactCodec())
    (terms,) = path.glob("*.ktm")
    terms.write_bytes(terms.read_bytes()[:-3])
    with pytest.raises(CompactFormatError):
        open_dir(str(path)).reader()
    docs = list(range(0, 3000, 7))
    positions = [p * 37 for p in range(len(docs) * 2)]
    data, stats = compact.encode_postings(
        compact.POSITIONS, docs, [2] * len(docs), positions, None, None
    )
    info = CompactTermInfo(stats, 0, len(data))
    assert [
        p
        for b in compact.PostingList(data, info, compact.POSITIONS).blocks(values=True)
        for ps in b.values
        for p in ps
    ] == positions
    for damaged in (data[:-9], data[:40] + bytes(30) + data[70:]):
        with pytest.raises(CompactFormatError):
            plist = compact.PostingList(damaged, info, compact.POSITIONS)
            for block in plist.blocks(values=True):
                list(block.values)


def _fast_path(path: Path):
    from search.query.parser import parse
    from search.query.plan import question_terms, to_whoosh

    found = {}
    with open_dir(str(path)).searcher() as searcher:
        reader = searcher.reader()
        statistics = bm25.Statistics(searcher)
        for text in QUERIES + ["日米 -同盟", '"の 日本"', "しない"]:
            tree = to_whoosh(parse(text).tree, lambda field, term: (field, term) in reader)
            found[text] = matching.match(searcher, tree, statistics)
        question = parse("日本で梅雨がないのは北海道とどこか。").tree
        found["question"] = bm25.score_any(
            searcher, question_terms(question), statistics=statistics
        )
        few = postings.Wanted(set(range(0, len(found["question"]) * 3, 41)))
        found["among"] = bm25.score_any(
            searcher, question_terms(question), among=few, statistics=statistics
        )
    return found


def _whoosh_scores(path: Path):
    """What Whoosh's own searcher finds and scores on the same queries (among: by filtering)."""
    from whoosh.scoring import BM25F

    from search.query.parser import parse
    from search.query.plan import to_whoosh

    found = {}
    with open_dir(str(path)).searcher(weighting=BM25F()) as searcher:
        reader = searcher.reader()
        for text in QUERIES + [
            "日米 -同盟",
            '"の 日本"',
            "しない",
            "日本で梅雨がないのは北海道とどこか。",
        ]:
            tree = to_whoosh(parse(text).tree, lambda field, term: (field, term) in reader)
            key = "question" if text.endswith("。") else text
            found[key] = {hit.docnum: hit.score for hit in searcher.search(tree, limit=None)}
    few = set(range(0, len(found["question"]) * 3, 41))
    found["among"] = {d: s for d, s in found["question"].items() if d in few}
    return found


def test_kensaku_fast_path_on_it_scores_as_whoosh_does_on_w3(w3, bulk_ix):
    """Scores equal to a float's rounding, but for one-character queries: a prefix's scores
    vary by segment in Whoosh (search.engine.matching's docstring)."""
    expected = _whoosh_scores(w3)
    got = _fast_path(bulk_ix)
    for key in expected:
        if key in ("の", "部"):
            assert set(got[key]) == set(expected[key]), key
            continue
        assert set(got[key]) == set(expected[key]), key
        assert got[key] == pytest.approx(expected[key], rel=1e-6), key
    assert sum(map(len, expected.values())) > 1000


def test_block_positions_one_posting_or_all():
    docs = list(range(0, 400, 3))
    weights = [1 + d % 4 for d in docs]
    positions = [p for w in weights for p in range(w * 5, w * 5 + w * 300, 300)]
    data, stats = compact.encode_postings(compact.POSITIONS, docs, weights, positions, None, None)
    plist = compact.PostingList(data, CompactTermInfo(stats, 0, len(data)), compact.POSITIONS)
    for number in range(plist.nblocks):
        alone = plist.block(number).values
        every = plist.block(number).values
        assert [alone[i] for i in range(len(alone))] == list(every)
        assert alone[-1] == every[-1]


def test_other_formats_and_float_weights_as_w3(tmp_path):
    """Fields this codec stores as Whoosh's value bytes (a boosted Positions field, characters)
    and Frequency fields, with weights that are not integers, score as on W3."""
    from whoosh import fields as f

    chosen = f.Schema(
        boosted=f.TEXT(field_boost=1.5, phrase=True),
        chars=f.TEXT(chars=True),
        counted=f.KEYWORD(scorable=True),
        name=f.ID(stored=True),
    )
    lines = [
        line
        for path in sorted(SEEDS.glob("*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    built = {}
    for label, codec in (("w3", None), ("compact", CompactCodec())):
        path = tmp_path / label
        path.mkdir()
        writer = (
            create_in(str(path), chosen).writer(codec=codec)
            if codec
            else create_in(str(path), chosen).writer()
        )
        for number, line in enumerate(lines * 2):
            ascii_words = " ".join(w for w in line.replace("、", " ").split() if w.isascii())
            writer.add_document(
                boosted=line,
                chars=line,
                name=f"{number}",
                counted=" ".join([ascii_words] * (1 + number % 3)) or "none",
            )
        writer.commit()
        built[label] = path
    with open_dir(str(built["w3"])).reader() as reader:
        words = [t for t in reader.lexicon("counted")][:30]
        texts = [t for t in reader.lexicon("boosted")][:40]
    queries = [q.Term("counted", w.decode()) for w in words]
    queries += [q.Term("boosted", t.decode()) for t in texts]
    queries += [
        q.Or([q.Term("boosted", a.decode()), q.Term("chars", b.decode())])
        for a, b in zip(texts, texts[5:])
    ]
    analyzer = chosen["boosted"].analyzer
    phrases = [
        words[:3]
        for words in ([t.text for t in analyzer(line)] for line in lines)
        if len(words) >= 3
    ][:20]
    queries += [q.Phrase(field, words) for words in phrases for field in ("boosted", "chars")]
    assert len(queries) > 100
    found = 0
    for query in queries:
        with (
            open_dir(str(built["w3"])).searcher() as a,
            open_dir(str(built["compact"])).searcher() as b,
        ):
            expected = [(h["name"], h.score) for h in a.search(query, limit=None)]
            assert [(h["name"], h.score) for h in b.search(query, limit=None)] == expected
            found += isinstance(query, q.Phrase) and len(expected) > 0
    assert found >= 20  # phrases that match, in both VALUES fields
    with open_dir(str(built["compact"])).reader() as reader:
        kinds = {name: field.kind for name, field in reader._terms._fields.items()}
    assert kinds["boosted"] == kinds["chars"] == compact.VALUES
    assert kinds["counted"] == compact.FREQUENCY


# Stored fields ---------------------------------------------------------------------------------


def _stored(path: Path) -> list[dict]:
    with open_dir(str(path)).reader() as reader:
        return [reader.stored_fields(docnum) for docnum in range(reader.doc_count_all())]


@pytest.mark.parametrize("built", ["compact_ix", "bulk_ix"])
def test_stored_fields_equal_w3s(request, w3, built, fields):
    path = request.getfixturevalue(built)
    expected = _stored(w3)
    assert len(expected) == len(fields) and expected[0]["source"].endswith("#0")
    got = _stored(path)
    assert got == expected
    assert [list(d) for d in got] == [list(d) for d in expected]  # the keys in W3's order
    with open_dir(str(path)).searcher() as searcher:  # Whoosh's searcher: hits' stored fields
        hits = searcher.search(q.Term("grams", "司令"), limit=None)
        assert len(hits) > 10
        assert [hit.fields() for hit in hits] == [expected[hit.docnum] for hit in hits]
        assert [searcher.stored_fields(d) for d in range(len(expected) - 1, -1, -5)] == expected[
            ::-1
        ][::5]  # read backwards: blocks decoded again
    (column,) = path.glob("*._stored.col")
    data = column.read_bytes()
    assert data[:4] == data[-4:] == STORED_MAGIC
    assert len(data) < 0.5 * sum(p.stat().st_size for p in w3.glob("*._stored.col"))
    with open_dir(str(path)).reader() as reader:
        stored = reader._perdoc._cached_reader("_stored", compact.STORED_COLUMN)
        assert isinstance(stored, compact.StoredColumn.Reader)
        assert len(stored._starts) > 4  # several blocks


def _column(values: dict, doccount: int, column=None):
    """A stored column in memory: `values` docnum -> dict; its reader and its bytes."""
    from whoosh.filedb.filestore import RamStorage

    column = column or compact.STORED_COLUMN
    storage = RamStorage()
    f = storage.create_file("c")
    writer = column.writer(f)
    for docnum in sorted(values):
        writer.add(docnum, values[docnum])
    writer.finish(doccount)
    f.close()
    data = bytes(storage.open_file("c").read())
    return column.reader(storage.open_file("c"), 0, len(data), doccount), data


def test_stored_column_round_trip():
    rng = random.Random(5)
    values = {}
    for docnum in range(3, 3000):
        if rng.random() < 0.1:
            continue  # a document without stored fields
        names = rng.sample(["a", "b", "c", "d", "e", "f", "g", "h", "i"], rng.randrange(0, 5))
        values[docnum] = {
            n: rng.choice(
                [
                    None,
                    rng.randrange(-5, 10**12),
                    1.5,
                    (1, "x"),
                    "本文" * rng.randrange(0, 300),
                    "東京" + n,
                ]
            )
            for n in names
        }
    reader, _ = _column(values, 3100, compact.StoredColumn(block_size=4096))
    assert len(reader._starts) > 10
    expected = [values.get(d) or None for d in range(3100)]
    assert [reader[d] for d in range(3100)] == expected
    assert list(reader) == expected
    for d in rng.sample(range(3100), 300):
        assert reader[d] == expected[d]
    with pytest.raises(IndexError):
        reader[3100]
    empty, data = _column({}, 5)
    assert [empty[d] for d in range(5)] == [None] * 5 and len(data) == 20
    # More tuples of names than a block holds (256): a block ends at the 257th.
    shaped = {d: {f"f{d}": d, "g": "x"} for d in range(600)}
    reader, _ = _column(shaped, 600, compact.StoredColumn(block_size=1 << 30))
    assert list(reader._starts) == [0, 256, 512, 600]
    assert list(reader) == [shaped[d] for d in range(600)]
    assert type(pickle.loads(pickle.dumps(compact.STORED_COLUMN))) is compact.StoredColumn


def test_damaged_stored_fields_raise_a_format_error(tmp_path, fields):
    docs = {d: {"source": f"s{d // 40}", "text": "本文の段落。" * (d % 50)} for d in range(2000)}
    reader, data = _column(docs, 2000)
    assert len(reader._starts) > 3 and reader[1999] == docs[1999]
    from whoosh.filedb.filestore import RamStorage

    def read(damaged: bytes):
        storage = RamStorage()
        f = storage.create_file("c")
        f.write(damaged)
        f.close()
        column = compact.STORED_COLUMN.reader(storage.open_file("c"), 0, len(damaged), 2000)
        return [column[d] for d in range(0, 2000, 7)]

    assert read(data)[1] == docs[7]
    first_block_end = reader._offsets[1]
    for damaged in (
        data[:-3],  # the trailer cut
        data[: first_block_end - 9] + data[-30:],  # a block cut (and the directory)
        data[:40] + bytes(40) + data[80:],  # a block's bytes overwritten
        data[: first_block_end // 2] + b"\xff" * 5 + data[first_block_end // 2 + 5 :],
        data[:-14] + b"\x09" + data[-13:],
    ):  # the directory's last offset
        with pytest.raises(CompactFormatError):
            read(damaged)
    # On disk: an index whose stored column lost its end, read through Whoosh's reader.
    path = _whoosh_index(tmp_path / "ix", fields[:60], CompactCodec())
    (column,) = path.glob("*._stored.col")
    column.write_bytes(column.read_bytes()[:-40])
    with pytest.raises(CompactFormatError), open_dir(str(path)).reader() as reader:
        reader.stored_fields(0)


@pytest.mark.parametrize("seed", range(4))
def test_sorted_tokens_encode_as_items_do(tmp_path, seed):
    """write_postings' bulk path (a field's occurrences as sorted numpy arrays) writes the bytes
    its term-by-term path does: terms of one posting, of one block and of several, positions
    above 2**15, frequencies above 1, with and without length bytes."""
    import numpy
    from whoosh.codec.whoosh3 import W3Segment
    from whoosh.filedb.filestore import FileStorage

    rng = random.Random(seed)
    doccount = 700
    occurrences = []  # (term, doc, position)
    for doc in range(doccount):
        for position in sorted(rng.sample(range(40_000 if doc % 50 == 0 else 300), 30)):
            occurrences.append(
                (rng.choice(["の", "人"] + [f"t{rng.randrange(400)}"] * 3), doc, position)
            )
    occurrences.sort(key=lambda o: o[0])  # stable: by document, then position, within a term
    names = sorted({term for term, _, _ in occurrences})
    rank = {name: i for i, name in enumerate(names)}
    tokens = compact.SortedTokens(
        names,
        *(
            numpy.array(column, numpy.uint32)
            for column in (
                [rank[t] for t, _, _ in occurrences],
                [d for _, d, _ in occurrences],
                [p for _, _, p in occurrences],
            )
        ),
    )
    assert max(len({d for t, d, _ in occurrences if t == "の"}), 0) > compact.BLOCK
    items = []
    for name in names:
        mine = [(d, p) for t, d, p in occurrences if t == name]
        docs = sorted({d for d, _ in mine})
        weights = [sum(1 for d, _ in mine if d == doc) for doc in docs]
        items.append((name, docs, None if max(weights) == 1 else weights, [p for _, p in mine]))
    lengths = bytes(rng.randrange(1, 256) for _ in range(doccount))
    written = []
    for label, postings in (("items", items), ("tokens", tokens)):
        storage = FileStorage(str(tmp_path / label)).create()
        segment = W3Segment(CompactCodec(), "MAIN")
        compact.write_postings(
            storage,
            segment,
            [("a", compact.POSITIONS, lengths, postings), ("b", compact.POSITIONS, None, postings)],
        )
        written.append(
            [
                (tmp_path / label / (segment.make_filename(ext))).read_bytes()
                for ext in (CompactCodec.TERMS_EXT, CompactCodec.POSTS_EXT)
            ]
        )
    assert written[0] == written[1]


def _decoded_info(field, term: bytes):
    """The term's info from its whole block, decoded (as items_from and term_run read it)."""
    b = bisect_right(field.firsts, term) - 1
    return None if b < 0 else field._in_block(field._decode(b), term)


def _same_info(a, b) -> bool:
    return (a is None and b is None) or (
        a is not None and b is not None and (a.stats(), a.extent()) == (b.stats(), b.extent())
    )


def test_a_lookup_in_an_undecoded_block_gives_the_decoded_blocks_info(compact_ix):
    # A lookup reads only what it needs of a block not decoded yet (the common case).
    with open_dir(str(compact_ix)).reader() as reader:
        for name, field in reader._terms._fields.items():
            for b in range(len(field.firsts)):
                terms = field._decode(b).terms
                absent = [terms[0] + b"\x00", terms[-1] + b"\xff", terms[0][:-1] + b"\x00"]
                for term in terms + absent:
                    _forget(field)
                    assert _same_info(field.find(term), _decoded_info(field, term)), (name, term)
                    _forget(field)
                    assert (field.find(term) is not None) == (term in terms)
                    assert b not in field.cache  # nothing decoded whole


def _forget(field) -> None:
    """Forget the field's blocks decoded so far."""
    field.cache.clear()


def test_terms_sharing_prefixes_longer_than_a_prefix_length_holds(tmp_path):
    # Shared prefixes are stored up to 255 bytes: such a block is compared term by term.
    from whoosh.filedb.filestore import FileStorage

    storage = FileStorage(str(tmp_path))
    writer = TermsWriter(storage.create_file("t.ktm"), storage.create_file("t.kps"))
    writer.start_field("words", compact.FREQUENCY)
    long = b"x" * 300
    terms = sorted({long + bytes([c]) for c in range(97, 123)} | {b"a", b"b", long[:254] + b"y"})
    for docnum, term in enumerate(terms):
        encoded, stats = compact.encode_postings(
            compact.FREQUENCY, [docnum], [2], None, None, bytes([5])
        )
        writer.add(term, encoded, stats)
    writer.close()
    reader = CompactTermsReader(
        CompactCodec(),
        storage.open_file("t.ktm"),
        storage.file_length("t.ktm"),
        storage.open_file("t.kps"),
    )
    field = reader._fields["words"]
    for docnum, term in enumerate(terms):
        _forget(field)
        assert reader.term_info("words", term).min_id() == docnum
    for term in (long, long + b"{", long[:254] + b"z", b"c"):
        _forget(field)
        assert field.find(term) is None
    reader.close()


@pytest.mark.parametrize("seed", range(3))
def test_packed_arrays_one_at_a_time_and_in_bulk(seed):
    """codec.packed writes and reads an array of any width (0 to 64 bits, items past the first
    byte plane in 1-, 2- and 4-bit planes), one item alone too, and doubles; codec.packing writes
    many at once with numpy, byte for byte, and reads arrays of one count at once."""
    import numpy

    from search.index.codec import packing
    from search.index.codec.packed import pack, pack_numbers, packed_item, packed_size, unpack

    rnd = random.Random(seed)
    arrays = []
    for _ in range(300):
        width = rnd.randrange(65)
        count = rnd.choice([1, 2, 7, 8, 9, 127, 128])
        arrays.append([rnd.randrange(1 << width) if width else 0 for _ in range(count)])
    for items in arrays:
        data = b"?" + pack(items) + b"?"
        found, end = unpack(data, 1, len(items))
        assert list(found) == items and end == len(data) - 1 == 1 + packed_size(data[1], len(items))
        plus, _ = unpack(data, 1, len(items), plus_one=True)
        assert list(plus) == [item + 1 for item in items]
        i = rnd.randrange(len(items))
        assert packed_item(data, 1, len(items), i) == (items[i], end)
    doubles = pack_numbers([0.5, 2, 3.25])
    assert list(unpack(doubles, 0, 3)[0]) == [0.5, 2, 3.25]
    assert packed_item(doubles, 0, 3, 2) == (3.25, len(doubles))
    # In bulk, laid out in another order than given.
    values = numpy.array([v for items in arrays for v in items], numpy.uint64)
    counts = numpy.array([len(items) for items in arrays])
    widths = packing.widths(values, counts)
    sizes = packing.packed_sizes(widths, counts)
    order = list(range(len(arrays)))
    rnd.shuffle(order)
    offsets = numpy.empty(len(arrays), numpy.int64)
    offsets[order] = numpy.cumsum(sizes[order]) - sizes[order]
    out = numpy.zeros(int(sizes.sum()), numpy.uint8)
    packing.scatter(out, values, counts, widths, offsets)
    assert out.tobytes() == b"".join(pack(arrays[i]) for i in order)
    full = [i for i, items in enumerate(arrays) if len(items) == 128]
    rows = packing.gather(out, offsets[full], 128)
    assert rows.tolist() == [arrays[i] for i in full]


def test_terms_alone_are_the_terms_of_the_items(compact_ix):
    """A lexicon reads the terms alone (the front coding of blocks not decoded yet): the same
    terms, from any prefix, as with their infos, decoded blocks or not."""
    with open_dir(str(compact_ix)).reader() as reader:
        terms = reader._terms
        for name, field in terms._fields.items():
            everything = [term for term, _ in field.items_from(b"")]
            assert len(everything) > 1
            for prefix in (b"", everything[len(everything) // 2], everything[-1] + b"\x00"):
                _forget(field)
                expected = [term for term, _ in field.items_from(prefix)]
                assert list(field.terms_from(prefix)) == expected  # decoded blocks
                _forget(field)
                assert list(field.terms_from(prefix)) == expected  # none decoded
        assert list(terms.terms()) == [key for key, _ in terms.items()]


def test_an_empty_analyzed_field_first_in_a_segment_holds_no_other_fields_terms(tmp_path):
    """The builder shares one analysis among the fields of one text, told apart by identity:
    before any text was analyzed, an empty context was taken for the last text analyzed."""
    path = tmp_path / "ix"
    path.mkdir()
    ix = create_in(str(path), schema())
    builder = SegmentBuilder(ix.storage, ix.schema, layout=Layout(compound=False))
    builder.add_document({"source": "a.txt#1", "context": "", "words": "東京の天気"})
    builder.add_document({"source": "a.txt#2", "context": "天気", "words": "大阪"})
    TOC(ix.schema, [builder.finish()], 1).write(ix.storage, ix.indexname)
    with open_dir(str(path)).searcher() as searcher:
        reader = searcher.reader()
        assert [term.decode() for term in reader.lexicon("context")] == ["天気"]
        assert list(reader.postings("context", "天気").all_ids()) == [1]
        assert list(reader.postings("words", "天気").all_ids()) == [0]
