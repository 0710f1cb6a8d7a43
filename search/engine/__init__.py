"""Engine: the postings of an open index read, scored and matched.

- `postings`: terms looked up once per segment, and the paragraphs a query is restricted to;
- `figures`: what BM25F needs of the whole collection (one index's own, or a sharded
  collection's: counts and lengths summed, a query's document frequencies gathered);
- `bm25`: BM25F scores of a term's postings a block at a time or in bulk (a question's first
  stage);
- `matching`: a keyword plan's matches and scores, term and phrase at a time, equal to the
  scores Whoosh's own matchers give.
"""
