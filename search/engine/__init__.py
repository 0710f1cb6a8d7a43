"""The engine: kensaku's own index writing, posting reading, scoring and matching, on Whoosh's files.

What Whoosh still does: the storage and its files, the table of contents (which segments make
the index, pickled with the schema and each segment's codec), each segment's stored fields,
columns, field-length columns and term index (its hash table), `open_dir`, and its own searcher,
queries and matchers, which open every index kensaku writes and which the tests hold kensaku's
results against.

What kensaku does itself:
- `builder`: writes segments in bulk, a segment's inverted index gathered in memory in worker
  processes, instead of Whoosh's writer (~14 µs of Python a token);
- `format`: the bytes of the posting lists and term infos, written and read: the one module that
  knows them;
- `postings`: terms looked up once per segment, and the paragraphs a query is restricted to;
- `bm25`: BM25F scores a term's postings a block at a time (a question's first stage);
- `matching`: a keyword plan's matches and scores, term and phrase at a time, with Whoosh's scores.
"""
