"""Ranking: the paragraphs a query's hits are chosen from, in order.

- `shard`: what one open index (a shard of a collection) finds for a query, in the collection's
  terms: its best distinct paragraphs, the soft AND's counts and shares, stored fields, places;
- `shards`: the shards as the coordinator calls them (here: one after another);
- `scope`: a search's filters and order, made each shard's own scope;
- `gathering`: a query's document frequencies gathered over the shards, kept per generation;
- `ranking`: the coordinator: the candidates of a keyword query or a question merged from the
  shards' and decided on the whole collection's figures;
- `definitions`: the forms in which a text defines a term (a definition question's answers);
- `rerank`: the candidates reordered by how well each answers.
"""
