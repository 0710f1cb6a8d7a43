"""Index: paragraphs stored on disk, in Whoosh's files with kensaku's own codec.

- `schema`: the fields of a paragraph's document and the terms each indexes;
- `codec/`: the bytes of the terms dictionary, the postings and the stored column, a module each,
  written and read side by side (and the adapters Whoosh's own searcher reads them through);
- `writer`: segments written in bulk by worker processes, from documents read by the function
  the build hands it;
- `directory`: the names of what an index directory holds;
- `manifest`: the `Manifest`, which generation is live and what it was built from;
- `generations`: the writer's lock, generation folders, their sealing and removal;
- `changes`: stamps and digests, whether an index is current and what changed;
- `opening`: the live index opened, damage turned into one line;
- `build`: the build and update of an index from its documents folder (`build_index`,
  `update_index`, `ensure_index`);
- `shards`: a sharded index: its manifest naming the shards, a shard opened, its damage;
- `sharding`: a sharded index built and updated shard by shard (a job each, run here or by a
  cluster).
"""
